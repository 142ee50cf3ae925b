"""A decision state holds until its answer can really change (``socialcredit.validity``, decision
0083), not to the next midnight: the sweep no longer recomputes the population every night, and
an answer from the state equals the one computed from the ledger at every instant it answers.

Published rules the tests lean on (/work/shared/DOMAIN.md, the court's provisions): a debtor
"able to perform but refuses" (Art. 1 (1)) stays listed with no fixed period, until a removal
ground of Art. 10; a listing on grounds (2) to (6) runs two years from the court's decision
(Art. 2), so it ends on a day known when it is made.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random

from socialcredit import synth
from socialcredit.decisions import Decision
from socialcredit.rules.days import day_of, start_of
from socialcredit.service import System
from socialcredit.service.decisions import _decide
from socialcredit.validity import HORIZON_DAYS
from tests.conftest import Clock, person
from tests.support.decisionstate import LISTING, allowed, fresh, from_state, row

P, Q = person(81), person(82)
BOUNDED = "court.dishonest.obstructs-enforcement"  # ground (2): two years from the decision


def ledger_answers(system: System, code: str, at: dt.datetime) -> dict[str, Decision]:
    """Every measure's decision for ``code`` at ``at`` from the ledger: one view, every measure
    decided from it (as the sweep prepares them), the time left out (the reply's, not the state's)."""
    d = system.decisions
    kind = "person" if code.startswith(person(0)[:2]) else "organisation"
    view = d._compute(code, kind, at)[0]  # noqa: SLF001 - the ledger's answer, not the state's
    out = {}
    for measure in system.registry.measures().values():
        decided = _decide(view, d._measure_on(measure, at), d._owner(measure))  # noqa: SLF001
        out[measure.id] = dataclasses.replace(decided, at=dt.datetime.min)
    return out


def state_answers(system: System, code: str) -> dict[str, Decision]:
    return {mid: dataclasses.replace(x, at=dt.datetime.min) for mid, x in from_state(system, code).items()}


def test_an_answer_that_cannot_change_for_months_keeps_its_state_across_midnight(
    store_url: str, clock: Clock
) -> None:
    with fresh(store_url, clock) as system:
        system.ingest([row(1, P, item=LISTING)], origin="until test", principal=system.operator())
        system.build_decision_state()
        held = system.store.decision_state(P)
        assert held is not None and held.valid_until is not None
        assert held.valid_until >= clock.now + dt.timedelta(days=90), held.valid_until  # not midnight
        assert held.valid_until <= clock.now + dt.timedelta(days=HORIZON_DAYS + 1)
        before = state_answers(system, P)
        assert not before["no-flights"].allowed
        clock.now = start_of(day_of(clock.now) + dt.timedelta(days=1)) + dt.timedelta(hours=1)
        assert system.store.decision_states_due(system.decisions.basis(), clock.now) == []
        assert system.build_decision_state(everyone=False) == 0  # the night's sweep: nothing to do
        assert state_answers(system, P) == before == ledger_answers(system, P, clock.now)
        with fresh(store_url, clock) as other:
            assert not allowed(other, P)


def test_an_entry_ending_tomorrow_makes_its_state_due_then(store_url: str, clock: Clock) -> None:
    tomorrow = day_of(clock.now) + dt.timedelta(days=1)
    with fresh(store_url, clock) as system:
        # a ground (2) listing made two years ago ends by its period (Art. 2) about now
        decided = tomorrow.replace(year=tomorrow.year - 2)
        system.ingest(
            [row(1, Q, day=(decided - dt.timedelta(days=1)).isoformat(), item=BOUNDED)],
            origin="until test",
            principal=system.operator(),
        )
        entry = next(e for e in system.view(Q).entries if e.list_id == "dishonest-debtors")
        assert entry.planned_end is not None and entry.active_on(day_of(clock.now)), entry
        system.build_decision_state()
        held = system.store.decision_state(Q)
        assert held is not None and held.valid_until is not None
        assert held.valid_until <= start_of(entry.planned_end)
        assert held.valid_until > clock.now
        assert not state_answers(system, Q)["no-flights"].allowed
        clock.now = start_of(entry.planned_end) + dt.timedelta(hours=2)
        assert system.store.decision_states_due(system.decisions.basis(), clock.now) == [Q]
        assert ledger_answers(system, Q, clock.now)["no-flights"].allowed  # the listing has ended
        with fresh(store_url, clock) as other:
            assert allowed(other, Q)  # the state no longer answers: computed, and right
        assert system.build_decision_state(everyone=False) == 1
        assert state_answers(system, Q) == ledger_answers(system, Q, clock.now)


def test_a_state_equals_the_ledger_at_every_instant_it_answers(store_url: str, clock: Clock) -> None:
    """Every resident of a synthetic city: the state's answers equal the ledger's at the moment
    it was made, just before it falls due, at the last midnight before that, and on sampled
    days between; where it falls due before the horizon, the ledger's answer then is checked
    to be computed again (the state answers no more)."""
    with fresh(store_url, clock) as system:
        city = synth.generate_city(residents=150, seed=2083, registry=system.registry)
        system.register(city.subjects)
        rows = synth.generate_records(city, registry=system.registry, seed=2083)
        system.ingest(enumerate(rows, start=1), origin="until test", principal=system.operator())
        system.build_decision_state()
        pick = random.Random(2083)
        beyond_midnight = 0
        for s in city.subjects:
            held = system.store.decision_state(s.code)
            assert held is not None and held.as_of is not None and held.valid_until is not None
            made = state_answers(system, s.code)
            end = held.valid_until - dt.timedelta(microseconds=1)
            moments = {held.as_of, end, start_of(day_of(end))}
            span = (held.valid_until - held.as_of).total_seconds()
            moments |= {held.as_of + dt.timedelta(seconds=pick.uniform(0, span)) for _ in range(2)}
            if held.valid_until > start_of(day_of(held.as_of) + dt.timedelta(days=1)):
                beyond_midnight += 1
            for at in sorted(m for m in moments if held.as_of <= m < held.valid_until):
                assert made == ledger_answers(system, s.code, at), (s.code, at, held.valid_until)
        assert beyond_midnight > len(city.subjects) // 2  # most states outlive the night


def test_the_sweeps_indexed_round_finds_emptied_and_expired_states(store_url: str, clock: Clock) -> None:
    """Between full rounds the sweep asks only for emptied and expired states (an index search);
    a state under another basis is found by a full round, and answers nothing meanwhile."""
    with fresh(store_url, clock) as system:
        system.ingest([row(1, P), row(2, Q, item=BOUNDED)], origin="until test", principal=system.operator())
        system.build_decision_state()
        store, basis = system.store, system.decisions.basis()
        assert store.decision_states_due(basis, clock.now, expired_only=True) == []
        assert store.decision_states_due("another basis", clock.now, expired_only=True) == []
        assert store.decision_states_due("another basis", clock.now) == sorted([P, Q])
        store.empty_decision_states([P])
        assert store.decision_states_due(basis, clock.now, expired_only=True) == [P]
        held = store.decision_state(Q)
        assert held is not None and held.valid_until is not None
        assert store.decision_states_due(basis, held.valid_until, expired_only=True) == sorted([P, Q])
        assert system.build_decision_state(everyone=False, expired_only=True) == 1
        assert store.decision_states_due(basis, clock.now) == []
