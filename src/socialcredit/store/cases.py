"""The due-process cases' concern in the store: their events, in a hash chain of their own.

Why a chain of their own: a case (objection, appeal, review, restoration) is folded from its
events (``dueprocess/cases.py``), so its history is only as trustworthy as the events, and they
are appended and verified as the ledger's records are, apart from the records' chain so a busy
ingest never waits on a case or the other way round.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from sqlalchemy import select

from socialcredit import ledger
from socialcredit.chaincheck import ChainProblem, Entry, verify_chain
from socialcredit.dueprocess.cases import CaseEvent
from socialcredit.store import tables as t
from socialcredit.store.base import Row, StoreBase, dumps
from socialcredit.store.decisionstate import touch
from socialcredit.store.logged import LoggedLeaves


def case_entry(m: Row) -> Entry:
    """A case event as its chain covers it, from its stored columns: what ``verify`` checks and
    what its leaf in the transparency log is (``Entry.leaf``)."""
    content = dumps(
        [
            m["case_id"],
            m["case_kind"],
            m["kind"],
            ledger.iso_dt(m["at"]),
            m["subject"],
            m["key_id"],
            m["role"],
            m["payload"],
        ]
    )
    label = f"case event #{m['seq']} ({m['case_id']})"
    return Entry(m["seq"], label, content, m["at"], "cases", m["chain_hash"])


class CaseStore(StoreBase):
    """Case events: append, read in order, verify."""

    def append_case_event(self, e: CaseEvent) -> CaseEvent:
        """Append one step of an objection or restoration case to its chain."""
        with self.engine.begin() as conn:
            count, head = self._lock_head(conn, "cases")
            count += 1
            payload = dumps(dict(e.payload))
            content = dumps(
                [e.case_id, e.case_kind, e.kind, ledger.iso_dt(e.at), e.subject, e.key_id, e.role, payload]
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
                    subject=e.subject,
                    key_id=e.key_id,
                    role=e.role,
                    payload=payload,
                    chain_hash=head,
                )
            )
            self._set_head(conn, "cases", count, head, leaves)
            kind = conn.execute(select(t.subjects.c.kind).where(t.subjects.c.code == e.subject)).scalar()
            # an organisation's objection counts in its representatives' decisions too
            touch(conn, [e.subject], [e.subject] if kind != "person" else [])
        return CaseEvent(e.case_id, e.case_kind, e.kind, e.at, e.subject, e.key_id, e.role, e.payload, count)

    def case_events(
        self, *, case_id: str | None = None, subject: str | None = None, case_kind: str | None = None
    ) -> list[CaseEvent]:
        """Case events in order, filtered; the service folds them into cases."""
        q = select(t.case_events).order_by(t.case_events.c.seq)
        if case_id is not None:
            q = q.where(t.case_events.c.case_id == case_id)
        if subject is not None:
            q = q.where(t.case_events.c.subject == subject)
        if case_kind is not None:
            q = q.where(t.case_events.c.case_kind == case_kind)
        with self.reader.connect() as conn:
            return [
                CaseEvent(
                    m["case_id"],
                    m["case_kind"],
                    m["kind"],
                    m["at"],
                    m["subject"],
                    m["key_id"],
                    m["role"],
                    json.loads(m["payload"]),
                    m["seq"],
                )
                for m in conn.execute(q).mappings()
            ]

    def verify_cases(self) -> list[ChainProblem]:
        """Recompute every case event's chain hash from what is stored now."""
        head = self.head("cases")

        def entries() -> Iterator[Entry]:
            with self.reader.connect() as conn:
                for m in conn.execute(select(t.case_events).order_by(t.case_events.c.seq)).mappings():
                    yield case_entry(m)

        return verify_chain(entries(), head=head, logged=LoggedLeaves(self, "cases"))
