"""The one indexed lookup from pseudonyms to codes in the sealed registry
(``SubjectStore.registered_codes``, decision 0086), and the decision-state sweep's fallback over
it: a process that named nobody finds the code of a state it owes by opening that subject's
registration (or, for a representative who never registered, one of its terms), and never the
other subjects' rows. Before, the fallback opened every registration and every term.

Published rule the tests lean on (/work/shared/DOMAIN.md): "Organisations are listed together
with the people responsible for them (legal representatives)", so a representative's decisions
change with the organisation's registration, and its state is emptied with it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import text

from socialcredit.schemes import shipped_registry
from socialcredit.service import System
from socialcredit.store import Store, SubjectRow
from tests.conftest import Clock, org, person

N = 25
ORGS = [org(300 + i) for i in range(N)]
REPS = [person(300 + i) for i in range(N)]  # each represents one organisation, never registered
PEOPLE = [person(400 + i) for i in range(N)]  # registered, with no record


@contextmanager
def fresh(url: str, clock: Clock) -> Iterator[System]:
    """Another process on the same database: no key, pseudonym or code in its memory."""
    system = System(Store(url), shipped_registry(), clock=clock)
    try:
        yield system
    finally:
        system.store.close()


@contextmanager
def keys_asked(store: Store) -> Iterator[list[tuple[str, str]]]:
    """Every (pseudonym, class) whose data key the store's vault is asked for meanwhile: a row
    opens only under its own subject's key, so no other subject's row is decrypted if its key is
    never asked for. The real vault answers; this only writes down the question."""
    vault = store.sealing.vault
    asked: list[tuple[str, str]] = []
    real = vault.keys

    def counted(pairs: Iterable[tuple[str, str]], **kw: object) -> dict[tuple[str, str], AESGCM]:
        pairs = list(pairs)
        asked.extend(pairs)
        return real(pairs, **kw)  # type: ignore[arg-type]

    vault.keys = counted  # type: ignore[method-assign]
    try:
        yield asked
    finally:
        del vault.keys


def registered(url: str, clock: Clock) -> None:
    with fresh(url, clock) as system:
        since = dt.date(2020, 1, 1)
        orgs = [
            SubjectRow(o, "organisation", f"Firm {i}", None, None, r, since)
            for i, (o, r) in enumerate(zip(ORGS, REPS, strict=True))
        ]
        system.register([*orgs, *(SubjectRow(p, "person", f"Person {i}") for i, p in enumerate(PEOPLE))])
        assert system.build_decision_state() == 3 * N


def test_registered_codes_reads_the_asked_registrations_and_terms_only(store_url: str, clock: Clock) -> None:
    registered(store_url, clock)
    with fresh(store_url, clock) as system:
        store = system.store
        p = store.sealing.vault.pseudonym
        unknown = p(person(999))
        wanted = [p(ORGS[3]), p(REPS[5]), p(PEOPLE[7]), unknown]
        with keys_asked(store) as asked, store.reader.connect() as conn:
            found = store.registered_codes(conn, wanted)
        assert found == {p(ORGS[3]): ORGS[3], p(REPS[5]): REPS[5], p(PEOPLE[7]): PEOPLE[7]}
        # the representative's code is in its organisation's term, under the organisation's key
        assert {pair[0] for pair in asked} == {p(ORGS[3]), p(ORGS[5]), p(PEOPLE[7])}


def test_the_sweep_opens_only_the_subjects_it_owes(store_url: str, clock: Clock) -> None:
    registered(store_url, clock)
    with fresh(store_url, clock) as other:
        other.store.empty_decision_states([ORGS[2], PEOPLE[4]])  # the organisation's representative too
    with fresh(store_url, clock) as third:
        store = third.store
        p = store.sealing.vault.pseudonym
        with keys_asked(store) as asked:
            due = store.decision_states_due(third.decisions.basis(), clock.now)
        assert due == sorted([ORGS[2], REPS[2], PEOPLE[4]])
        assert {pair[0] for pair in asked} == {p(ORGS[2]), p(PEOPLE[4])}
        assert third.build_decision_state(everyone=False) == 3


def test_an_erased_registration_is_left_out_and_the_rest_found(store_url: str, clock: Clock) -> None:
    """A person whose registry key was destroyed is nowhere readable: its state stays emptied
    and uncomputed (decision 0068); the others' codes are still found, in a first build too."""
    registered(store_url, clock)
    with fresh(store_url, clock) as other:
        gone = other.store.sealing.vault.pseudonym(PEOPLE[1])
        assert other.store.erase_registry_keys([gone], clock.now, "test erasure") == 1
        other.store.empty_decision_states([PEOPLE[1], PEOPLE[2]])
    with fresh(store_url, clock) as third:
        assert third.store.decision_states_due(third.decisions.basis(), clock.now) == [PEOPLE[2]]
        with third.store.engine.begin() as conn:  # as if never built: a first build finds them
            conn.execute(text("DELETE FROM decision_state"))
    with fresh(store_url, clock) as fourth:
        due = fourth.store.decision_states_due(fourth.decisions.basis(), clock.now, everyone=True)
        assert due == sorted({*ORGS, *REPS, *PEOPLE} - {PEOPLE[1]})
