"""The materialised decision state (store/decisionstate.py, decision 0048): every subject's
decisions kept in the database, emptied in the very transaction that changes what they come from,
and written back only over the epoch they were computed under. Answers from it equal the ones
computed from the ledger, for every resident of a synthetic city, after corrections and
objection outcomes too, on SQLite and PostgreSQL.

Published rules the tests lean on (/work/shared/DOMAIN.md): the court lists a debtor "able to
perform but refuses" (Provisions on the List of Dishonest Judgment Debtors, Art. 1 (1)) with no
fixed period, until a removal ground of Art. 10 (here: the court withdraws the record); and
"Organisations are listed together with the people responsible for them (legal
representatives)", so a representative's decisions change with the organisation's listing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

from sqlalchemy import text

from socialcredit.decisions import Decision
from socialcredit.knowledge import Known
from socialcredit.schemes import shipped_registry
from socialcredit.service import System, statecodec
from socialcredit.service.decisions import Question
from socialcredit.store import Store, SubjectRow
from socialcredit.store.decisionstate import NewState
from tests.conftest import Clock, org, person
from tests.support.decisionstate import allowed, city, fresh, from_state, row, write_turned
from tests.support.dueprocess import feed

P, REP, REP2, ORG = person(71), person(72), person(73), org(71)


def computed(system: System, code: str, at: dt.datetime) -> dict[str, Decision]:
    """Every measure's decision for ``code`` at ``at`` computed from the ledger (not the state)."""
    every = system.decisions.recompute_every(code, at, Known(), system.registry)
    if code.endswith(("0", "5")):  # about one code in five: each measure alone too, as receipts are
        assert every == {
            mid: system.decisions.recompute(code, mid, at, Known(), system.registry)
            for mid in system.registry.measures()
        }, code
    return every


def assert_states_equal_computed(system: System, subjects: list[str]) -> None:
    at = system.clock()
    for code in subjects:
        assert from_state(system, code) == computed(system, code, at), code


def test_every_residents_state_equals_the_computed_decisions(store_url: str, clock: Clock) -> None:
    with fresh(store_url, clock) as system:
        subjects = city(system, 300, 2014)
        assert system.build_decision_state() == 0  # nothing is due any more
        assert_states_equal_computed(system, subjects)
        denied = [c for c in subjects if not from_state(system, c)["no-flights"].allowed]
        assert denied, "the city should have someone on the court's list"
    with fresh(store_url, clock) as other:  # a question in another process is the state's answer
        for code in subjects[:40] + denied:
            d = other.check(Question(code, "no-flights", other.operator(), purpose="test"))
            state = from_state(other, code)["no-flights"]
            assert dataclasses.replace(d, receipt=None) == dataclasses.replace(state, at=clock.now)


def test_corrections_and_objection_outcomes_reach_the_state_at_once(store_url: str, clock: Clock) -> None:
    with fresh(store_url, clock) as system:
        system.register([SubjectRow(ORG, "organisation", "State Ltd", None, None, REP, dt.date(2020, 1, 1))])
        rows = [row(i, P, f"2026-09-{i:02d}", item="court.fraud-conviction") for i in range(1, 5)]
        rows += [row(10 + i, P, f"2026-09-{10 + i:02d}", item="traffic.drunk-driving") for i in range(1, 3)]
        rows = [(n, {**r, "source": "court" if "court" in r["item"] else "traffic-police"}) for n, r in rows]
        feed(system, *rows, row(20, ORG))
        system.build_decision_state()
        assert_states_equal_computed(system, [P, REP, ORG])
        me = system.authenticate(system.create_key("subject", P).token)  # type: ignore[arg-type]
        measure = "extra-scrutiny-subsidies"
        assert not from_state(system, P)[measure].allowed
        o = system.file_objection(
            principal=me, subject=P, list_id="rongcheng/d-grade", statement="wrong person"
        )
        assert system.store.decision_state(P).payload is None  # type: ignore[union-attr]
        with fresh(store_url, clock) as other:
            d = other.check(Question(P, measure, other.operator(), purpose="test"))
            assert d.allowed and o.id in d.reasons[0].text  # suspended while the objection is open
        clock.advance(hours=1)
        system.decide_objection(
            principal=system.operator(), objection_id=o.id, upheld=False, reason="verified"
        )
        with fresh(store_url, clock) as other:
            assert not allowed(other, P, measure)  # the objection's outcome, at once
        # a withdrawal of the organisation's listing reaches its legal representative's state
        assert not from_state(system, REP)["no-flights"].allowed
        feed(system, row(21, ORG, action="withdraw", corrects_source_record_id="state-20"))
        assert system.store.decision_state(REP).payload is None  # type: ignore[union-attr]
        with fresh(store_url, clock) as other:
            assert allowed(other, REP) and allowed(other, ORG)
        system.build_decision_state(everyone=False)
        assert_states_equal_computed(system, [P, REP, ORG])


def test_a_new_legal_representative_moves_the_listing_between_states(store_url: str, clock: Clock) -> None:
    with fresh(store_url, clock) as system:
        system.register([SubjectRow(ORG, "organisation", "State Ltd", None, None, REP, dt.date(2020, 1, 1))])
        feed(system, row(1, ORG))
        assert system.build_decision_state() == 2  # the organisation and its representative
        system.register([SubjectRow(REP2, "person", "Wang", "m", None, None, None)])
        system.build_decision_state()
        assert (
            not from_state(system, REP)["no-flights"].allowed
            and from_state(system, REP2)["no-flights"].allowed
        )
        system.register(
            [SubjectRow(ORG, "organisation", "State Ltd", None, None, REP2, dt.date(2026, 11, 1))]
        )
        assert all(system.store.decision_state(c).payload is None for c in (ORG, REP, REP2))  # type: ignore[union-attr]
        with fresh(store_url, clock) as other:
            d = other.check(Question(REP2, "no-flights", other.operator(), purpose="test"))
            assert not d.allowed and d.reasons[0].via == ORG
        system.build_decision_state(everyone=False)
        assert_states_equal_computed(system, [ORG, REP, REP2])


def test_a_question_about_a_subject_is_answered_from_its_state(store_url: str, clock: Clock) -> None:
    """The state is what answers (not a recomputation): a state written by hand is the answer
    until a record empties it."""
    with fresh(store_url, clock) as system:
        feed(system, row(1, P))
        write_turned(system, P)
        with fresh(store_url, clock) as other:
            assert allowed(other, P)
        feed(system, row(2, P, day="2026-10-21"))
        with fresh(store_url, clock) as other:
            assert not allowed(other, P)


def test_a_state_computed_before_a_change_is_never_written_over_it(store: Store, clock: Clock) -> None:
    system = System(store, shipped_registry(), clock=clock)
    basis = system.decisions.basis()

    def state(code: str, epoch: int | None) -> NewState:
        return NewState(code, epoch, basis, clock.now, clock.now + dt.timedelta(hours=1), '{"stale": true}')

    assert store.decision_state(P) is None  # read before the inputs: no row
    feed(system, row(1, P))  # meanwhile a record: a tombstone is made
    assert store.put_decision_states([state(P, None)]) == 0
    seen = store.decision_state(P)
    assert seen is not None and seen.payload is None
    feed(system, row(2, P, action="withdraw", corrects_source_record_id="state-1"))
    assert store.put_decision_states([state(P, seen.epoch)]) == 0  # the epoch moved
    again = store.decision_state(P)
    assert again is not None and again.epoch == seen.epoch + 1 and again.payload is None
    assert store.put_decision_states([state(P, again.epoch)]) == 1  # nothing came in between
    assert store.put_decision_states([state(REP, None)]) == 1
    assert store.put_decision_states([state(REP, None)]) == 0  # inserted once only


def test_a_state_answers_only_within_its_time_and_schemes(store_url: str, clock: Clock) -> None:
    with fresh(store_url, clock) as system:
        feed(system, row(1, P))
        system.build_decision_state()
        row_ = system.store.decision_state(P)
        assert row_ is not None and row_.valid_until is not None
        assert row_.answers(system.decisions.basis(), clock.now)
        assert not row_.answers(system.decisions.basis(), row_.valid_until)  # its end: due
        assert not row_.answers("another basis", clock.now)
        clock.now = row_.valid_until
        assert system.store.decision_states_due(system.decisions.basis(), clock.now) == [P]
        with fresh(store_url, clock) as other:
            assert not allowed(other, P)  # computed on read: a question writes no state
        assert system.store.decision_states_due(system.decisions.basis(), clock.now) == [P]
        assert system.build_decision_state(everyone=False) == 1  # the sweep's round
        assert system.store.decision_states_due(system.decisions.basis(), clock.now) == []


def test_the_state_payload_is_the_decisions_it_was_made_from(system: System) -> None:
    feed(system, row(1, P))
    made = computed(system, P, system.clock())
    assert any(not d.allowed and d.reasons[0].since for d in made.values())  # dates, grounds, bases
    payload = statecodec.encode({mid: (d, {}) for mid, d in made.items()}, (ORG,))
    assert statecodec.decode(payload, P, system.clock()) == (made, (ORG,))


def test_the_state_names_no_code_and_a_fresh_process_finds_whom_it_owes(store_url: str, clock: Clock) -> None:
    """Issue 21: "Every table that holds personal data is covered the same way: records, audit
    entries, case events, quarantined rows, the registry" (decision 0068): a state row is named by
    the subject's keyed pseudonym, never its code, and holds no person's code. A process that
    named nobody itself still finds the codes of the states it owes: a person's from its records,
    an organisation's too, its representative's (no record) from the registry."""
    with fresh(store_url, clock) as system:
        system.register([SubjectRow(ORG, "organisation", "State Ltd", None, None, REP, dt.date(2020, 1, 1))])
        system.ingest([row(1, P), row(2, ORG)], origin="state test", principal=system.operator())
        assert system.build_decision_state() == 3
        with system.store.engine.connect() as conn:
            raw = [dict(m) for m in conn.execute(text("SELECT * FROM decision_state")).mappings()]
        assert not any(code in json.dumps(raw, default=str) for code in (P, REP, ORG))  # compressed
        stored = [{**m, "payload": statecodec.opened(m["payload"])} for m in raw]  # what it holds
        # the people's codes nowhere; the organisation's only where its representative's state
        # names the organisation it answers for (as the registry does: decision 0068)
        assert len(stored) == 3 and not any(code in json.dumps(stored, default=str) for code in (P, REP))
        assert {m["subject"] for m in stored} == {system.store.sealing.pseudonym(c) for c in (P, ORG, REP)}
        assert [m["subject"] for m in stored if ORG in json.dumps(m, default=str)] == [
            system.store.sealing.pseudonym(REP)
        ]
    with fresh(store_url, clock) as other:
        other.store.empty_decision_states([P, ORG])  # the organisation's representative with it
    with fresh(store_url, clock) as third:
        assert third.store.decision_states_due(third.decisions.basis(), clock.now) == sorted([P, ORG, REP])
        assert third.build_decision_state(everyone=False) == 3
        assert_states_equal_computed(third, [P, ORG, REP])


def test_a_question_reads_the_marker_and_the_state_in_one_moment(store_url: str, clock: Clock) -> None:
    """Decision 0088: on a local file the change marker and a subject's state are one read (one
    transaction), and the receipt names that moment; a write moves the marker and empties the
    state together. A server's store has no such read: the two are read one after the other."""
    with fresh(store_url, clock) as system:
        feed(system, row(1, P, "2026-09-01"))
        system.build_decision_state()
        heads = system.context.views.heads
        read = heads.read_state(P)
        if system.store.dialect.file is None:
            assert read is None
            return
        assert read is not None
        marker, state = read
        assert marker == heads.read()
        assert state == system.store.decision_state(P)
        assert state is not None and state.answers(system.decisions.basis(), clock.now)
        feed(system, row(2, P, "2026-09-02", item="traffic.drunk-driving", source="traffic-police"))
        moved = heads.read_state(P)
        assert moved is not None
        assert moved[0][0][0] > marker[0][0] and moved[1] is not None and moved[1].payload is None
    with fresh(store_url, clock) as other:
        d = other.check(Question(P, "no-flights", other.operator(), purpose="test"))
        assert d.receipt is not None and d.receipt.records == moved[0][0][0]
