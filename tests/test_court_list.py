"""The court's list of dishonest judgment debtors by its provisions (issue 16, point 1; scheme
version 2, decision 0028), each rule quoted from the Supreme People's Court's Provisions on
Publishing Information on the List of Dishonest Judgment Debtors (2013, amended 2017) as
../shared/DOMAIN.md gives them, on the per-subject walk, on DuckDB (the random histories of
``tests/test_engines_windows.py`` hold DuckDB and Spark to the walk on many more cases, and
``tests/test_sim_parity.py`` the simulator), and where storage is involved on SQLite and
PostgreSQL. Days are days in China Standard Time, calendar years those of the Civil Code."""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from socialcredit import i18n
from socialcredit.dueprocess.calendar import add_working_days
from socialcredit.engines.duck import DuckDBEngine
from socialcredit.engines.ops import IBIS
from socialcredit.ledger import Record
from socialcredit.lists import ListEntry, entries_for
from socialcredit.rules import days, kernel
from socialcredit.rules.ops import PY
from socialcredit.schemes import shipped_registry, titles
from socialcredit.schemes.loader import parse_scheme
from socialcredit.schemes.model import Scheme
from socialcredit.service import Question, System
from socialcredit.sim.ops import NP
from tests.conftest import Clock, person
from tests.support.engines import entry_row, list_rows
from tests.support.portal import client_for

REGISTRY = shipped_registry()
COURT = REGISTRY.scheme("court-dishonest-debtors")
LIST = "court-dishonest-debtors/dishonest-debtors"
P = person(81)
AS_OF = dt.datetime(2026, 12, 6, 4, 0)
GROUND_1 = "court.dishonest.able-but-refuses"
FIXED = [
    "court.dishonest.obstructs-enforcement",
    "court.dishonest.evades-enforcement",
    "court.dishonest.breaks-asset-reporting",
    "court.dishonest.breaks-spending-restriction",
    "court.dishonest.refuses-settlement",
]
ART_10 = [
    "court.fulfilment.performed",
    "court.fulfilment.settlement-performed",
    "court.fulfilment.creditor-request",
    "court.removal.no-assets-found",
    "court.removal.enforcement-suspended",
    "court.removal.not-to-enforce",
    "court.removal.enforcement-ended",
]
EARLY, EXTEND = "court.decision.early-removal", "court.decision.extension"


def rec(n: int, item: str, occurred: str, reported: str | None = None, **details: Any) -> Record:
    """A court record of ``P``: reported at 10:00 in China on the day it occurred, unless told."""
    on = dt.date.fromisoformat(occurred)
    at = dt.datetime.fromisoformat(reported) if reported else days.start_of(on) + dt.timedelta(hours=10)
    return Record(f"r{n}", P, "person", item, "court", f"c-{n}", on, at, details=details, seq=n)


def entries(*records: Record, as_of: dt.datetime = AS_OF) -> list[ListEntry]:
    return [e for e in entries_for(P, list(records), REGISTRY, as_of) if e.qualified_id == LIST]


# ----------------------------------------------------------------------------- days and years


def test_days_are_counted_in_china_standard_time() -> None:
    """Issue 16: "Days, working days and calendar years are counted in China Standard Time
    (Asia/Shanghai)". The kernel's day of a moment is the tz database's, on every hour of the
    years its offset changed and on random moments, on Python, NumPy and DuckDB alike."""
    zone = zoneinfo.ZoneInfo("Asia/Shanghai")
    rng = random.Random(16)
    moments = [
        dt.datetime(y, 1, 1) + dt.timedelta(hours=h) for y in range(1986, 1992) for h in range(0, 8784, 1)
    ]
    moments += [
        dt.datetime(1949, 10, 1) + dt.timedelta(seconds=rng.randrange(3_600_000_000)) for _ in range(20_000)
    ]
    want = [m.replace(tzinfo=dt.UTC).astimezone(zone).date() for m in moments]
    assert [days.day_of(m) for m in moments] == want
    seconds = np.array([days.seconds(m) for m in moments])
    numbers = [(d - days.EPOCH_DAY).days for d in want]
    assert np.asarray(kernel.local_day(seconds, days.china(), NP)).tolist() == numbers
    import ibis

    engine = DuckDBEngine()
    try:
        t = ibis.memtable({"at": moments[::50]})
        got = engine.to_arrow(
            t.select(d=kernel.local_day(t.at.epoch_seconds().cast("int64"), days.china(), IBIS))
        )
        assert got.column("d").to_pylist() == numbers[::50]
    finally:
        engine.close()
    # 07:00 on 1 March 2024 in Beijing is stored as 23:00 UTC on 29 February: reported on 1 March
    [e] = entries(rec(1, GROUND_1, "2024-03-01", "2024-02-29T23:00:00"))
    assert e.since == dt.date(2024, 3, 1)
    assert days.start_of(dt.date(2024, 3, 1)) == dt.datetime(2024, 2, 29, 16, 0)


def test_calendar_years_end_on_the_corresponding_day() -> None:
    """Art. 2: "for grounds (2) to (6) the listing lasts 2 years (calendar years, from the listing
    decision)". Counted as the Civil Code of the PRC counts a period in years (Art. 201: the day
    it starts from is not counted; Art. 202: it ends on the corresponding day of its last year,
    or the last day of that month where there is none), the same on Python, NumPy and DuckDB for
    every day of two centuries."""
    first = dt.date(1949, 10, 1)
    span = [first + dt.timedelta(days=k) for k in range(0, 73_000, 3)] + [dt.date(2024, 2, 29)]

    def corresponding(d: dt.date, n: int) -> dt.date:
        try:
            return d.replace(year=d.year + n)
        except ValueError:  # 29 February in a year without one: the last day of February
            return d.replace(year=d.year + n, day=28)

    import ibis

    engine = DuckDBEngine()
    try:
        for n in (1, 2, 3, 5):
            want = [corresponding(d, n) + dt.timedelta(days=1) for d in span]
            assert [dt.date.fromordinal(kernel.period_end(d.toordinal(), n, PY)) for d in span] == want
            got_np = kernel.period_end(np.array([d.toordinal() for d in span]), n, NP)
            assert [dt.date.fromordinal(int(x)) for x in got_np] == want
            epoch = days.EPOCH_DAY
            t = ibis.memtable({"d": [(d - epoch).days for d in span[::7]]})
            got = engine.to_arrow(t.select(e=kernel.period_end(t.d, n, IBIS, epoch.toordinal())))
            assert [epoch + dt.timedelta(days=x) for x in got.column("e").to_pylist()] == want[::7]
    finally:
        engine.close()


# ----------------------------------------------------------------------------- Art. 2 and Art. 10


def test_ground_1_has_no_fixed_period() -> None:
    """Art. 2: "Ground (1) has no fixed period: the debtor stays listed until a removal ground of
    Art. 10." Listed in 2020, still listed at the end of 2026; the court's early removal of a
    fixed period (Art. 2) does not end it, and no extension decision extends it."""
    [e] = entries(
        rec(1, GROUND_1, "2020-05-11"),
        rec(2, EARLY, "2021-01-04"),
        rec(3, EXTEND, "2021-02-01", extension_years=3),
    )
    assert (e.status, e.since, e.planned_end, e.ended_on, e.extended_by) == (
        "active", dt.date(2020, 5, 11), None, None, None
    )  # fmt: skip
    assert e.active_on(dt.date(2026, 12, 6)) and e.until is None


@pytest.mark.parametrize("n,item", list(enumerate(ART_10, start=1)))
def test_each_removal_ground_of_art_10_removes_a_ground_1_listing(n: int, item: str) -> None:
    """Art. 10: removal "within 3 working days of any of: (1) all obligations performed; (2) an
    enforcement settlement reached and performed; (3) the creditor's written request, approved
    by the court; (4) after the present enforcement round ended, two or more searches of the
    online asset system found no assets and no lead was given; (5) enforcement suspended by
    retrial supervision or bankruptcy; (6) a ruling not to enforce; (7) a ruling ending
    enforcement." Each is an item with its legal basis, and each removes a listing on ground (1)."""
    assert COURT.item_index[item].legal_basis.endswith(f"Art. 10({n})")  # type: ignore[union-attr]
    [e] = entries(rec(1, GROUND_1, "2024-05-06"), rec(2, item, "2026-03-05"))  # a Thursday
    assert (e.status, e.ended_on, e.ended_by) == ("removed", dt.date(2026, 3, 5), "r2")
    assert e.removal_due == dt.date(2026, 3, 10) and e.days_late == 0  # Thursday + 3 working days


@pytest.mark.parametrize("ground", FIXED)
def test_grounds_2_to_6_run_two_calendar_years_from_the_decision(ground: str) -> None:
    """Art. 2: "for grounds (2) to (6) the listing lasts 2 years (calendar years, from the listing
    decision)": from the ground record's own date, not from when it was reported; in force
    through the corresponding day two years on (a decision of 29 February through 28 February)."""
    reported_late = rec(1, ground, "2024-02-29", "2024-06-03T02:00:00")
    [e] = entries(reported_late)
    assert (e.since, e.planned_end, e.status) == (dt.date(2024, 6, 3), dt.date(2026, 3, 1), "expired")
    assert e.active_on(dt.date(2026, 2, 28)) and not e.active_on(dt.date(2026, 3, 1))
    [e] = entries(rec(1, ground, "2025-03-01"))
    assert (e.planned_end, e.status) == (dt.date(2027, 3, 2), "active")  # through 1 March 2027


def test_art_10_grounds_do_not_apply_to_a_fixed_period_which_the_court_may_end_early() -> None:
    """Art. 10: "Where a listing has a fixed period these grounds do not apply: the court deletes
    the listing within 3 working days after the period ends (or earlier by its Art. 2
    decision)." Art. 2: "A debtor who performs or corrects the conduct may be removed early by
    the court's decision." Performance leaves the listing in force; the court's decision ends it."""
    listed = rec(1, "court.dishonest.evades-enforcement", "2025-06-02")
    [e] = entries(listed, rec(2, "court.fulfilment.performed", "2025-09-01"))
    assert e.status == "active" and e.ended_on is None
    [e] = entries(listed, rec(2, "court.fulfilment.performed", "2025-09-01"), rec(3, EARLY, "2025-10-02"))
    assert (e.status, e.ended_on, e.end_reason) == (
        "removed",
        dt.date(2025, 10, 2),
        f"fulfilled: {EARLY} (r3)",
    )
    assert e.removal_due == dt.date(2025, 10, 7)  # Thursday + 3 working days (no holidays configured)


def test_an_extension_is_the_courts_decision_once_by_1_to_3_years() -> None:
    """Art. 2: "Where violence or threats were serious, or there are several dishonest acts, the
    court may extend it by 1 to 3 years." By the years the court's decision states, once, from
    the listing decision's date; a further ground does not extend it (version 1 extended by a
    year for each); an extension decision after the period ended extends nothing."""
    listed = rec(1, "court.dishonest.obstructs-enforcement", "2024-02-29")
    further = rec(2, "court.dishonest.evades-enforcement", "2024-05-06")
    [e] = entries(listed, further)
    assert e.planned_end == dt.date(2026, 3, 1) and e.grounds == ("r1", "r2")
    [e] = entries(
        listed,
        further,
        rec(3, EXTEND, "2025-01-06", extension_years=2),
        rec(4, EXTEND, "2025-02-03", extension_years=3),
    )
    assert (e.planned_end, e.extended_by) == (dt.date(2028, 3, 1), "r3")  # 29 Feb 2024 + 4 years: 29 Feb 2028
    [e] = entries(listed, rec(3, EXTEND, "2026-03-02", extension_years=3))
    assert (e.planned_end, e.extended_by, e.status) == (dt.date(2026, 3, 1), None, "expired")


def test_removal_is_due_within_3_working_days_of_its_own_ground_or_of_the_expiry() -> None:
    """Art. 10: "within 3 working days of any of" its grounds; "the court deletes the listing
    within 3 working days after the period ends". The deadline runs from the removal ground's
    own date (its record's ``occurred_on``), not from when the record arrived: a performance on
    Friday 30 October reported on 10 November was due by Wednesday 4 November, 6 days late."""
    [e] = entries(
        rec(1, GROUND_1, "2026-03-02"), rec(2, "court.fulfilment.performed", "2026-10-30", "2026-11-10T02:00")
    )
    assert (e.ended_on, e.removal_due, e.days_late) == (dt.date(2026, 11, 10), dt.date(2026, 11, 4), 6)
    [e] = entries(rec(1, "court.dishonest.refuses-settlement", "2024-01-10"))  # last day Sat 10 Jan 2026
    assert (e.status, e.removal_due, e.days_late) == ("expired", dt.date(2026, 1, 14), 0)
    assert e.removal_due == add_working_days(dt.date(2026, 1, 10), 3)


SPRING_FESTIVAL_2026 = """
# State Council notice on the holidays of 2026: the Spring Festival
2026-02-15
2026-02-16
2026-02-17
2026-02-18
2026-02-19
2026-02-20
2026-02-21
2026-02-22
2026-02-23
2026-02-14 working  # a Saturday worked in place of a holiday
2026-02-28 working
"""


def test_working_days_across_the_spring_festival_count_the_weekend_days_worked() -> None:
    """Art. 10: removal "within 3 working days of" its ground. Working days in China are Monday
    to Friday less the public holidays, and the weekend days worked in their place: for the
    Spring Festival of 2026 (15 to 23 February off), Saturday 14 February was a working day. A
    performance on Friday 13 February is due off the list by Wednesday 25 February (14, 24, 25),
    not Thursday 26 (the holidays file could not say a Saturday was worked). The same on DuckDB;
    a holidays file that says it wrongly is refused, naming the line."""
    from socialcredit.dueprocess.calendar import WorkingCalendar
    from socialcredit.engines.listing import working_calendar
    from socialcredit.errors import Refused

    calendar = WorkingCalendar.parse(SPRING_FESTIVAL_2026)
    holidays = calendar.holidays
    assert calendar.is_working_day(dt.date(2026, 2, 14)) and not calendar.is_working_day(dt.date(2026, 2, 16))
    history = [rec(1, GROUND_1, "2025-03-03"), rec(2, "court.fulfilment.performed", "2026-02-13")]
    [e] = [e for e in entries_for(P, history, REGISTRY, AS_OF, holidays=holidays) if e.qualified_id == LIST]
    assert (e.ended_on, e.removal_due) == (dt.date(2026, 2, 13), dt.date(2026, 2, 25))
    table = working_calendar(holidays, AS_OF, [(COURT, COURT.lists[0])]).to_pylist()
    numbered = {days.EPOCH_DAY + dt.timedelta(days=r["day"]): r for r in table}
    assert numbered[dt.date(2026, 2, 25)]["working_no"] - numbered[dt.date(2026, 2, 13)]["working_no"] == 3
    assert numbered[dt.date(2026, 2, 14)]["working"] and not numbered[dt.date(2026, 2, 21)]["working"]
    for wrong, says in [
        ("2026-02-13 working", "is a weekday"),
        ("2026-02-14 off", "only 'working' may follow"),
        ("2026-02-14\n2026-02-14 working", "both a holiday and a working day"),
    ]:
        with pytest.raises(Refused, match=says):
            WorkingCalendar.parse(wrong)


def test_the_rules_are_the_same_on_duckdb() -> None:
    """Every history of this module's rules, derived relationally (``engines.listing``), gives the
    per-subject walk's entries, field for field."""
    import pyarrow as pa

    from socialcredit import ledger
    from socialcredit.engines import relational
    from socialcredit.engines.listing import REPRESENTATIVE_SCHEMA, population_listing, working_calendar
    from socialcredit.engines.suspending import OBJECTION_SCHEMA

    obstructs, evades, paid = FIXED[0], FIXED[1], ART_10[0]
    histories = [
        [rec(1, GROUND_1, "2020-05-11"), rec(2, EARLY, "2021-01-04"),
         rec(3, EXTEND, "2021-02-01", extension_years=3)],
        [rec(1, obstructs, "2024-02-29"), rec(2, evades, "2024-05-06"),
         rec(3, EXTEND, "2025-01-06", extension_years=2), rec(4, EXTEND, "2025-02-03", extension_years=3)],
        [rec(1, evades, "2025-06-02"), rec(2, paid, "2025-09-01"), rec(3, EARLY, "2025-10-02")],
        [rec(1, GROUND_1, "2026-03-02"), rec(2, paid, "2026-10-30", "2026-11-10T02:00"),
         rec(3, FIXED[4], "2024-02-29", "2024-06-03T02:00:00")],
        [rec(1, GROUND_1, "2024-03-01", "2024-02-29T23:00:00"),
         rec(2, EXTEND, "2026-03-02", extension_years=3)],
    ]  # fmt: skip
    engine = DuckDBEngine()
    try:
        for history in histories:
            want = sorted(
                (entry_row(e, {r.record_id: r.item for r in history}) for e in entries(*history)), key=repr
            )
            rec_t = pa.Table.from_pylist(
                [{"seq": r.seq, "record_id": r.record_id, "subject": r.subject, "item": r.item,
                  "occurred_on": r.occurred_on, "reported_at": r.reported_at, "action": "report",
                  "subject_no": 1, "details": ledger.canonical_details(r.details)} for r in history],
                schema=relational.RECORD_SCHEMA,
            )  # fmt: skip
            lists = [(COURT, COURT.lists[0])]
            expr = population_listing(
                engine.table(rec_t, "records"),
                engine.table(pa.Table.from_pylist([], schema=REPRESENTATIVE_SCHEMA), "representatives"),
                lists,
                AS_OF,
                calendar=engine.table(working_calendar(frozenset(), AS_OF, lists), "calendar"),
                objections=engine.table(pa.Table.from_pylist([], schema=OBJECTION_SCHEMA), "objections"),
            )
            assert list_rows(engine, expr) == want
    finally:
        engine.close()


def test_a_corrected_listing_is_the_listing_it_corrects() -> None:
    """Art. 10: removal "within 3 working days of any of: (1) all obligations performed; ...";
    Art. 2: "for grounds (2) to (6) the listing lasts 2 years (calendar years, from the listing
    decision)". A court's correction of its listing record (a case number mistyped, the decision's
    date) corrects that listing; it is no new listing decision. It re-listed a debtor who had
    performed (active again from the day the correction arrived) and restarted a listing's days
    from it. A correction now takes its report's place in the walk: the removal still ends the
    listing, the listing is in force from when it was first reported, and its period runs from
    the corrected decision date. The same on DuckDB."""
    import pyarrow as pa

    from socialcredit import ledger
    from socialcredit.engines import relational
    from socialcredit.engines.listing import REPRESENTATIVE_SCHEMA, population_listing, working_calendar
    from socialcredit.engines.suspending import OBJECTION_SCHEMA

    def fix(n: int, of: str, item: str, occurred: str, reported: str, **details: Any) -> Record:
        r = rec(n, item, occurred, reported, **details)
        return Record(r.record_id, P, "person", item, "court", r.source_record_id, r.occurred_on,
                      r.reported_at, action="correct", corrects=of, details=details, seq=n)  # fmt: skip

    paid = [
        rec(1, GROUND_1, "2026-03-02", case_number="(2026) Lu 1082 Zhi 1"),
        rec(2, "court.fulfilment.performed", "2026-04-01"),
        fix(3, "r1", GROUND_1, "2026-03-02", "2026-06-01T02:00", case_number="(2026) Lu 1082 Zhi 11"),
    ]
    [e] = entries(*ledger.effective(paid))
    assert (e.status, e.since, e.ended_on, e.ended_by, e.grounds) == (
        "removed", dt.date(2026, 3, 2), dt.date(2026, 4, 1), "r2", ("r3",)
    )  # fmt: skip
    dated = [
        rec(1, FIXED[0], "2025-03-03"),
        fix(2, "r1", FIXED[0], "2025-03-05", "2026-06-01T02:00"),
        fix(3, "r2", FIXED[0], "2025-03-06", "2026-07-01T02:00"),  # a correction of the correction
    ]
    [e] = entries(*ledger.effective(dated))
    assert (e.status, e.since, e.planned_end) == ("active", dt.date(2025, 3, 3), dt.date(2027, 3, 7))
    engine = DuckDBEngine()
    try:
        for history in (paid, dated):
            want = sorted(
                (
                    entry_row(e, {r.record_id: r.item for r in history})
                    for e in entries(*ledger.effective(history))
                ),
                key=repr,
            )
            seq_of = {r.record_id: r.seq for r in history}
            gone = {r.corrects: r.reported_at for r in history if r.corrects}  # one correction each
            rec_t = pa.Table.from_pylist(
                [{"seq": r.seq, "record_id": r.record_id, "subject": r.subject, "item": r.item,
                  "occurred_on": r.occurred_on, "reported_at": r.reported_at, "action": r.action,
                  "corrects_seq": seq_of.get(r.corrects or ""), "superseded_at": gone.get(r.record_id),
                  "subject_no": 1,
                  "details": ledger.canonical_details(r.details)} for r in history],
                schema=relational.RECORD_SCHEMA,
            )  # fmt: skip
            lists = [(COURT, COURT.lists[0])]
            expr = population_listing(
                engine.table(rec_t, "records"),
                engine.table(pa.Table.from_pylist([], schema=REPRESENTATIVE_SCHEMA), "representatives"),
                lists,
                AS_OF,
                calendar=engine.table(working_calendar(frozenset(), AS_OF, lists), "calendar"),
                objections=engine.table(pa.Table.from_pylist([], schema=OBJECTION_SCHEMA), "objections"),
            )
            assert list_rows(engine, expr) == want
    finally:
        engine.close()


def test_a_debtor_who_performed_stays_off_the_list_when_the_court_corrects_the_listing(
    system: System, clock: Clock
) -> None:
    """Art. 10: the court removes the listing "within 3 working days of ... (1) all obligations
    performed". A later correction of the listing record's case number left the debtor refused
    a flight again; it no longer does (SQLite and PostgreSQL)."""
    clock.now = dt.datetime(2026, 11, 2, 2, 0)
    listed = _row(1, GROUND_1, "2026-03-02", "2026-03-02T02:00:00", case_number="(2026) Lu 1082 Zhi 1")
    paid = _row(2, "court.fulfilment.performed", "2026-04-01", "2026-04-01T02:00:00")
    assert system.ingest([listed, paid], origin="test", principal=system.operator()).accepted == 2
    first = system.store.stored_record_id("court", "c-1")
    _n, corrected = _row(
        3, GROUND_1, "2026-03-02", "2026-06-01T02:00:00", case_number="(2026) Lu 1082 Zhi 11"
    )
    corrected.update(action="correct", corrects=first, evidence="case number mistyped")
    assert system.ingest([(3, corrected)], origin="test", principal=system.operator()).accepted == 1
    [e] = [e for e in system.view(P).entries if e.qualified_id == LIST]
    assert (e.status, e.since, e.ended_on) == ("removed", dt.date(2026, 3, 2), dt.date(2026, 4, 1))
    assert system.check(Question(P, "no-flights", system.operator(), purpose="ticket")).allowed


# ----------------------------------------------------------------------------- versions


def test_the_correction_is_re_evaluated_and_shown_to_the_subjects_concerned() -> None:
    """Issue 16: "The corrected court rules state whether listings that ended under the old model
    are re-evaluated (a correction of a modelling error) or stay ended. The choice is recorded
    and shown to the subjects concerned." Version 2 says re-evaluated, with its reason; an entry
    the correction changed says what it was under version 1; one it did not change says nothing."""
    assert (COURT.version, COURT.effective_from) == ("2", dt.date(2026, 12, 7))
    assert COURT.revision is not None and COURT.revision.earlier_listings == "re-evaluated"
    assert REGISTRY.previous[COURT.id].version == "1"
    [changed] = entries(rec(1, GROUND_1, "2022-03-01"))  # version 1: expired on 2024-02-29
    assert changed.status == "active" and changed.revised is not None
    assert (
        "corrects a modelling error" in changed.revised
        and "under version 1 it expired on 2024-02-29" in changed.revised
    )
    [same] = entries(rec(1, GROUND_1, "2026-03-02"), rec(2, "court.fulfilment.performed", "2026-05-04"))
    assert same.status == "removed" and same.revised is None  # the same under both versions


def test_a_version_that_keeps_ended_listings_is_read() -> None:
    """The other choice, ``stay-ended`` (the rules changed, listings made before stay as they
    were), is a scheme of its own: its lists are walked in segments by every evaluator
    (tests/test_stay_ended.py, decision 0051)."""
    text = """
id: x
title: X
jurisdiction: here
version: "2"
effective_from: 2027-01-01
revision: {replaces: "1", earlier_listings: stay-ended, reason: the rules changed}
"""
    revised = parse_scheme(text)
    assert revised.revision is not None and revised.revision.earlier_listings == "stay-ended"
    assert Scheme.model_validate({"id": "x", "title": "X", "jurisdiction": "here"}).version == "1"


# ----------------------------------------------------------------------------- storage


def _row(n: int, item: str, occurred: str, reported: str, **details: Any) -> tuple[int, dict[str, Any]]:
    return n, {"subject": P, "item": item, "source": "court", "source_record_id": f"c-{n}",
               "occurred_on": occurred, "reported_at": reported, "details": details}  # fmt: skip


def test_a_refusal_tells_a_fixed_period_listing_how_it_ends(system: System) -> None:
    """Art. 10: "Where a listing has a fixed period these grounds do not apply: the court deletes
    the listing within 3 working days after the period ends (or earlier by its Art. 2
    decision)"; Art. 2: "A debtor who performs or corrects the conduct may be removed early by
    the court's decision." A debtor listed for obstructing enforcement (ground 2) and refused a
    flight was told only "Perform the judgment in full ...; the court removes the listing within
    3 working days", which the list does not do for that ground. The refusal now says how each
    kind of listing ends, in English and Chinese (SQLite and PostgreSQL)."""
    rows = [_row(1, FIXED[0], "2026-03-02", "2026-03-02T02:00:00", case_number="(2026) Lu 1082 Zhi 5")]
    assert system.ingest(rows, origin="test", principal=system.operator()).accepted == 1
    d = system.check(Question(P, "no-flights", system.operator(), purpose="ticket"))
    [reason] = d.reasons
    assert not d.allowed and reason.until == dt.date(2028, 3, 3)  # in force through 2 March 2028
    how = reason.how_to_resolve or ""
    assert "A listing on grounds 2 to 6 lasts its fixed period" in how
    assert "the court may remove it earlier by its decision once the debtor performs" in how
    assert how.startswith("A listing for refusing to perform (ground 1): perform the judgment in full")
    with i18n.using("zh_CN"):
        assert "因理由二至六被列入的，列入持续其固定期限" in (titles.prose(how) or "")


def test_an_extension_decision_must_state_its_years(system: System) -> None:
    """Art. 2: "the court may extend it by 1 to 3 years": a record of the court's extension
    decision states by how many (``details.extension_years``), a whole number from 1 to 3, or it
    is quarantined with the reason (SQLite and PostgreSQL)."""
    rows = [
        _row(1, EXTEND, "2026-10-01", "2026-10-01T02:00:00"),
        _row(2, EXTEND, "2026-10-01", "2026-10-01T02:00:00", extension_years=4),
        _row(3, EXTEND, "2026-10-01", "2026-10-01T02:00:00", extension_years="2"),
        _row(4, EXTEND, "2026-10-01", "2026-10-01T02:00:00", extension_years=2),
    ]
    result = system.ingest(rows, origin="test", principal=system.operator())
    assert (result.accepted, result.quarantined) == (1, 3)
    for q in result.quarantine:
        assert any(r.startswith("details.extension_years: a record of court.decision.extension must state it")
                   for r in q.reasons), q.reasons  # fmt: skip


def test_a_late_removal_is_shown_to_operators_and_in_the_sources_figures(
    system: System, clock: Clock, client: TestClient
) -> None:
    """Issue 16: "A late removal is shown in ``cases overdue``, on the operator desk, and in each
    source's accuracy figures (median days late)." Art. 10: removal "within 3 working days of"
    the removal ground. A performance on Friday 30 October reported on 10 November is 6 days late
    (SQLite and PostgreSQL; the command line: ``tests/test_cli_cases.py``)."""
    clock.now = dt.datetime(2026, 11, 12, 2, 0)
    rows = [
        _row(1, GROUND_1, "2026-03-02", "2026-03-02T02:00:00", case_number="(2026) Lu 1082 Zhi 3"),
        _row(2, "court.fulfilment.performed", "2026-10-30", "2026-11-10T02:00:00"),
    ]
    assert system.ingest(rows, origin="test", principal=system.operator()).accepted == 2
    [late] = system.late_removals(principal=system.operator())
    assert (late.list_id, late.subject, late.removal_due, late.ended_on, late.days_late, late.source) == (
        LIST, P, dt.date(2026, 11, 4), dt.date(2026, 11, 10), 6, "court"
    )  # fmt: skip
    [court] = [a for a in system.source_accuracy() if a.source == "court"]
    assert (court.removals, court.removed_late, court.median_days_late) == (1, 1, 6.0)
    op = {"X-API-Key": system.create_key("operator", "wang.fang").token}
    [item] = client.get("/overdue", headers=op).json()["data"]
    assert item["kind"] == "late removal" and item["days_late"] == 6 and "6 days late" in item["late"][0]
    sources = {s["source"]: s for s in client.get("/public/sources").json()["data"]}
    assert sources["court"]["median_days_late"] == 6.0
    desk = client_for(client.app, system.create_key("operator", "wang.fang").token)  # type: ignore[arg-type]
    page = desk.get("/portal/operator").text
    assert "Removals reported late" in page and "6 days late" in page
    scheme = client.get("/schemes/court-dishonest-debtors").json()
    assert (scheme["version"], scheme["effective_from"], scheme["revision"]["earlier_listings"]) == (
        "2", "2026-12-07", "re-evaluated"
    )  # fmt: skip
