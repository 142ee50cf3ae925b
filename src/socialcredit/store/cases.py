"""The due-process cases' concern in the store: their events, in a hash chain of their own.

Why a chain of their own: a case (objection, appeal, review, restoration) is folded from its
events (``dueprocess/cases.py``), so its history is only as trustworthy as the events, and they
are appended and verified as the ledger's records are, apart from the records' chain so a busy
ingest never waits on a case or the other way round.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, RowMapping

from socialcredit import ledger
from socialcredit.chaincheck import ChainProblem, Entry, own_hash, own_ok, verify_chain
from socialcredit.dueprocess.cases import CaseEvent
from socialcredit.store import tables as t
from socialcredit.store.base import Row, StoreBase, dumps
from socialcredit.store.decisionstate import touch
from socialcredit.store.logged import LoggedLeaves
from socialcredit.store.sealedcases import (
    ErasedCase,
    case_class,
    erased_cases,
    fresh_class,
    open_events,
    seal_event,
)
from socialcredit.store.sealedrows import Sealing, is_pseudonym


def case_content(
    case_id: str,
    case_kind: str,
    kind: str,
    at: dt.datetime,
    subject: str,
    key_id: str | None,
    role: str | None,
    payload: str,
    klass: str | None,
    sealed: str | None,
) -> str:
    """What a case event's chain hash covers: its stored columns. A sealed event's (decision
    0061) include its class and ciphertext, so an erased event still verifies; one stored in the
    clear (before schema 0012) hashes as it always did."""
    content: list[Any] = [case_id, case_kind, kind, ledger.iso_dt(at), subject, key_id, role, payload]
    if sealed is not None:
        content += [klass, sealed]
    return dumps(content)


def case_entry(m: Row) -> Entry:
    """A case event as its chain covers it, from its stored columns: what ``verify`` checks and
    what its leaf in the transparency log is (``Entry.leaf``)."""
    content = case_content(
        m["case_id"],
        m["case_kind"],
        m["kind"],
        m["at"],
        m["subject"],
        m["key_id"],
        m["role"],
        m["payload"],
        m.get("klass"),
        m.get("sealed"),
    )
    label = f"case event #{m['seq']} ({m['case_id']})"
    ok = own_ok(m.get("own_hash"), content, m["at"], "cases")
    return Entry(m["seq"], label, content, m["at"], "cases", m["chain_hash"], ok)


class CaseStore(StoreBase):
    """Case events: append, read in order, verify. Each is stored sealed (``sealedcases.py``)."""

    sealing: Sealing
    """The store's one sealing (``RecordStore``): the vault and the keyed pseudonym."""

    def case_class_of(self, e: CaseEvent) -> str:
        """The class ``e`` is sealed under: that of its case's filing (its first event, found by
        the indexed ``case_id``), or for a new case the subject's current class of its filing
        year and kind (``sealedcases.fresh_class``)."""
        c = t.case_events.c
        with self.reader.connect() as conn:
            first = conn.execute(
                select(c.at, c.klass).where(c.case_id == e.case_id).order_by(c.seq).limit(1)
            ).first()
        if first is not None:
            return str(first.klass) if first.klass is not None else case_class(first.at)
        return fresh_class(self.sealing, self.sealing.pseudonym(e.subject), case_class(e.at, e.case_kind))

    def append_case_event(self, e: CaseEvent) -> CaseEvent:
        """Append one step of an objection or restoration case to its chain, sealed (outside
        the chain's lock: the key may have to be made)."""
        klass = self.case_class_of(e)
        pseudonym, sealed = seal_event(self.sealing, e, klass)
        with self.engine.begin() as conn:
            count, head = self._lock_head(conn, "cases")
            count += 1
            payload = ""
            content = case_content(
                e.case_id, e.case_kind, e.kind, e.at, pseudonym, e.key_id, e.role, payload, klass, sealed
            )
            leaves: list[bytes] = []
            head = ledger.chain_hash(head, count, content, e.at, "cases", leaves)
            conn.execute(
                t.case_events.insert().values(
                    seq=count,
                    case_id=e.case_id,
                    case_kind=e.case_kind,
                    kind=e.kind,
                    at=e.at,
                    subject=pseudonym,
                    key_id=e.key_id,
                    role=e.role,
                    payload=payload,
                    klass=klass,
                    sealed=sealed,
                    chain_hash=head,
                    own_hash=own_hash(content, e.at, "cases"),
                )
            )
            self._set_head(conn, "cases", count, head, leaves)
            s = t.subjects.c
            kind = conn.execute(select(s.kind).where(s.subject == pseudonym)).scalar()
            # an organisation's objection counts in its representatives' decisions too
            touch(
                conn,
                self.sealing.pseudonym,
                [e.subject],
                [e.subject] if kind != "person" else [],
                dialect=self.dialect,
            )
        return CaseEvent(e.case_id, e.case_kind, e.kind, e.at, e.subject, e.key_id, e.role, e.payload, count)

    def _case_rows(self, case_id: str | None, subject: str | None, case_kind: str | None) -> list[RowMapping]:
        q = select(t.case_events).order_by(t.case_events.c.seq)
        if case_id is not None:
            q = q.where(t.case_events.c.case_id == case_id)
        if subject is not None:  # its pseudonym, or its code in events stored in the clear
            q = q.where(t.case_events.c.subject.in_([self.sealing.pseudonym(subject), subject]))
        if case_kind is not None:
            q = q.where(t.case_events.c.case_kind == case_kind)
        with self.reader.connect() as conn:
            return list(conn.execute(q).mappings())

    def case_events(
        self, *, case_id: str | None = None, subject: str | None = None, case_kind: str | None = None
    ) -> list[CaseEvent]:
        """Case events in order, filtered, decrypted; the service folds them into cases. The
        events of a case whose key was destroyed are left out (:meth:`erased_cases`)."""
        return open_events(self.sealing, self._case_rows(case_id, subject, case_kind))

    def erased_cases(
        self, *, case_id: str | None = None, subject: str | None = None, case_kind: str | None = None
    ) -> list[ErasedCase]:
        """The cases (filtered as :meth:`case_events`) whose key was destroyed: read as "erased
        on D under rule R"."""
        return erased_cases(self.sealing, self._case_rows(case_id, subject, case_kind))

    def case_groups(self) -> dict[tuple[str, str], list[str]]:
        """Every (pseudonym, class) with sealed case events, and its cases' ids: what
        ``retention run`` judges each case key by."""
        c = t.case_events.c
        out: dict[tuple[str, str], list[str]] = {}
        with self.reader.connect() as conn:
            q = select(c.subject, c.klass, c.case_id).where(c.sealed.is_not(None)).distinct()
            for subject, klass, case_id in conn.execute(q):
                out.setdefault((subject, klass), []).append(case_id)
        return out

    def case_classes_of(self, pseudonym: str) -> dict[str, set[str]]:
        """The classes this subject's sealed case events are under, each with its cases' ids
        (indexed by ``subject``): what an erasure on request judges each case key by."""
        c = t.case_events.c
        out: dict[str, set[str]] = {}
        with self.reader.connect() as conn:
            q = select(c.klass, c.case_id).where(c.subject == pseudonym, c.sealed.is_not(None)).distinct()
            for klass, case_id in conn.execute(q):
                out.setdefault(str(klass), set()).add(str(case_id))
        return out

    def case_events_under(self, pseudonym: str, klass: str) -> list[CaseEvent]:
        """The live events sealed under one key (indexed by ``subject``), decrypted."""
        c = t.case_events.c
        q = select(t.case_events).where(c.subject == pseudonym, c.klass == klass).order_by(c.seq)
        with self.reader.connect() as conn:
            return open_events(self.sealing, conn.execute(q).mappings())

    def case_subjects_since(self, conn: Connection, cases_seq: int) -> set[str]:
        """Subjects of the case events since this chain position (``Store.subjects_touched_since``)."""
        found = conn.execute(select(t.case_events.c.subject).where(t.case_events.c.seq > cases_seq))
        return self.case_codes(conn, {c for (c,) in found})

    def case_codes(self, conn: Connection, values: Iterable[str]) -> set[str]:
        """The subject codes of these ``case_events.subject`` values: a code stays itself, a
        pseudonym is opened from one of its live events (an erased one is left out)."""
        out, wanted = set(), set()
        for v in values:
            if not is_pseudonym(v):
                out.add(v)
            elif v in self.sealing.codes:
                out.add(self.sealing.codes[v])
            else:
                wanted.add(v)
        c = t.case_events.c
        parts = sorted(wanted)
        for i in range(0, len(parts), 500):
            part = parts[i : i + 500]
            first = select(func.min(c.seq)).where(c.subject.in_(part)).group_by(c.subject, c.klass)
            rows = list(conn.execute(select(t.case_events).where(c.seq.in_(first))).mappings())
            out |= {e.subject for e in open_events(self.sealing, rows)}
        return out

    def verify_cases(self) -> list[ChainProblem]:
        """Recompute every case event's chain hash from what is stored now."""
        head = self.head("cases")

        def entries() -> Iterator[Entry]:
            with self.reader.connect() as conn:
                for m in conn.execute(select(t.case_events).order_by(t.case_events.c.seq)).mappings():
                    yield case_entry(m)

        return verify_chain(entries(), head=head, logged=LoggedLeaves(self, "cases"))
