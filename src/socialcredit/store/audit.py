"""The audit log's concern in the store: appending entries to their chain, and reading them.

Why apart from the group commit (``store/auditwriter.py``): the writer decides *when* a group
is committed; this decides *what* a commit writes (:meth:`AuditStore.audit_statements`), one way
for every path that appends (a group of decisions and reads, a public lookup audited on its own,
and on SQLite the synced connection of its own: ``store/auditsqlite.py``), so the chain is the
same whichever path wrote it.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, case, exists, func, or_, select

from socialcredit import ledger
from socialcredit.chaincheck import ChainProblem, Entry, own_hash, own_ok, verify_chain
from socialcredit.errors import NotFound
from socialcredit.i18n import N_
from socialcredit.shredding import AUDIT_CLASS, ERASED_CODE
from socialcredit.store import tables as t
from socialcredit.store.auditseal import AuditSealing
from socialcredit.store.base import Row, StoreBase, dumps
from socialcredit.store.logged import LoggedLeaves
from socialcredit.store.sealedrows import Sealing

AUDIT_FIELDS = ("at", "key_id", "role", "principal", "action", "subject", "measure", "purpose", "answer")
AUDIT_COLUMNS = ("seq", *AUDIT_FIELDS, "detail", "chain_hash", "decision_id", "sealed", "own_hash")
AUDIT_ROWS_PER_INSERT = 500


@dataclass(frozen=True)
class AuditQuery:
    """The audit log's filters (each one optional, all of them together): an action (its kind:
    ``decision``, ``read``, ``key-create``...), the acting principal or key, the subject, and the
    days from ``since`` to ``until`` inclusive (UTC)."""

    action: str | None = None
    principal: str | None = None
    key_id: str | None = None
    subject: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None

    def conditions(self, pseudonym: Callable[[str], str]) -> list[ColumnElement[bool]]:
        """The filters as SQL; a subject's code is looked up by its ``pseudonym`` (what the
        ``subject`` column holds, and ``principal`` where a subject acted: decision 0060)."""
        c = t.audit.c
        out: list[ColumnElement[bool]] = []
        for column, value in ((c.action, self.action), (c.key_id, self.key_id)):
            if value is not None:
                out.append(column == value)
        if self.principal is not None:
            out.append(c.principal.in_([self.principal, pseudonym(self.principal)]))
        if self.subject is not None:
            out.append(about(pseudonym(self.subject)))
        if self.since is not None:
            out.append(c.at >= dt.datetime.combine(self.since, dt.time.min))
        if self.until is not None:
            out.append(c.at <= dt.datetime.combine(self.until, dt.time.max))
        return out

    def stated(self) -> dict[str, str]:
        """The filters given, as text (the export's own audit entry names them)."""
        return {k: str(v) for k, v in vars(self).items() if v is not None}


def about(pseudonym: str) -> ColumnElement[bool]:
    """The entries naming ``pseudonym`` as their subject, in the terms of the person index
    (``ix_audit_person_at``: every entry naming a subject is sealed, and its person is its
    subject), so that index serves them: revision 0018 dropped the one on (subject, at) to save a
    random index key a decision (decision 0100)."""
    a, person = t.audit.c, t.AUDIT_PERSON
    return (person == pseudonym) & a.sealed.is_not(None) & (a.subject == pseudonym)


def _shown() -> list[Any]:
    """An entry's columns as read back: the chained ones (``decision_id`` is only an index);
    ``sealed`` is read to open the codes, and left out of what is returned."""
    return [c for c in t.audit.columns if c.name != "decision_id"]


def audit_content(row: Row) -> str:
    """What an entry's chain link covers: its stored columns, ``sealed`` only where it is set (so
    entries stored before schema 0011 keep their hashes)."""
    at = row["at"]
    sealed = row.get("sealed")
    return dumps(
        [
            ledger.iso_dt(at) if isinstance(at, dt.datetime) else at,
            row.get("key_id"),
            row.get("role"),
            row.get("principal"),
            row.get("action"),
            row.get("subject"),
            row.get("measure"),
            row.get("purpose"),
            row.get("answer"),
            row["detail"],
            *([sealed] if sealed else []),
        ]
    )


def audit_entry(m: Row) -> Entry:
    """An audit entry as its chain covers it, from its stored columns: what ``verify`` checks
    and what its leaf in the transparency log is (``Entry.leaf``)."""
    seq, content = m["seq"], audit_content(dict(m))
    ok = own_ok(m.get("own_hash"), content, m["at"], "audit")
    return Entry(seq, f"audit#{seq}", content, m["at"], "audit", m["chain_hash"], ok)


class AuditStore(StoreBase):
    """The audit chain: group appends, the log, the decision counts and verification."""

    sealing: Sealing  # ``RecordStore``'s, beside it

    @property
    def audit_sealing(self) -> AuditSealing:
        """Seals and opens the subjects' codes in entries (``store/auditseal.py``), made on first use."""
        found: AuditSealing | None = self.__dict__.get("_audit_sealing")
        if found is None:
            found = self.__dict__["_audit_sealing"] = AuditSealing(self.sealing)
        return found

    def erase_audit_keys(self, pseudonyms: Sequence[str], at: dt.datetime, rule: str) -> int:
        """Destroy the audit key of each subject of ``pseudonyms`` whose every record key is
        destroyed, logged as erased at ``at`` under ``rule``: the codes in the audit entries
        about it then read as erased (decision 0060). Returns how many keys were destroyed."""
        if not pseudonyms:
            return 0
        r = t.records.c
        q = select(r.subject, r.klass).distinct().where(r.subject.in_(pseudonyms), r.sealed.is_not(None))
        classes: dict[str, list[str]] = {}
        with self.reader.connect() as conn:
            for p, klass in conn.execute(q):
                classes.setdefault(str(p), []).append(str(klass))
        return self.audit_sealing.erase_audit_keys(pseudonyms, classes, at, rule)

    def stale_audit_keys(self, before: dt.datetime) -> list[tuple[str, str]]:
        """The (pseudonym, audit class) of each person whose newest sealed audit entry is older
        than ``before`` and whose audit key cannot go with a record key: one never recorded
        (no record names them), or one whose records' keys went before (the entry's class is a
        later generation, ``audit.1``...). The class is that of their newest entry: the key
        still in use (decision 0071). One pass of the index on person and time (decision 0094)."""
        with self.reader.connect() as conn:
            return [
                (str(m.subject if m.subject is not None else m.principal), str(m.sealed).split(":", 1)[0])
                for m in conn.execute(self.stale_audit_query(before))
            ]

    @staticmethod
    def stale_audit_query(before: dt.datetime) -> Select[tuple[Any, Any, Any]]:
        """The query of :meth:`stale_audit_keys`, apart so a test can read its plan: the newest
        sealed entry of each person (grouped by the indexed ``t.AUDIT_PERSON``, so the index's
        order serves the grouping), then a primary-key read of each and an indexed probe of
        ``records.subject``."""
        a, r = t.audit.c, t.records.c
        person = t.AUDIT_PERSON  # the indexed expression (ix_audit_person_at, decision 0094)
        newest = (
            select(func.max(a.seq))
            .where(a.sealed.is_not(None))
            .group_by(person)
            .having(func.max(a.at) < before)
        )
        recorded = exists().where(r.subject == person)
        return select(a.subject, a.principal, a.sealed).where(
            a.seq.in_(newest), or_(~recorded, ~a.sealed.like(f"{AUDIT_CLASS}:%"))
        )

    def append_audit(self, entries: Sequence[Mapping[str, Any]], *, durable: bool = False) -> None:
        """Append audit entries to their chain in one transaction; committed before the answer
        is returned. ``durable`` asks SQLite to sync the commit to disk (``synchronous=FULL``, on
        a connection of its own: ``store/auditsqlite.py``): the group commit of decisions uses
        it, so an acknowledged decision survives a power cut and not only a crash of the
        process; one fsync is shared by every entry in the group. (PostgreSQL commits are
        durable already.)"""
        if not entries:
            return
        if durable:
            appender = self.dialect.durable_audit(self)
            if appender is not None:
                appender.append(entries)
                return
        rows = self.audit_sealing.stored(entries)  # may make a key: before the chain's lock
        with self.engine.begin() as conn:
            count, head = self._lock_head(conn, "audit")
            leaves: list[bytes] = []
            statements, count, head = self.audit_statements(count, head, rows, leaves)
            for sql, params in statements:
                conn.exec_driver_sql(sql, params)
            self._set_head(conn, "audit", count, head, leaves)

    def audit_statements(
        self, count: int, head: str, rows: Sequence[Mapping[str, Any]], leaves: list[bytes]
    ) -> tuple[list[tuple[str, tuple[Any, ...]]], int, str]:
        """The INSERT statements that append ``rows`` (entries as stored: ``AuditSealing.stored``)
        after (``count``, ``head``), and the chain's new count and head; each entry's Merkle leaf
        hash is appended to ``leaves``.
        One multi-row INSERT per 500 entries, not an executemany:
        the DB-API driver releases the GIL around every statement step, and a writer thread
        that must win the GIL back from a busy event loop once per row was what made group
        commits slow."""
        mark, ts = self.dialect.mark, self.dialect.ts
        one = "(" + ", ".join([mark] * len(AUDIT_COLUMNS)) + ")"
        statements: list[tuple[str, tuple[Any, ...]]] = []
        values: list[Any] = []
        for n, row in enumerate(rows, start=1):
            count += 1
            text, at = row["detail"], row["at"]
            content = audit_content(row)
            head = ledger.chain_hash(head, count, content, at, "audit", leaves)
            ident, own = row.get("decision_id"), own_hash(content, at, "audit")
            values += [
                count,
                ts(at),
                *(row[k] for k in AUDIT_FIELDS[1:]),
                text,
                head,
                ident,
                row["sealed"],
                own,
            ]
            if n % AUDIT_ROWS_PER_INSERT == 0 or n == len(rows):
                many = len(values) // len(AUDIT_COLUMNS)
                sql = f"INSERT INTO audit ({', '.join(AUDIT_COLUMNS)}) VALUES {', '.join([one] * many)}"
                statements.append((sql, tuple(values)))
                values = []
        return statements, count, head

    def audit_entries(
        self,
        *,
        subject: str | None = None,
        limit: int = 100,
        before: int | None = None,
        query: AuditQuery | None = None,
    ) -> list[dict[str, Any]]:
        """The newest ``limit`` entries before seq ``before``, about ``subject``, and matching
        ``query`` (the auditor's filters) when given."""
        q = select(*_shown()).order_by(t.audit.c.seq.desc()).limit(limit)
        if subject is not None:
            q = q.where(about(self.sealing.pseudonym(subject)))
        if before is not None:
            q = q.where(t.audit.c.seq < before)
        if query is not None:
            q = q.where(*query.conditions(self.sealing.pseudonym))
        with self.reader.connect() as conn:
            rows = list(conn.execute(q).mappings())
        return self.audit_sealing.opened(rows)

    def audit_subject(self, seq: int) -> str | None:
        """The subject audit entry ``seq`` is about (who else may ask for its proof): its code,
        opened; None if it names nobody or its subject was erased (decision 0060)."""
        with self.reader.connect() as conn:
            row = conn.execute(select(*_shown()).where(t.audit.c.seq == seq)).mappings().first()
        if row is None:
            raise NotFound(N_("no audit entry by that seq"), field="seq")
        subject = self.audit_sealing.opened([row])[0]["subject"]
        return None if subject is None or subject == ERASED_CODE else str(subject)

    def decision_entry(self, decision_id: str) -> dict[str, Any] | None:
        """The audit entry of the decision ``decision_id`` (its receipt names it; ``pseudonym``:
        its subject's, as stored), or ``None``:
        found through the indexed ``decision_id`` column, and held to the receipt in the chained
        detail (the column is derived; the detail is the evidence)."""
        q = select(*_shown()).where(t.audit.c.decision_id == decision_id, t.audit.c.action == "decision")
        with self.reader.connect() as conn:
            rows = list(conn.execute(q.order_by(t.audit.c.seq)).mappings())
        for m in rows:
            if json.loads(m["detail"]).get("receipt", {}).get("decision_id") == decision_id:
                # the pseudonym kept beside the code: an erased subject's erasures are found by it
                return {**self.audit_sealing.opened([m])[0], "pseudonym": m["subject"]}
        return None

    def decision_counts(self, until: dt.datetime | None = None) -> dict[str, dict[str, int]]:
        """Decisions answered per measure and answer, from the audit log (measures applied), all
        or those answered by ``until``."""
        out: dict[str, dict[str, int]] = {}
        q = select(t.audit.c.measure, t.audit.c.answer, func.count()).where(t.audit.c.action == "decision")
        if until is not None:
            q = q.where(t.audit.c.at <= until)
        with self.reader.connect() as conn:
            for measure, answer, n in conn.execute(q.group_by(t.audit.c.measure, t.audit.c.answer)):
                out.setdefault(measure, {})[answer] = int(n)
        return dict(sorted(out.items()))

    def decisions_by_subject(self, until: dt.datetime | None = None) -> dict[str, tuple[int, int]]:
        """Per subject asked about, by its pseudonym (``sealing.pseudonym``: the codes are sealed,
        decision 0060): (decisions answered, of them denied), from the audit log (the
        transparency report's rate of adverse decisions per group), all or by ``until``."""
        denied = func.sum(case((t.audit.c.answer == "deny", 1), else_=0))
        # grouped by the person index's expression, which is the subject where one is named
        # (every such entry is sealed): the index's order serves the grouping (decision 0100)
        q = select(t.AUDIT_PERSON, func.count(), denied).where(
            t.audit.c.action == "decision", t.audit.c.subject.is_not(None), t.audit.c.sealed.is_not(None)
        )
        if until is not None:
            q = q.where(t.audit.c.at <= until)
        with self.reader.connect() as conn:
            return {
                str(subject): (int(n), int(d or 0))
                for subject, n, d in conn.execute(q.group_by(t.AUDIT_PERSON))
            }

    def looks_about(
        self, subject: str, *, limit: int = 200, until: dt.datetime | None = None
    ) -> tuple[list[dict[str, Any]], int, dt.datetime | None]:
        """What "who asked about me" shows: the latest ``limit`` entries about ``subject`` by
        anyone but the subject itself, and the subject's own looks counted apart (how many, the
        last when). Why apart: one's own page views, each audited, flooded the list and pushed
        out the looks of others, which are what the list is for (issue 18). With ``until``, as
        the log stood then (entries made by then)."""
        subject = self.sealing.pseudonym(subject)  # what the columns hold (decision 0060)
        own = (func.coalesce(t.audit.c.role, "") == "subject") & (
            func.coalesce(t.audit.c.principal, "") == subject
        )
        named = about(subject)
        if until is not None:
            named = named & (t.audit.c.at <= until)
        q = select(*_shown()).where(named, ~own).order_by(t.audit.c.seq.desc()).limit(limit)
        # a page view also lists the subject's documents, audited as an entry of its own
        # (``documents``): counted once, as the view it is part of
        views = own & (t.audit.c.action != "documents")
        with self.reader.connect() as conn:
            found = list(conn.execute(q).mappings())
            n, last = conn.execute(select(func.count(), func.max(t.audit.c.at)).where(named, views)).one()
        return (
            self.audit_sealing.opened(found),
            int(n),
            last if isinstance(last, dt.datetime) or last is None else self.dialect.read_ts(last),
        )

    def looks_after(self, subject: str, at: dt.datetime) -> int:
        """How many entries about ``subject`` were made after ``at``: what a page as known at
        ``at`` leaves out (the subject's own listings of its documents not counted, as in
        :meth:`looks_about`)."""
        subject = self.sealing.pseudonym(subject)
        own_documents = (
            (func.coalesce(t.audit.c.role, "") == "subject")
            & (func.coalesce(t.audit.c.principal, "") == subject)
            & (t.audit.c.action == "documents")
        )
        q = select(func.count()).where(about(subject), t.audit.c.at > at, ~own_documents)
        with self.reader.connect() as conn:
            return int(conn.execute(q).scalar_one())

    def verify_audit(self) -> list[ChainProblem]:
        """Recompute every audit entry's chain hash from what is stored now."""
        head = self.head("audit")

        def entries() -> Iterator[Entry]:
            with self.reader.connect() as conn:
                for m in conn.execute(select(t.audit).order_by(t.audit.c.seq)).mappings():
                    yield audit_entry(m)

        return verify_chain(entries(), head=head, logged=LoggedLeaves(self, "audit"))
