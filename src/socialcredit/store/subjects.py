"""The subject registry's concern in the store: registrations, their history, and who represented
which organisation when.

Why a chain: a registration decides who else a listing reaches (an organisation's legal
representative), so a change to it is evidence as a record is. Every registration and change is
appended to the ``registry`` table's hash chain (checked by ``verify``, carried by backup and
restore); ``subjects`` holds the latest state for reads, and ``tenures`` each representative's
term in valid time, folded by :func:`socialcredit.subjects.tenures` in the same transaction.
Caches in every process see a change through the ``registry`` row of ``chain_heads``, as they see
a new record (``store/markers.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import asdict

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection, RowMapping

from socialcredit import ledger
from socialcredit.chaincheck import ChainProblem, Entry, verify_chain
from socialcredit.documents import is_link_event
from socialcredit.rules.days import day_of
from socialcredit.store import tables as t
from socialcredit.store.base import CHUNK, REGISTRY_MARKER, Row, StoreBase
from socialcredit.store.decisionstate import touch
from socialcredit.store.logged import LoggedLeaves
from socialcredit.store.sealedrows import Sealing
from socialcredit.subjects import RegistryEntry, SubjectRow, Tenure, registry_content, registry_row, tenures

REGISTRY = REGISTRY_MARKER
"""The registry's chain in ``chain_heads`` (its name predates the chain: a marker of changes)."""


def registry_entry(m: Row) -> Entry:
    """A registry entry as its chain covers it, from its stored columns: what ``verify`` checks
    and what its leaf in the transparency log is (``Entry.leaf``)."""
    label = f"registry entry #{m['seq']} ({m['code']})"
    return Entry(m["seq"], label, m["payload"], m["at"], REGISTRY, m["chain_hash"])


class SubjectStore(StoreBase):
    """Register subjects, read them, their history, and who represents which organisation."""

    sealing: Sealing  # ``RecordStore``'s: the keyed pseudonym the decision state is named by

    def upsert_subjects(self, rows: Sequence[SubjectRow], at: dt.datetime) -> tuple[int, int, int]:
        """Register subjects or change their registration; returns (added, updated, unchanged).
        Each addition or change is a new entry of the registry's chain; a change of legal
        representative ends the former one's term and begins the new one's."""
        if not rows:
            return 0, 0, 0
        latest = {r.code: r for r in rows}
        added = updated = unchanged = 0
        self.sealing.vault.keyed()  # made before the lock, if new: the key table is written apart
        with self.engine.begin() as conn:
            count, head = self._lock_head(conn, REGISTRY)
            codes = list(latest)
            have: dict[str, SubjectRow] = {}
            for i in range(0, len(codes), CHUNK):
                for m in conn.execute(
                    select(t.subjects).where(t.subjects.c.code.in_(codes[i : i + CHUNK]))
                ).mappings():
                    have[m["code"]] = _subject(m)
            new, entries, orgs = [], [], []
            leaves: list[bytes] = []
            for code, r in latest.items():
                old = have.get(code)
                if old == r:
                    unchanged += 1
                    continue
                if old is None:
                    new.append({**asdict(r), "registered_at": at})
                    added += 1
                else:
                    conn.execute(update(t.subjects).where(t.subjects.c.code == code).values(**asdict(r)))
                    updated += 1
                count += 1
                content = registry_content(r)
                head = ledger.chain_hash(head or ledger.GENESIS, count, content, at, REGISTRY, leaves)
                entries.append(
                    {
                        "seq": count,
                        "at": at,
                        "code": code,
                        "kind": r.kind,
                        "payload": content,
                        "chain_hash": head,
                    }
                )
                if r.kind == "organisation" and (
                    r.legal_representative or (old and old.legal_representative)
                ):
                    orgs.append(code)
            if new:
                conn.execute(t.subjects.insert(), new)
            if entries:  # in the same transaction: the head moves exactly when they land
                conn.execute(t.registry.insert(), entries)
                self._set_head(conn, REGISTRY, count, head, leaves)
                changed = [str(e["code"]) for e in entries]
                # the representatives before and after the change: listings move between them
                touch(conn, self.sealing.pseudonym, changed, orgs)
                self._refold(conn, orgs)
                touch(conn, self.sealing.pseudonym, (), orgs)
        return added, updated, unchanged + len(rows) - len(latest)

    def _refold(self, conn: Connection, orgs: Sequence[str]) -> None:
        """Fold each organisation's terms again from its whole registry history."""
        for i in range(0, len(orgs), CHUNK):
            part = orgs[i : i + CHUNK]
            history: dict[str, list[RegistryEntry]] = {o: [] for o in part}
            q = select(t.registry.c.seq, t.registry.c.at, t.registry.c.code, t.registry.c.payload)
            for seq, at, code, payload in conn.execute(
                q.where(t.registry.c.code.in_(part)).order_by(t.registry.c.seq)
            ):
                if is_link_event(payload):
                    continue
                history[code].append(RegistryEntry(seq, at, registry_row(payload)))
            conn.execute(delete(t.tenures).where(t.tenures.c.organisation.in_(part)))
            terms = [asdict(x) for o, h in history.items() for x in tenures(o, h, day_of)]
            if terms:
                conn.execute(t.tenures.insert(), terms)

    def subject(self, code: str) -> SubjectRow | None:
        with self.reader.connect() as conn:
            m = conn.execute(select(t.subjects).where(t.subjects.c.code == code)).mappings().first()
        return _subject(m) if m is not None else None

    def represented_by(self, person: str) -> list[str]:
        """Organisations whose legal representative is ``person`` now."""
        with self.reader.connect() as conn:
            return [
                c
                for (c,) in conn.execute(
                    select(t.subjects.c.code).where(t.subjects.c.legal_representative == person)
                )
            ]

    def representatives(self) -> dict[str, str]:
        """Organisation code -> its legal representative's code now."""
        with self.reader.connect() as conn:
            return {
                o: p
                for o, p in conn.execute(
                    select(t.subjects.c.code, t.subjects.c.legal_representative).where(
                        t.subjects.c.legal_representative.is_not(None)
                    )
                )
            }

    def terms(self, *, person: str | None = None, organisation: str | None = None) -> list[Tenure]:
        """Legal representatives' terms, past and present (of one person or organisation)."""
        q = select(t.tenures).order_by(t.tenures.c.organisation, t.tenures.c.opened)
        if person is not None:
            q = q.where(t.tenures.c.person == person)
        if organisation is not None:
            q = q.where(t.tenures.c.organisation == organisation)
        with self.reader.connect() as conn:
            return [_tenure(m) for m in conn.execute(q).mappings()]

    def registry_history(self, code: str | None = None) -> list[RegistryEntry]:
        """The registry's registrations in order (of one subject); its document links are read
        from ``document_links`` (``store/documents.py``)."""
        q = select(t.registry).order_by(t.registry.c.seq)
        if code is not None:
            q = q.where(t.registry.c.code == code)
        with self.reader.connect() as conn:
            return [
                RegistryEntry(m["seq"], m["at"], registry_row(m["payload"]))
                for m in conn.execute(q).mappings()
                if not is_link_event(m["payload"])
            ]

    def verify_registry(self) -> list[ChainProblem]:
        """Recompute every registry entry's chain hash from what is stored now (as
        ``verify_cases`` does)."""
        head = self.head(REGISTRY)

        def entries() -> Iterator[Entry]:
            with self.reader.connect() as conn:
                for m in conn.execute(select(t.registry).order_by(t.registry.c.seq)).mappings():
                    yield registry_entry(m)

        return verify_chain(entries(), head=head, logged=LoggedLeaves(self, REGISTRY))

    def subject_rows(self) -> list[SubjectRow]:
        with self.reader.connect() as conn:
            return [_subject(m) for m in conn.execute(select(t.subjects)).mappings()]


def _subject(m: RowMapping) -> SubjectRow:
    return SubjectRow(
        m["code"],
        m["kind"],
        m["name"],
        m["sex"],
        m["district"],
        m["legal_representative"],
        m["representative_since"],
    )


def _tenure(m: RowMapping) -> Tenure:
    return Tenure(m["organisation"], m["person"], m["valid_from"], m["valid_to"], m["opened"], m["closed"])
