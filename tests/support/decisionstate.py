"""What the decision state's tests share (``tests/test_decision_state*.py``): a record row, another
installation process on the same database, and a subject's decisions as its state holds them."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from socialcredit import synth
from socialcredit.decisions import Decision
from socialcredit.schemes import shipped_registry
from socialcredit.service import System, statecodec
from socialcredit.service.decisions import Question
from socialcredit.store import Store
from socialcredit.store.decisionstate import NewState
from tests.conftest import Clock

LISTING = "court.dishonest.able-but-refuses"


def row(n: int, subject: str, day: str = "2026-10-20", **kw: Any) -> tuple[int, dict[str, Any]]:
    return n, {
        "subject": subject,
        "item": kw.pop("item", LISTING),
        "source": kw.pop("source", "court"),
        "source_record_id": f"state-{n}",
        "occurred_on": day,
        "reported_at": day + "T10:00:00",
        **kw,
    }


@contextmanager
def fresh(url: str, clock: Clock) -> Iterator[System]:
    """Another installation process on the same database: nothing in its memory, so what it
    answers for now comes from the materialised state (or, where that cannot answer, is
    computed from the ledger)."""
    system = System(Store(url), shipped_registry(), clock=clock)
    try:
        yield system
    finally:
        system.store.close()


def from_state(system: System, code: str) -> dict[str, Decision]:
    row = system.store.decision_state(code)
    assert row is not None and row.answers(system.decisions.basis(), system.clock()), code
    assert row.payload is not None and row.as_of is not None
    return statecodec.decode(row.payload, code, row.as_of)[0]


def allowed(system: System, code: str, measure: str = "no-flights") -> bool:
    return system.check(Question(code, measure, system.operator(), purpose="test")).allowed


def city(system: System, residents: int, seed: int) -> list[str]:
    """A synthetic city registered and ingested, its every subject's state built: their codes."""
    made = synth.generate_city(residents=residents, seed=seed, registry=system.registry)
    system.register(made.subjects)
    rows = synth.generate_records(made, registry=system.registry, seed=seed)
    system.ingest(enumerate(rows, start=1), origin="state test", principal=system.operator())
    subjects = [s.code for s in made.subjects]
    assert system.build_decision_state() == len(subjects)
    return subjects


def write_turned(
    system: System,
    code: str,
    encoder: Callable[[Mapping[str, statecodec.Prepared], tuple[str, ...]], str] = statecodec.encode,
) -> str:
    """Build ``code``'s state, then write it again by hand with its ``no-flights`` answer turned
    to allow (what only that row can answer), encoded by ``encoder``: the payload written."""
    system.build_decision_state()
    seen = system.store.decision_state(code)
    assert seen is not None and seen.as_of is not None and seen.valid_until is not None
    made = from_state(system, code)
    made["no-flights"] = dataclasses.replace(made["no-flights"], allowed=True)
    payload = encoder({mid: (d, {}) for mid, d in made.items()}, ())
    written = NewState(code, seen.epoch, system.decisions.basis(), seen.as_of, seen.valid_until, payload)
    assert system.store.put_decision_states([written]) == 1
    return payload
