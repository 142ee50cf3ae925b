"""Records for the scoring and listing tests: ingest rows (``rec``) fed through the real validation
(``feed``), and bare effective records (``r``) for the scoring functions, read at a day's 23:00
(``at``)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from socialcredit.ledger import Record
from socialcredit.service import System
from tests.conftest import org, person

P, ORG = person(31), org(31)
"""``r``'s subject unless told, and the one organisation it knows as one."""
_ids = itertools.count()


def rec(
    n: int, subject: str, item: str, source: str, occurred: str, reported: str | None = None, **kw: Any
) -> tuple[int, dict[str, Any]]:
    return n, {
        "subject": subject,
        "item": item,
        "source": source,
        "source_record_id": f"{source}-{n}",
        "occurred_on": occurred,
        "reported_at": reported or occurred + "T12:00:00",
        **kw,
    }


def feed(system: System, *rows: tuple[int, dict[str, Any]]) -> None:
    result = system.ingest(list(rows), origin="test", principal=system.operator())
    assert result.accepted == len(rows), result.quarantine


def r(item: str, occurred: str, reported: str | None = None, subject: str = P) -> Record:
    """A bare effective record (the scoring functions read nothing else)."""
    day = dt.date.fromisoformat(occurred)
    at = dt.datetime.fromisoformat(reported) if reported else dt.datetime.combine(day, dt.time(12))
    return Record(
        record_id=f"r{next(_ids)}", seq=0, subject=subject, item=item, source="court",
        subject_kind="organisation" if subject == ORG else "person",
        source_record_id=f"s{next(_ids)}", occurred_on=day, reported_at=at,
    )  # fmt: skip


def at(day: str) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(23, 0))


def red_light(subject: str, srid: str, occurred: str) -> dict[str, Any]:
    """A traffic police camera's red-light record (730 days counting, 730 more of archive): the
    erasure tests' record, old enough to be erased or young enough to count."""
    return {
        "subject": subject,
        "item": "traffic.red-light",
        "source": "traffic-police",
        "source_record_id": srid,
        "occurred_on": occurred,
        "reported_at": f"{occurred}T12:00:00",
        "evidence": "camera 7",
    }
