"""A restoration ends a record's effect from then on; it does not erase its past (issue 17, point
4). The score history, recomputed today, shows a restored record counting from when it was
reported until its restoration and not after, day by day as the kernel's rule gives it
(``ledger.effective`` at the end of each day, then ``scoring.score``). Runs on SQLite and
PostgreSQL.

Credit restoration (national measures, DOMAIN.md): "After the minimum period the subject may
apply, showing the conduct corrected, obligations fulfilled and a public credit commitment made";
a serious record's minimum publication period is 1 year."""

from __future__ import annotations

import datetime as dt

from socialcredit import ledger
from socialcredit.api import create_app
from socialcredit.history import score_history
from socialcredit.rules import days
from socialcredit.scoring import score, timeline
from socialcredit.service import System
from socialcredit.store import SubjectRow
from tests.conftest import Clock, person
from tests.support.dueprocess import feed, key, rec
from tests.support.portal import client_for

P = person(201)
ARGS = {
    "conduct_corrected": "restitution paid",
    "obligations_fulfilled": "fine paid",
    "commitment": "I commit to honour my obligations",
}


def restored(system: System, clock: Clock) -> tuple[str, dt.date]:
    """A serious record of 1 June 2026 restored on 2 June 2027; a minor one of March 2027 stays."""
    system.register([SubjectRow(P, "person", "Sun Li")])
    [serious] = feed(system, rec(1, P, "traffic.drunk-driving", "traffic-police", "2026-06-01"))
    clock.now = dt.datetime(2027, 3, 2, 9)
    feed(system, rec(2, P, "traffic.minor", "traffic-police", "2027-03-01"))
    clock.now = dt.datetime(2027, 6, 2, 9)
    case = system.apply_restoration(principal=key(system, "subject", P), subject=P, record_id=serious, **ARGS)
    system.decide_restoration(principal=system.operator(), case_id=case.id, granted=True, reason="fulfilled")
    clock.now = dt.datetime(2027, 9, 1, 9)
    return serious, dt.date(2027, 6, 2)


def test_a_restored_record_counts_until_its_restoration_and_not_after(system: System, clock: Clock) -> None:
    serious, restored_on = restored(system, clock)
    view = system.view(P)
    assert serious not in {r.record_id for r in view.records}  # no longer in force
    every = [*view.records, *(r for x in view.ended_records for r in (x.record, x.by))]
    scheme = system.registry.scheme("rongcheng")
    void = system.unrestorable_items()
    history = score_history(P, every, scheme, view.as_of, void)
    # the kernel's rule, day by day: the value on each day is the score from the records in force then
    value = score(P, [], scheme, view.as_of).score
    changes = dict((d, v) for d, v, _g in history)
    day = dt.date(2026, 5, 1)
    while day <= days.day_of(view.as_of):
        at = min(view.as_of, days.end_of(day))
        value = changes.get(day, value)
        assert value == score(P, ledger.effective(every, at, (), void), scheme, at).score, day
        day += dt.timedelta(days=1)
    # the serious record counted from June 2026 until its restoration, and not after
    assert changes[dt.date(2026, 6, 1)] < 1000 and restored_on in changes
    assert changes[restored_on] > changes[dt.date(2026, 6, 1)]
    # the history of the records in force now alone would rewrite that past
    erased = timeline(P, view.records, scheme, view.as_of)
    assert dt.date(2026, 6, 1) not in dict((d, v) for d, v, _g in erased)


def test_the_portal_chart_shows_the_restored_record_before_its_restoration(
    system: System, clock: Clock
) -> None:
    restored(system, clock)
    page = (
        client_for(create_app(system), system.create_key("subject", P).token)
        .get(f"/portal/subjects/{P}")
        .text
    )
    block = page[page.index('id="scheme-rongcheng"') :]
    chart = block[: block.index("</svg>")]
    assert "2026-06-01" in chart and "2027-06-02" in chart
