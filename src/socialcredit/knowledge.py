"""Knowledge time: what the system knew at a moment, and the receipt that names it.

Two time axes run through every answer. *Valid time* is when a thing happened or applies (a
record's ``occurred_on`` and ``reported_at``, the day a list entry runs from, the moment ``T``
a question is asked about). *Knowledge time* is when the system knew it: the moment it received a
record (``received_at``), appended a case event or a registry entry (their ``at``), never a date
the source supplies. An answer for valid time ``T`` as known at ``K`` reads only what had been
received by ``K`` (a correction received later is not known at ``K``).

Why positions as well as a moment: the three chains (records, registry, cases) are append-only
and numbered, so "the first *n* entries of each" names exactly what an answer was computed from,
even where two entries share a second. A decision's :class:`Receipt` keeps those positions, with
the content hash of each scheme file in force, so the same answer can be computed again from
them at any later moment (``check --receipt``, ``GET /decisions/{id}``).

>>> k = Known(at=dt.datetime(2025, 7, 1), records=10)
>>> k.knows(dt.datetime(2025, 6, 30), 10, k.records), k.knows(dt.datetime(2025, 7, 2), 3, k.records)
(True, False)
>>> k.knows(None, 11, k.records), k.knows(None, 11, k.cases)
(False, True)
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Known:
    """What counts as known: entries received at or before ``at`` and within each chain's first
    ``records`` / ``registry`` / ``cases`` positions (``None``: no bound on that axis)."""

    at: dt.datetime | None = None
    records: int | None = None
    registry: int | None = None
    cases: int | None = None

    def knows(self, received: dt.datetime | None, seq: int, bound: int | None) -> bool:
        """Whether an entry received at ``received`` at position ``seq`` of a chain whose known
        positions end at ``bound`` (one of this object's three, ``None`` for no bound) was known."""
        if bound is not None and seq > bound:
            return False
        return self.at is None or received is None or received <= self.at

    @property
    def bounded(self) -> bool:
        return self.at is not None or any(b is not None for b in (self.records, self.registry, self.cases))


@dataclass(frozen=True, slots=True)
class Receipt:
    """What one decision was computed from: its id, the valid time asked about and the knowledge
    time it was answered at, the three chains' positions then, and the content hash of each
    scheme file in force (by scheme id). Kept in the decision's audit entry."""

    decision_id: str
    as_of: dt.datetime
    known_at: dt.datetime
    records: int
    registry: int
    cases: int
    schemes: Mapping[str, str] = field(default_factory=dict)

    def known(self) -> Known:
        """The knowledge this receipt names: exactly the chains' entries up to its positions."""
        return Known(None, self.records, self.registry, self.cases)

    def to_json(self) -> dict[str, Any]:
        return {
            "decision_id": self.decision_id,
            "as_of": self.as_of.isoformat(timespec="microseconds"),
            "known_at": self.known_at.isoformat(timespec="microseconds"),
            "positions": {"records": self.records, "registry": self.registry, "cases": self.cases},
            "schemes": dict(self.schemes),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Receipt:
        pos = data["positions"]
        return cls(
            data["decision_id"],
            dt.datetime.fromisoformat(data["as_of"]),
            dt.datetime.fromisoformat(data["known_at"]),
            int(pos["records"]),
            int(pos["registry"]),
            int(pos["cases"]),
            dict(data.get("schemes", {})),
        )


def decision_id() -> str:
    """A new decision's id: ``dec-`` and 16 random hex digits (a microsecond to make)."""
    return "dec-" + secrets.token_hex(8)
