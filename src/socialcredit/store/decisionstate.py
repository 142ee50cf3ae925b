"""Each subject's decision state, materialised: one row per subject holding its decision on every
measure, from when and until when it holds, under which schemes (decision 0048).

Why: a question about a subject nobody asked about lately cost the whole cold path (eight
statements and the scoring of its records) on the request; with the state kept in the database,
it is one indexed read in any worker. The state is derived (in no chain) and kept right thus:

- **Every write that can change a decision empties the state of whom it touches, in its own
  transaction** (:func:`touch`): a record (its subject's and, for a correction, the corrected
  record's subject's), a case event, a registration; for an organisation, also every person who
  represents it or did (``tenures``), since a person's decisions include its organisations'
  listings. The row's ``epoch`` moves and its state becomes empty: a *tombstone*. So no reader
  anywhere sees a state older than a committed change: fresher than the 1 second asked.
- **A state is written only over the epoch it was computed under**
  (:meth:`DecisionStateStore.put_decision_states`): the writer reads the epoch before reading
  the inputs; if a change came in between, the epoch moved and the write does nothing. Where
  no row was read, only an insert can happen, and a tombstone made meanwhile wins the conflict.
- **A state answers only within its time**: from ``as_of`` to ``valid_until`` (the first day
  its answer can change, ``socialcredit.validity``, decision 0083, or the first later report or
  case event among its inputs), and only under
  the same ``basis`` (a digest of the scheme files and holidays it was computed under). Outside
  that it is due: the question is computed from the ledger, and the sweep
  (``Decisions.keep_state``) writes the state again.

What it offers to other readers: :meth:`~DecisionStateStore.decision_state` (one subject's row),
:meth:`~DecisionStateStore.decision_states_due` (who needs computing) and
:meth:`~DecisionStateStore.put_decision_states` (conditional writes); the payload's meaning is the
service's (``service/statecodec.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import DateTime, bindparam, exists, select, text, update
from sqlalchemy.engine import Connection

from socialcredit.store import tables as t
from socialcredit.store.base import CHUNK, StoreBase
from socialcredit.store.dialect import Dialect
from socialcredit.store.sealedrows import Sealing, is_pseudonym

_TOMBSTONE = (
    "epoch = decision_state.epoch + 1, basis = NULL, as_of = NULL, valid_until = NULL, payload = NULL"
)
"""What :func:`touch` sets in a subject's row that is there (a new one is inserted at epoch 1)."""
_INSERT_NEW = text(
    "INSERT INTO decision_state (subject, epoch, basis, as_of, valid_until, payload) "
    "VALUES (:subject, 0, :basis, :as_of, :valid_until, :payload) ON CONFLICT (subject) DO NOTHING"
).bindparams(bindparam("as_of", type_=DateTime), bindparam("valid_until", type_=DateTime))
_UPDATE_SEEN = (
    update(t.decision_state)
    .where(
        t.decision_state.c.subject == bindparam("subject_"), t.decision_state.c.epoch == bindparam("epoch_")
    )
    .values(
        basis=bindparam("basis"),
        as_of=bindparam("as_of"),
        valid_until=bindparam("valid_until"),
        payload=bindparam("payload"),
    )
)


@dataclass(frozen=True, slots=True)
class StateRow:
    """One subject's row: ``epoch`` always; the rest ``None`` for a tombstone."""

    code: str
    epoch: int
    basis: str | None
    as_of: dt.datetime | None
    valid_until: dt.datetime | None
    payload: str | None

    def answers(self, basis: str, at: dt.datetime) -> bool:
        """Whether this state may answer for ``at`` under ``basis``."""
        return (
            self.payload is not None
            and self.basis == basis
            and self.as_of is not None
            and self.valid_until is not None
            and self.as_of <= at < self.valid_until
        )


@dataclass(frozen=True, slots=True)
class NewState:
    """A state to write: computed under ``epoch`` (``None``: no row was there when it was read)."""

    code: str
    epoch: int | None
    basis: str
    as_of: dt.datetime
    valid_until: dt.datetime
    payload: str


def touch(
    conn: Connection,
    pseudonym: Callable[[str], str],
    codes: Iterable[str],
    organisations: Iterable[str] = (),
    *,
    dialect: Dialect,
) -> None:
    """Empty the state of ``codes`` and of every person who represents or represented one of
    ``organisations``, in the caller's write transaction (the one that changes their inputs);
    each row is named by ``pseudonym`` of the code (the store's keyed pseudonym, whose key the
    caller made before its transaction: the key table is written by a connection of its own).
    In sorted order, so two writers touching the same rows lock them in the same order; by the
    backend's bulk merge (``dialect.merge_rows``: ``COPY`` on PostgreSQL), as an ingest chunk
    touches a subject every few records."""
    found = {pseudonym(c) for c in codes}
    orgs = sorted({pseudonym(c) for c in organisations})
    for i in range(0, len(orgs), CHUNK):  # ``tenures`` names both by pseudonym (decision 0074)
        q = select(t.tenures.c.person).where(t.tenures.c.organisation.in_(orgs[i : i + CHUNK]))
        found.update(p for (p,) in conn.execute(q))
    if found:
        rows = [(p, 1) for p in found]
        dialect.merge_rows(
            conn, "decision_state", ("subject", "epoch"), rows, key=("subject",), update=_TOMBSTONE
        )


class DecisionStateStore(StoreBase):
    """Read and write the materialised decision state (see the module docstring)."""

    code_map: Callable[[Connection, Iterable[str]], dict[str, str]]  # ``SealedStore``'s
    registered_codes: Callable[[Connection, Iterable[str]], dict[str, str]]  # ``SubjectStore``'s
    sealing: Sealing
    """The store's one sealing (``RecordStore``): the keyed pseudonym rows are named by."""

    def empty_decision_states(self, codes: Iterable[str]) -> None:
        """Empty the state of ``codes`` and of whoever represents one of them (an erasure changed
        their inputs without a write to the ledger: the records under a destroyed key)."""
        wanted = sorted(set(codes))
        self.sealing.vault.keyed()  # made before the transaction, if new (see :func:`touch`)
        with self.engine.begin() as conn:
            # a person's code names no organisation: no tenure found
            touch(conn, self.sealing.pseudonym, wanted, wanted, dialect=self.dialect)

    def decision_state(self, code: str) -> StateRow | None:
        """``code``'s row (``None``: there is none): one indexed read, by its pseudonym."""
        sql, params = self.decision_state_query(code)
        with self.dialect.raw_read(self.reader) as cur:
            cur.execute(sql, params)
            return self.decision_state_row(code, cur.fetchone())

    def decision_state_query(self, code: str) -> tuple[str, tuple[str]]:
        """The statement that reads ``code``'s row, and its parameters: for a caller that reads
        it beside something else in one transaction (``store/markers.py``, decision 0088)."""
        sql = "SELECT epoch, basis, as_of, valid_until, payload FROM decision_state WHERE subject = "
        return sql + self.dialect.mark, (self.sealing.pseudonym(code),)

    def decision_state_row(self, code: str, row: Sequence[Any] | None) -> StateRow | None:
        """``code``'s row from what :meth:`decision_state_query` fetched."""
        if row is None:
            return None
        epoch, basis, as_of, until, payload = row
        read_ts = self.dialect.read_ts
        return StateRow(code, int(epoch), basis, read_ts(as_of), read_ts(until), payload)

    def decision_state_epochs(self, codes: Sequence[str]) -> dict[str, int]:
        """The epoch of each of ``codes`` that has a row (a build reads them all before any of
        their inputs: what :meth:`put_decision_states` writes over), in statements of
        ``CHUNK`` codes rather than one read a subject."""
        pseudonym = self.sealing.pseudonym
        named = {pseudonym(c): c for c in codes}
        found: dict[str, int] = {}
        keys = sorted(named)
        s = t.decision_state
        with self.reader.connect() as conn:
            for i in range(0, len(keys), CHUNK):
                q = select(s.c.subject, s.c.epoch).where(s.c.subject.in_(keys[i : i + CHUNK]))
                found.update((named[p], int(e)) for p, e in conn.execute(q))
        return found

    def put_decision_states(self, states: Sequence[NewState]) -> int:
        """Write each state unless its subject's epoch moved since it was read; how many were
        written."""
        pseudonym = self.sealing.pseudonym
        fresh = [s for s in states if s.epoch is None]
        seen = [s for s in states if s.epoch is not None]
        written = 0
        with self.engine.begin() as conn:
            if fresh:
                news = sorted((_values(s, pseudonym(s.code)) for s in fresh), key=lambda v: str(v["subject"]))
                for values in news:
                    written += conn.execute(_INSERT_NEW, values).rowcount or 0
            if seen:
                rows = [
                    {**_values(s, pseudonym(s.code)), "subject_": pseudonym(s.code), "epoch_": s.epoch}
                    for s in seen
                ]
                for row in rows:
                    del row["subject"]
                rows.sort(key=lambda r: str(r["subject_"]))
                written += conn.execute(_UPDATE_SEEN, rows).rowcount or 0
        return written

    def decision_states_due(
        self, basis: str, at: dt.datetime, *, everyone: bool = False, expired_only: bool = False
    ) -> list[str]:
        """The subjects whose state cannot answer at ``at``: tombstones and expired states, and
        states under another ``basis`` or made after ``at``; with ``everyone``, also every
        registered subject or subject of a record that has no row yet (what a first build
        computes). With ``expired_only``, tombstones and expired states only: two searches of
        the ``valid_until`` index, where the other tests read every row (decision 0083: the
        sweep's rounds between full ones, when the basis has not changed)."""
        s = t.decision_state
        due = (s.c.valid_until.is_(None)) | (s.c.valid_until <= at)
        if not expired_only:
            due = due | (s.c.as_of > at) | (s.c.basis != basis)
        with self.reader.connect() as conn:
            pending = {p for (p,) in conn.execute(select(s.c.subject).where(due))}
            if everyone:
                # who has no row, found by the database (decision 0083), opened by the one
                # indexed lookup from pseudonyms to codes (decision 0086)
                pending |= self._unstated(conn)
            found = self._codes(conn, pending)
        return sorted(found)

    def _unstated(self, conn: Connection) -> set[str]:
        """The pseudonym of every subject with no row yet: registered, representing, or named by a
        record. Records, registrations and terms name subjects by the same keyed pseudonym as the
        rows, so the database finds those lacking one by an anti-join, opening nothing (a first
        round after a start opened every registration and record's subject before: decision
        0083). A record stored in the clear (before schema 0006) names its code: hashed here,
        and kept if no row has its pseudonym."""
        s = t.decision_state
        pending: set[str] = set()
        clear: set[str] = set()
        for col in (t.records.c.subject, t.subjects.c.subject, t.tenures.c.person):
            lacking = select(col).distinct().where(~exists().where(s.c.subject == col))
            for (v,) in conn.execute(lacking):
                (pending if is_pseudonym(str(v)) else clear).add(str(v))
        if clear:
            hashed = sorted({self.sealing.pseudonym(code) for code in clear})
            have: set[str] = set()
            for i in range(0, len(hashed), 500):
                part = hashed[i : i + 500]
                have |= {str(p) for (p,) in conn.execute(select(s.c.subject).where(s.c.subject.in_(part)))}
            pending.update(set(hashed) - have)
        return pending

    def _codes(self, conn: Connection, pseudonyms: set[str]) -> set[str]:
        """The codes of these rows' pseudonyms: those this process named (most: it touched
        them), then those opened from one of their records, then from their registration or
        term (indexed reads, opening only what they find: decision 0086); one whose code is
        nowhere readable any more (an erased subject) is left out."""
        cached = self.sealing.codes
        found = {p: cached[p] for p in pseudonyms if p in cached}
        rest = pseudonyms - found.keys()
        if rest:
            found.update(self.code_map(conn, rest))
            rest -= found.keys()
        if rest:
            found.update(self.registered_codes(conn, rest))
        return set(found.values())


def _values(s: NewState, subject: str) -> dict[str, object]:
    return {
        "subject": subject,
        "basis": s.basis,
        "as_of": s.as_of,
        "valid_until": s.valid_until,
        "payload": s.payload,
    }
