"""The decision state's payload compressed with the state dictionary (decision 0089): the same
decisions, answers, receipts and explanations as the plain lines written before, over a whole
synthetic city on SQLite and PostgreSQL; rows written before 0089 still answer, with no rebuild.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import text

from socialcredit import codes
from socialcredit.decisions import Decision
from socialcredit.errors import Unavailable
from socialcredit.service import System, statecodec
from socialcredit.service.decisions import Question
from tests.conftest import Clock, person
from tests.support.decisionstate import allowed, city, fresh, from_state, row, write_turned
from tests.support.dueprocess import feed

FIXTURE = Path(__file__).parent / "data" / "decision-state-plain-524e947.json"
P = person(81)


def rewrite_plain(system: System) -> int:
    """Every row's payload as the code before 0089 wrote it (the plain lines): how many rows."""
    with system.store.engine.begin() as conn:
        rows = conn.execute(text("SELECT subject, payload FROM decision_state")).all()
        plain = [{"s": s, "p": statecodec.opened(p)} for s, p in rows]
        conn.execute(text("UPDATE decision_state SET payload = :p WHERE subject = :s"), plain)
    return len(plain)


def answers(system: System, subjects: list[str]) -> dict[tuple[str, str], Decision]:
    """Every measure's answer for ``subjects`` as a relying party gets it, its receipt's
    random id left out (the rest of the receipt: the time and the chains' positions)."""
    found = {}
    for code in subjects:
        for mid in system.registry.measures():
            d = system.check(Question(code, mid, system.operator(), purpose="test"))
            assert d.receipt is not None
            found[code, mid] = dataclasses.replace(d, receipt=dataclasses.replace(d.receipt, decision_id=""))
    return found


def test_a_payload_written_before_0089_reads_as_it_was_written() -> None:
    held = json.loads(FIXTURE.read_text(encoding="utf-8"))
    at = dt.datetime.fromisoformat(held["as_of"])
    made, represents = statecodec.decode(held["payload"], held["subject"], at)
    assert represents == tuple(held["represents"])
    assert len(made) == held["payload"].count("\n") and not made["no-flights"].allowed
    listed = made["no-flights"].reasons[0]
    assert listed.basis == "list" and listed.since == dt.date(2026, 10, 20) and listed.grounds
    prepared = {mid: (d, {}) for mid, d in made.items()}
    assert statecodec.encode_plain(prepared, represents) == held["payload"]  # the old writer, byte for byte
    packed = statecodec.encode(prepared, represents)
    assert packed.startswith("z2:") and len(packed) * 10 < len(held["payload"])
    assert statecodec.decode(packed, held["subject"], at) == (made, represents)


def test_a_city_decides_the_same_from_either_encoding(store_url: str, clock: Clock) -> None:
    with fresh(store_url, clock) as system:
        subjects = city(system, 120, 7)
        verdicts = set()
        for code in subjects:
            state = system.store.decision_state(code)
            assert state is not None and state.payload is not None and state.as_of is not None
            assert state.payload.startswith("z2:")
            plain = statecodec.opened(state.payload)
            assert len(state.payload) * 5 < len(plain)
            made = statecodec.decode(state.payload, code, state.as_of)
            assert made == statecodec.decode(plain, code, state.as_of)
            verdicts |= {(d.measure_kind, d.allowed) for d in made[0].values()}
        assert verdicts == {("punishment", True), ("punishment", False), ("reward", True), ("reward", False)}
        asked = subjects[:: max(1, len(subjects) // 25)]
        asked += [c for c in subjects if not from_state(system, c)["no-flights"].allowed][:5]
    with fresh(store_url, clock) as compressed:
        now = answers(compressed, asked)
        assert compressed.build_decision_state() == 0  # answered from the states: none was due
    with fresh(store_url, clock) as before:
        assert rewrite_plain(before) == len(subjects)
        assert answers(before, asked) == now
        assert before.build_decision_state() == 0  # the plain rows answer: no rebuild


def test_a_state_written_before_0089_still_answers_until_it_is_due(store_url: str, clock: Clock) -> None:
    """The plain row is what answers (a state written by hand, as the old code wrote it, with its
    answer turned), and it is written compressed when it next falls due."""
    with fresh(store_url, clock) as system:
        feed(system, row(1, P))
        assert write_turned(system, P, statecodec.encode_plain).startswith("[")
    with fresh(store_url, clock) as other:
        assert other.store.decision_states_due(other.decisions.basis(), clock.now, everyone=True) == []
        assert allowed(other, P)
        feed(other, row(2, P, day="2026-10-21"))  # a new record empties it
        assert other.build_decision_state(everyone=False) == 1
        again = other.store.decision_state(P)
        assert again is not None and again.payload is not None and again.payload.startswith("z2:")
    with fresh(store_url, clock) as third:
        assert not allowed(third, P)


def test_an_unreadable_payload_is_refused_naming_it() -> None:
    at = dt.datetime(2026, 11, 2, 10, 0)
    with pytest.raises(Unavailable, match="^payload: no state dictionary 9$"):
        statecodec.decision("z9:eJwDAAAAAAE=", "no-flights", P, at)
    with pytest.raises(Unavailable, match="^payload: unreadable with state dictionary 1"):
        statecodec.represents("z1:bm90IHpsaWI=")
    with pytest.raises(Unavailable, match="^payload: no dictionary number after 'z'"):
        statecodec.represents("zq:AAAA")


@pytest.mark.parametrize("number", ["1", "2"])
def test_the_dictionary_names_no_subject(number: str) -> None:
    """Each dictionary is lines common to many synthetic states: no code of anyone in it."""
    held = statecodec.dictionary(number).decode()
    assert held.count("\n") > 20 and len(held.encode()) <= 32768
    candidates = set(re.findall(r"[0-9A-Z]{18}", held))
    named = []
    for c in candidates:
        try:
            codes.validate(c)
        except ValueError:
            continue
        named.append(c)
    assert named == []


def test_subjects_with_the_same_line_share_its_reasons() -> None:
    """A measure's line read back once is shared by every subject whose state holds the same
    line (decision 0101): the same reasons object, equal to a first reading's, and a subject
    with another line gets its own."""
    held = json.loads(FIXTURE.read_text(encoding="utf-8"))
    at = dt.datetime.fromisoformat(held["as_of"])
    statecodec.forget()
    made, represents = statecodec.decode(held["payload"], held["subject"], at)
    prepared = {mid: (d, {}) for mid, d in made.items()}
    packed = statecodec.encode(prepared, represents)
    first = statecodec.decision(packed, "no-flights", person(1), at)
    second = statecodec.decision(held["payload"], "no-flights", person(2), at)
    assert first is not None and second is not None
    assert first.reasons is second.reasons and first.subject != second.subject
    statecodec.forget()
    again = statecodec.decision(packed, "no-flights", person(3), at)
    assert again is not None and again.reasons == first.reasons and again.reasons is not first.reasons
    other = statecodec.decision(packed, "no-new-loans", person(3), at)
    assert other is not None and other.reasons != again.reasons
