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
- **A state answers only within its time**: from ``as_of`` to ``valid_until`` (the next
  midnight in China, or the first later report or case event among its inputs), and only under
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

from sqlalchemy import DateTime, bindparam, select, text, update
from sqlalchemy.engine import Connection

from socialcredit.store import tables as t
from socialcredit.store.base import CHUNK, StoreBase

_TOMBSTONE = text(
    "INSERT INTO decision_state (code, epoch) VALUES (:code, 1) ON CONFLICT (code) DO UPDATE SET "
    "epoch = decision_state.epoch + 1, basis = NULL, as_of = NULL, valid_until = NULL, payload = NULL"
)
_INSERT_NEW = text(
    "INSERT INTO decision_state (code, epoch, basis, as_of, valid_until, payload) "
    "VALUES (:code, 0, :basis, :as_of, :valid_until, :payload) ON CONFLICT (code) DO NOTHING"
).bindparams(bindparam("as_of", type_=DateTime), bindparam("valid_until", type_=DateTime))
_UPDATE_SEEN = (
    update(t.decision_state)
    .where(t.decision_state.c.code == bindparam("code_"), t.decision_state.c.epoch == bindparam("epoch_"))
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


def touch(conn: Connection, codes: Iterable[str], organisations: Iterable[str] = ()) -> None:
    """Empty the state of ``codes`` and of every person who represents or represented one of
    ``organisations``, in the caller's write transaction (the one that changes their inputs).
    In sorted order, so two writers touching the same rows lock them in the same order."""
    found = set(codes)
    orgs = sorted(set(organisations))
    for i in range(0, len(orgs), CHUNK):
        q = select(t.tenures.c.person).where(t.tenures.c.organisation.in_(orgs[i : i + CHUNK]))
        found.update(p for (p,) in conn.execute(q))
    if found:
        conn.execute(_TOMBSTONE, [{"code": c} for c in sorted(found)])


class DecisionStateStore(StoreBase):
    """Read and write the materialised decision state (see the module docstring)."""

    codes_of: Callable[[Connection, Iterable[str]], set[str]]  # ``RecordStore``'s, beside it

    def empty_decision_states(self, codes: Iterable[str]) -> None:
        """Empty the state of ``codes`` and of whoever represents one of them (an erasure changed
        their inputs without a write to the ledger: the records under a destroyed key)."""
        wanted = sorted(set(codes))
        with self.engine.begin() as conn:
            touch(conn, wanted, wanted)  # a person's code names no organisation: no tenure found

    def decision_state(self, code: str) -> StateRow | None:
        """``code``'s row (``None``: there is none): one indexed read."""
        dialect = self.dialect
        with dialect.raw_read(self.reader) as cur:
            cur.execute(
                "SELECT epoch, basis, as_of, valid_until, payload FROM decision_state "
                f"WHERE code = {dialect.mark}",
                (code,),
            )
            row = cur.fetchone()
        if row is None:
            return None
        epoch, basis, as_of, until, payload = row
        return StateRow(code, int(epoch), basis, dialect.read_ts(as_of), dialect.read_ts(until), payload)

    def put_decision_states(self, states: Sequence[NewState]) -> int:
        """Write each state unless its subject's epoch moved since it was read; how many were
        written."""
        fresh = [s for s in states if s.epoch is None]
        seen = [s for s in states if s.epoch is not None]
        written = 0
        with self.engine.begin() as conn:
            if fresh:
                for s in sorted(fresh, key=lambda s: s.code):
                    written += conn.execute(_INSERT_NEW, _values(s)).rowcount or 0
            if seen:
                rows = [{**_values(s), "code_": s.code, "epoch_": s.epoch} for s in seen]
                for row in rows:
                    del row["code"]
                rows.sort(key=lambda r: str(r["code_"]))
                written += conn.execute(_UPDATE_SEEN, rows).rowcount or 0
        return written

    def decision_states_due(self, basis: str, at: dt.datetime, *, everyone: bool = False) -> list[str]:
        """The subjects whose state cannot answer at ``at``: tombstones and expired states, and
        states under another ``basis``; with ``everyone``, also every registered subject or
        subject of a record that has no row yet (what a first build computes)."""
        s = t.decision_state
        due = (s.c.valid_until.is_(None)) | (s.c.valid_until <= at) | (s.c.as_of > at) | (s.c.basis != basis)
        with self.reader.connect() as conn:
            found = [c for (c,) in conn.execute(select(s.c.code).where(due))]
            if everyone:
                # records name a subject by its keyed pseudonym (decision 0046): opened to codes
                stored = [v for (v,) in conn.execute(select(t.records.c.subject).distinct())]
                known = {c for (c,) in conn.execute(select(t.subjects.c.code))}
                known |= {c for (c,) in conn.execute(select(t.tenures.c.person))}
                known |= self.codes_of(conn, stored)
                have = {c for (c,) in conn.execute(select(s.c.code))}
                found += sorted(known - have)
        return sorted(set(found))


def _values(s: NewState) -> dict[str, object]:
    return {
        "code": s.code,
        "basis": s.basis,
        "as_of": s.as_of,
        "valid_until": s.valid_until,
        "payload": s.payload,
    }
