"""The registry is a history (issue 17, point 2): a legal representative's term has a start and an
end, and a listing through an organisation falls on whoever represented it on each day.

The rule quoted: the Supreme People's Court's Provisions on Publishing Information on the List of
Dishonest Judgment Debtors, Art. 2, as ../shared/DOMAIN.md gives it: "the list ... shall include
... for a legal person or other organisation, its name, unified social credit code, and the name
of its legal representative or person in charge". A person is that only while in office.
Held on SQLite and PostgreSQL (the ``system`` fixture), and on DuckDB through a real export.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import text

from socialcredit import subjects as sj
from socialcredit.engines.base import lists_path, rescore
from socialcredit.engines.duck import DuckDBEngine
from socialcredit.engines.export import export_ledger
from socialcredit.lists import ListEntry
from socialcredit.rules import days
from socialcredit.service import Question, System
from socialcredit.subjects import RegistryEntry, SubjectRow, Tenure
from tests.conftest import Clock, org, person

LIST = "court-dishonest-debtors/dishonest-debtors"
ORG, A, B = org(71), person(71), person(72)
GROUND_1 = "court.dishonest.able-but-refuses"


def court_listed(system: System, clock: Clock) -> None:
    """ORG registered in 2024 with A (in office since 2020) and listed by a court on 2024-03-01
    on ground (1), which has no fixed period; from 2025-01-01 B represents it instead."""
    clock.now = dt.datetime(2024, 1, 2, 2, 0)
    system.register([SubjectRow(A, "person"), SubjectRow(B, "person")])
    system.register([SubjectRow(ORG, "organisation", "Rongcheng Steel", None, None, A, dt.date(2020, 1, 1))])
    clock.now = dt.datetime(2024, 3, 1, 4, 0)
    row = {
        "subject": ORG,
        "item": GROUND_1,
        "source": "court",
        "source_record_id": "zhi-2024-1",
        "occurred_on": "2024-03-01",
    }
    result = system.ingest([(1, row)], origin="court", principal=system.operator())
    assert result.accepted == 1, result
    clock.now = dt.datetime(2025, 1, 10, 2, 0)
    changed = SubjectRow(ORG, "organisation", "Rongcheng Steel", None, None, B, dt.date(2025, 1, 1))
    assert system.register([changed]) == (0, 1, 0)
    clock.now = dt.datetime(2025, 6, 1, 4, 0)


def listed(system: System, code: str, as_of: dt.datetime | None = None) -> list[ListEntry]:
    return [e for e in system.view(code, as_of).entries if e.qualified_id == LIST]


def test_a_listing_through_an_organisation_falls_on_who_represented_it_each_day(
    system: System, clock: Clock
) -> None:
    court_listed(system, clock)
    [former] = listed(system, A)
    assert (former.via, former.since, former.ended_on) == (ORG, dt.date(2024, 3, 1), dt.date(2025, 1, 1))
    assert former.status == "removed"
    assert former.end_reason == f"no longer the legal representative of {ORG} from 2025-01-01"
    [current] = listed(system, B)
    assert (current.via, current.since, current.ended_on, current.status) == (
        ORG,
        dt.date(2025, 1, 1),
        None,
        "active",
    )
    # before B took office, B was listed nowhere, and A was (the past is not rewritten)
    before = dt.datetime(2024, 6, 1, 4, 0)
    assert listed(system, B, before) == []
    [then] = listed(system, A, before)
    assert then.status == "active" and then.via == ORG
    # at the point of service: the airline's answer follows the same days
    operator = system.operator()
    assert system.check(Question(A, "no-flights", operator, purpose="ticket")).allowed
    assert not system.check(Question(B, "no-flights", operator, purpose="ticket")).allowed
    assert not system.check(Question(A, "no-flights", operator, purpose="ticket", at=before)).allowed


def test_the_registry_is_a_hash_chain_that_verify_checks(system: System, clock: Clock) -> None:
    court_listed(system, clock)
    history = system.store.registry_history(ORG)
    assert [e.row.legal_representative for e in history] == [A, B]
    assert system.store.head("registry")[0] == 4  # A, B, ORG, and ORG's change
    assert system.verify()["registry"] == []
    assert system.store.terms(organisation=ORG) == [
        Tenure(ORG, A, dt.date(2020, 1, 1), dt.date(2025, 1, 1), 3, 4),
        Tenure(ORG, B, dt.date(2025, 1, 1), None, 4),
    ]
    with system.store.engine.begin() as conn:  # rewrite history behind the application's back
        conn.execute(
            text("UPDATE registry SET sealed = (SELECT sealed FROM registry WHERE seq = 3) WHERE seq = 4")
        )
    [problem] = system.verify()["registry"]
    assert problem.seq == 4


def test_duckdb_follows_the_same_history(system: System, clock: Clock, tmp_path: Path) -> None:
    court_listed(system, clock)
    export_ledger(system.store, tmp_path / "export")
    court = [system.registry.scheme("court-dishonest-debtors")]
    out = tmp_path / "scores.parquet"
    engine = DuckDBEngine()
    try:
        as_of = clock.now
        rescore(engine, tmp_path / "export", system.registry.scored(), as_of, out, list_schemes=court)
    finally:
        engine.close()
    rows = [r for r in pq.read_table(lists_path(out)).to_pylist() if r["list"] == LIST]
    got = sorted(
        (r["subject"], r["via"], r["since"], r["ended_on"], r["status"], r["end_reason"]) for r in rows
    )
    want = sorted(
        (e.subject, e.via, e.since, e.ended_on, e.status, e.end_reason)
        for code in (ORG, A, B)
        for e in listed(system, code)
    )
    assert got == want


def day(at: dt.datetime) -> dt.date:
    return days.day_of(at)


def entry(seq: int, rep: str | None, since: str | None, received: str) -> RegistryEntry:
    start = dt.date.fromisoformat(since) if since else None
    at = dt.datetime.fromisoformat(received)
    return RegistryEntry(seq, at, SubjectRow(ORG, "organisation", None, None, None, rep, start))


@pytest.mark.parametrize(
    ("history", "want"),
    [
        # first registration without a start: as far back as the registry knows
        ([entry(1, A, None, "2024-01-02T02:00")], [Tenure(ORG, A, None, None, 1)]),
        # a change without a start begins on the day (in China) it was received
        (
            [entry(1, A, "2020-01-01", "2024-01-02T02:00"), entry(2, B, None, "2025-01-09T17:00")],
            [
                Tenure(ORG, A, dt.date(2020, 1, 1), dt.date(2025, 1, 10), 1, 2),
                Tenure(ORG, B, dt.date(2025, 1, 10), None, 2),
            ],
        ),
        # the same person with another start corrects the start; no representative ends the term
        (
            [
                entry(1, A, "2020-01-01", "2024-01-02T02:00"),
                entry(2, A, "2019-06-01", "2024-02-02T02:00"),
                entry(3, None, None, "2024-05-05T02:00"),
            ],
            [Tenure(ORG, A, dt.date(2019, 6, 1), dt.date(2024, 5, 5), 1, 3)],
        ),
        # a representative appearing later (none at first registration) begins when received
        (
            [entry(1, None, None, "2024-01-02T02:00"), entry(2, A, None, "2024-03-03T02:00")],
            [Tenure(ORG, A, dt.date(2024, 3, 3), None, 2)],
        ),
    ],
)
def test_terms_are_folded_from_the_registry_history(history: list[RegistryEntry], want: list[Tenure]) -> None:
    assert sj.tenures(ORG, history, day) == want
