"""Records and principals for the due-process tests: ingest rows reported at 10:00 on their day
(``rec``), fed through the real validation (``feed``, which returns their record ids), and the
principal of a fresh key of a role (``key``)."""

from __future__ import annotations

from typing import Any

from socialcredit import access
from socialcredit.service import System


def rec(n: int, subject: str, item: str, source: str, day: str, **kw: Any) -> tuple[int, dict[str, Any]]:
    return n, {
        "subject": subject,
        "item": item,
        "source": source,
        "source_record_id": f"{source}-{n}",
        "occurred_on": day,
        "reported_at": day + "T10:00:00",
        **kw,
    }


def feed(system: System, *rows: tuple[int, dict[str, Any]]) -> list[str]:
    result = system.ingest(list(rows), origin="test", principal=system.operator())
    assert result.accepted == len(rows), result.quarantine
    return [system.store.stored_record_id(r["source"], r["source_record_id"]) for _n, r in rows]


def key(system: System, role: str, principal: str | None) -> access.Principal:
    return system.authenticate(system.create_key(role, principal).token)  # type: ignore[arg-type]
