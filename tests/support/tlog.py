"""Chains with entries in each of the four logs, for the transparency log's tests."""

from __future__ import annotations

from socialcredit.dueprocess.cases import CaseEvent
from socialcredit.service import System
from socialcredit.service.decisions import Question
from socialcredit.subjects import SubjectRow
from tests.conftest import person

P, Q = person(17), person(18)
"""The records' subject, and the case events' (apart, so P's decisions fold no case)."""
LOGS = ("records", "audit", "cases", "registry")


def fill(system: System, n: int, *, start: int = 0) -> None:
    """Append ``n`` entries (about) to each chain through its real append path: registrations,
    an ingest of records about ``P`` (with its own audit entry), decisions, case events."""
    system.register([SubjectRow(person(100 + start + i), "person") for i in range(n)])
    rows = [
        (i, {"subject": P, "item": "traffic.minor", "source": "traffic-police",
             "source_record_id": f"v-{start + i}", "occurred_on": "2026-04-01", "evidence": f"photo {i}"})
        for i in range(n)
    ]  # fmt: skip
    assert system.ingest(rows, origin="test", principal=system.operator()).accepted == n
    for i in range(n - 1):
        system.check(Question(P, "no-flights", system.operator(), purpose=f"ticket {start + i}"))
    for i in range(n):
        system.store.append_case_event(
            CaseEvent(f"obj-{start + i}", "objection", "filed", system.clock(), Q, None, None, {"n": i})
        )
