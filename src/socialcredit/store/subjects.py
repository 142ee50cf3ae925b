"""The subject registry's concern in the store: registrations, their history, and who represented
which organisation when.

Why a chain: a registration decides who else a listing reaches (an organisation's legal
representative), so a change to it is evidence as a record is. Every registration and change is
appended to the ``registry`` table's hash chain (checked by ``verify``, carried by backup and
restore); ``subjects`` holds the latest state for reads, and ``tenures`` each representative's
term in valid time, folded by :func:`socialcredit.subjects.tenures` in the same transaction.
Caches in every process see a change through the ``registry`` row of ``chain_heads``, as they see
a new record (``store/markers.py``).

All three name a subject by its keyed pseudonym and keep its code and registration sealed under
its registry key (``store/sealedregistry.py``, decision 0074): a lookup by code is one HMAC and
then one primary-key (or indexed) read, and the codes come back from one key read.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection

from socialcredit import ledger
from socialcredit.chaincheck import ChainProblem, Entry, own_hash, own_ok, verify_chain
from socialcredit.documents import LinkEvent, is_link_event, read_event
from socialcredit.rules.days import day_of
from socialcredit.shredding import Erasure
from socialcredit.store import tables as t
from socialcredit.store.base import CHUNK, REGISTRY_MARKER, Row, StoreBase, dumps
from socialcredit.store.decisionstate import touch
from socialcredit.store.documents import end_erased_links
from socialcredit.store.logged import LoggedLeaves
from socialcredit.store.sealedregistry import (
    REGISTRY_CLASS,
    TAG,
    RegistrySealing,
    registry_content_of,
    registry_sealing,
)
from socialcredit.store.sealedrows import Sealing
from socialcredit.subjects import RegistryEntry, SubjectRow, Tenure, registry_content, registry_row, tenures

REGISTRY = REGISTRY_MARKER
"""The registry's chain in ``chain_heads`` (its name predates the chain: a marker of changes)."""


def registry_entry(m: Row) -> Entry:
    """A registry entry as its chain covers it, from its stored columns: what ``verify`` checks
    and what its leaf in the transparency log is (``Entry.leaf``). Its label names its seq only:
    its code, where sealed, is not the verifier's to read."""
    content = registry_content_of(m)
    ok = own_ok(m.get("own_hash"), content, m["at"], TAG)
    return Entry(m["seq"], f"registry entry #{m['seq']}", content, m["at"], REGISTRY, m["chain_hash"], ok)


def registry_columns(
    rs: RegistrySealing, count: int, head: str | None, code: str, kind: str, content: str, at: dt.datetime,
    leaves: list[bytes],
) -> dict[str, Any]:  # fmt: skip
    """A new registry entry's stored columns at ``count`` after ``head``, sealed, linked and
    with its own hash (the caller holds the registry's lock and made the subject's key before)."""
    stored = rs.seal(code, kind, content, at)
    covered = registry_content_of(stored)
    chain_hash = ledger.chain_hash(head or ledger.GENESIS, count, covered, at, REGISTRY, leaves)
    return {
        "seq": count,
        "at": at,
        **stored,
        "chain_hash": chain_hash,
        "own_hash": own_hash(covered, at, TAG),
    }


def _subject_aad(pseudonym: str) -> str:
    return f"subject\x1f{pseudonym}"


def _tenure_aad(organisation: str, opened: int) -> str:
    return f"tenure\x1f{organisation}\x1f{opened}"


class SubjectStore(StoreBase):
    """Register subjects, read them, their history, and who represents which organisation."""

    sealing: Sealing  # ``RecordStore``'s: the keyed pseudonym the decision state is named by
    fold_links: Callable[
        [Connection, Sequence[tuple[int, dt.datetime, LinkEvent]]], None
    ]  # ``DocumentStore``'s

    @property
    def registry_sealing(self) -> RegistrySealing:
        return registry_sealing(self)

    def upsert_subjects(self, rows: Sequence[SubjectRow], at: dt.datetime) -> tuple[int, int, int]:
        """Register subjects or change their registration; returns (added, updated, unchanged).
        Each addition or change is a new entry of the registry's chain; a change of legal
        representative ends the former one's term and begins the new one's."""
        if not rows:
            return 0, 0, 0
        latest = {r.code: r for r in rows}
        added = updated = unchanged = 0
        rs, pseudonym = self.registry_sealing, self.sealing.pseudonym
        self.sealing.vault.keyed()  # made before the lock, if new: the key table is written apart
        rs.prepare(latest)  # and the registry keys, for the same reason
        with self.engine.begin() as conn:
            count, head = self._lock_head(conn, REGISTRY)
            have, stored = self._subjects_in(conn, list(latest))
            new, entries, orgs = [], [], []
            fresh: dict[str, RegistryEntry] = {}  # new organisations' whole history: this entry
            leaves: list[bytes] = []
            for code, r in latest.items():
                old = have.get(code)
                if old == r:
                    unchanged += 1
                    continue
                content = registry_content(r)  # once: the row and the entry seal the same text
                values = self._subject_values(r, content)
                brand_new = old is None and values["subject"] not in stored
                if brand_new:
                    new.append({**values, "registered_at": at})
                    added += 1
                elif old is None:  # registered again after its registration was erased
                    s = t.subjects.c
                    again = {**values, "registered_at": at}
                    conn.execute(update(t.subjects).where(s.subject == values["subject"]).values(**again))
                    added += 1
                else:
                    s = t.subjects.c
                    conn.execute(update(t.subjects).where(s.subject == values["subject"]).values(**values))
                    updated += 1
                count += 1
                entry = registry_columns(rs, count, head, code, r.kind, content, at, leaves)
                head = entry["chain_hash"]
                entries.append(entry)
                if r.kind == "organisation" and (
                    r.legal_representative or (old and old.legal_representative)
                ):
                    orgs.append(code)
                    if brand_new:
                        fresh[code] = RegistryEntry(count, at, registry_row(content))  # as read back
            if new:
                conn.execute(t.subjects.insert(), new)
            if entries:  # in the same transaction: the head moves exactly when they land
                conn.execute(t.registry.insert(), entries)
                self._set_head(conn, REGISTRY, count, head, leaves)
                changed = [code for code, r in latest.items() if have.get(code) != r]
                # the representatives before and after the change: listings move between them
                touch(conn, pseudonym, changed, orgs, dialect=self.dialect)
                self._refold(conn, orgs, fresh)
                touch(conn, pseudonym, (), orgs, dialect=self.dialect)
        return added, updated, unchanged + len(rows) - len(latest)

    def _subject_values(self, r: SubjectRow, content: str | None = None) -> dict[str, Any]:
        """A registration's ``subjects`` columns but ``registered_at`` (its key made before);
        ``content``: its ``registry_content``, if the caller has it."""
        aad = _subject_aad(self.sealing.pseudonym(r.code))
        text = registry_content(r) if content is None else content
        p, klass, sealed = self.registry_sealing.seal_value(r.code, text, aad)
        rep = self.sealing.pseudonym(r.legal_representative) if r.legal_representative else None
        return {"subject": p, "kind": r.kind, "legal_representative": rep, "klass": klass, "sealed": sealed}

    def open_subjects(self, found: Iterable[Row]) -> list[SubjectRow]:
        """Stored ``subjects`` rows opened; one whose registry key was destroyed is left out."""
        texts = self.registry_sealing.open_values(
            (m["subject"], m["klass"], m["sealed"], _subject_aad(m["subject"])) for m in found
        )
        return [registry_row(x) for x in texts if x is not None]

    def _subjects_in(self, conn: Connection, codes: Sequence[str]) -> tuple[dict[str, SubjectRow], set[str]]:
        """The registrations of these codes that read, and the pseudonyms of every stored row
        (one whose key was destroyed too: a new registration replaces it)."""
        pseudonyms = [self.sealing.pseudonym(c) for c in codes]
        out: dict[str, SubjectRow] = {}
        stored: set[str] = set()
        for i in range(0, len(pseudonyms), CHUNK):
            q = select(t.subjects).where(t.subjects.c.subject.in_(pseudonyms[i : i + CHUNK]))
            found = list(conn.execute(q).mappings())
            stored |= {m["subject"] for m in found}
            out.update((r.code, r) for r in self.open_subjects(found))
        return out, stored

    def erase_registry_keys(self, pseudonyms: Sequence[str], at: dt.datetime, rule: str) -> int:
        """Destroy the registry key of each person of ``pseudonyms`` left with no live record
        key and representing no organisation now, logged as erased at ``at`` under ``rule``: its
        registration, its document links and its registry entries then read as erased, and still
        verify (decision 0074). An organisation's is kept (its code and name are public registry
        data), and so is a person's who is a legal representative now: that grounds listings.
        Returns how many keys were destroyed."""
        if not pseudonyms:
            return 0
        r, s, x = t.records.c, t.subjects.c, t.tenures.c
        ps = list(dict.fromkeys(pseudonyms))
        with self.reader.connect() as conn:
            people = {
                p for (p,) in conn.execute(select(s.subject).where(s.subject.in_(ps), s.kind == "person"))
            }
            q = select(r.subject, r.klass).distinct().where(r.subject.in_(ps), r.sealed.is_not(None))
            classes: dict[str, list[str]] = {}
            for p, klass in conn.execute(q):
                classes.setdefault(str(p), []).append(str(klass))
            serving = {
                p for (p,) in conn.execute(select(x.person).where(x.person.in_(ps), x.valid_to.is_(None)))
            }
        keys = self.sealing.vault.store
        due = []
        for p in ps:
            if p not in people or p in serving:
                continue
            if classes.get(p) and keys.wrapped_keys([(p, k) for k in classes[p]]):
                continue  # a record key lives: the registration is still read with it
            klass = REGISTRY_CLASS
            while True:
                w = keys.wrapped_keys([(p, klass)]).get((p, klass))
                if w is not None:
                    due.append(Erasure(p, klass, w.key_id, at, rule))
                    break
                if not keys.erasures_of([(p, klass)]):
                    break
                head, _, n = klass.partition(".")
                klass = f"{head}.{int(n or 0) + 1}"
        if not due:
            return 0
        erased = self.sealing.vault.erase(due)
        end_erased_links(self.engine, [e.pseudonym for e in due], at)
        return erased

    def _registry_rows(self, conn: Connection, codes: Sequence[str]) -> list[dict[str, Any]]:
        """The registry entries of these subjects, opened, in chain order (their pseudonyms, and
        their codes for entries stored in the clear before schema 0015)."""
        keys = [k for c in codes for k in (self.sealing.pseudonym(c), c)]
        found: list[Row] = []
        for i in range(0, len(keys), CHUNK):
            found += conn.execute(
                select(t.registry).where(t.registry.c.code.in_(keys[i : i + CHUNK]))
            ).mappings()
        return sorted(self.registry_sealing.opened(found), key=lambda m: int(m["seq"]))

    def _refold(
        self, conn: Connection, orgs: Sequence[str], fresh: Mapping[str, RegistryEntry] | None = None
    ) -> None:
        """Fold each organisation's terms again from its whole registry history (the
        organisations' registry keys made before the caller's transaction). ``fresh``: the
        organisations registered in the caller's transaction for the first time, with their one
        entry, which is their whole history: not read back and opened again (decision 0086)."""
        fresh = fresh or {}
        for i in range(0, len(orgs), CHUNK):
            part = orgs[i : i + CHUNK]
            history: dict[str, list[RegistryEntry]] = {o: [fresh[o]] if o in fresh else [] for o in part}
            for m in self._registry_rows(conn, [o for o in part if o not in fresh]):
                if is_link_event(m["payload"]):
                    continue
                row = registry_row(m["payload"])
                history[row.code].append(RegistryEntry(m["seq"], m["at"], row))
            p = [self.sealing.pseudonym(o) for o in part]
            conn.execute(delete(t.tenures).where(t.tenures.c.organisation.in_(p)))
            terms = [self._tenure_values(x) for o, h in history.items() for x in tenures(o, h, day_of)]
            if terms:
                conn.execute(t.tenures.insert(), terms)

    def _tenure_values(self, x: Tenure) -> dict[str, Any]:
        org = self.sealing.pseudonym(x.organisation)
        text = dumps([x.organisation, x.person])
        _, klass, sealed = self.registry_sealing.seal_value(x.organisation, text, _tenure_aad(org, x.opened))
        person = self.sealing.pseudonym(x.person)
        values = {"organisation": org, "opened": x.opened, "person": person, "klass": klass, "sealed": sealed}
        return {**values, "valid_from": x.valid_from, "valid_to": x.valid_to, "closed": x.closed}

    def open_tenures(self, found: Iterable[Row]) -> list[Tenure]:
        """Stored ``tenures`` rows opened (one whose organisation's key was destroyed left out)."""
        return [x for _, x in self._opened_terms(list(found))]

    def _opened_terms(self, rows: Sequence[Row]) -> list[tuple[Row, Tenure]]:
        """Each stored ``tenures`` row with its term opened, one whose key was destroyed left out."""
        texts = self.registry_sealing.open_values(
            (m["organisation"], m["klass"], m["sealed"], _tenure_aad(m["organisation"], m["opened"]))
            for m in rows
        )
        out = []
        for m, text in zip(rows, texts, strict=True):
            if text is not None:
                org, person = json.loads(text)
                out.append((m, Tenure(org, person, m["valid_from"], m["valid_to"], m["opened"], m["closed"])))
        return out

    def registered_codes(self, conn: Connection, pseudonyms: Iterable[str]) -> dict[str, str]:
        """The code of each of these pseudonyms the registry can still open: an indexed read of
        ``subjects`` by pseudonym (its primary key), then, for the rest, of ``tenures`` by the
        representative's pseudonym (its index), one term a person, opening only the rows found
        (a person who represents an organisation but never registered is named by its terms).
        Why not a pass over every registration: the decision state's sweep and the export's
        subjects file ask for a few codes they could not find elsewhere (decision 0086)."""
        wanted = list(dict.fromkeys(pseudonyms))
        out: dict[str, str] = {}
        for i in range(0, len(wanted), CHUNK):
            part = wanted[i : i + CHUNK]
            found = list(conn.execute(select(t.subjects).where(t.subjects.c.subject.in_(part))).mappings())
            out.update(self._opened_codes(found))
        left = [p for p in wanted if p not in out]
        for i in range(0, len(left), CHUNK):
            q = select(t.tenures).where(t.tenures.c.person.in_(left[i : i + CHUNK]))
            terms = {m["person"]: m for m in conn.execute(q).mappings()}  # one term a person
            out.update((m["person"], term.person) for m, term in self._opened_terms(list(terms.values())))
        return out

    def _opened_codes(self, found: Sequence[Row]) -> Iterator[tuple[str, str]]:
        """(pseudonym, code) of each stored ``subjects`` row whose key is live."""
        texts = self.registry_sealing.open_values(
            (m["subject"], m["klass"], m["sealed"], _subject_aad(m["subject"])) for m in found
        )
        for m, text in zip(found, texts, strict=True):
            if text is not None:
                yield m["subject"], registry_row(text).code

    def subject(self, code: str) -> SubjectRow | None:
        p = self.sealing.pseudonym(code)
        with self.reader.connect() as conn:
            m = conn.execute(select(t.subjects).where(t.subjects.c.subject == p)).mappings().first()
        found = self.open_subjects([m]) if m is not None else []
        return found[0] if found else None

    def represented_by(self, person: str) -> list[str]:
        """Organisations whose legal representative is ``person`` now."""
        p = self.sealing.pseudonym(person)
        with self.reader.connect() as conn:
            found = conn.execute(select(t.subjects).where(t.subjects.c.legal_representative == p)).mappings()
            return [r.code for r in self.open_subjects(found)]

    def representatives(self) -> dict[str, str]:
        """Organisation code -> its legal representative's code now."""
        with self.reader.connect() as conn:
            found = conn.execute(
                select(t.subjects).where(t.subjects.c.legal_representative.is_not(None))
            ).mappings()
            return {
                r.code: r.legal_representative for r in self.open_subjects(found) if r.legal_representative
            }

    def terms(self, *, person: str | None = None, organisation: str | None = None) -> list[Tenure]:
        """Legal representatives' terms, past and present (of one person or organisation)."""
        q = select(t.tenures)
        if person is not None:
            q = q.where(t.tenures.c.person == self.sealing.pseudonym(person))
        if organisation is not None:
            q = q.where(t.tenures.c.organisation == self.sealing.pseudonym(organisation))
        with self.reader.connect() as conn:
            found = self.open_tenures(conn.execute(q).mappings())
        return sorted(found, key=lambda x: (x.organisation, x.opened))

    def registry_history(self, code: str | None = None) -> list[RegistryEntry]:
        """The registry's registrations in order (of one subject); its document links are read
        from ``document_links`` (``store/documents.py``). An erased subject's are left out."""
        with self.reader.connect() as conn:
            if code is not None:
                found = self._registry_rows(conn, [code])
            else:
                q = select(t.registry).order_by(t.registry.c.seq)
                found = self.registry_sealing.opened(conn.execute(q).mappings())
        return [
            RegistryEntry(m["seq"], m["at"], registry_row(m["payload"]))
            for m in found
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

    def registry_in_the_clear(self) -> bool:
        """Whether an entry of the registry's chain is stored in the clear: one stored before
        schema 0015 whose chain did not verify, so was not sealed (its leaf names a subject)."""
        with self.reader.connect() as conn:
            r = t.registry.c
            return conn.execute(select(r.seq).where(r.sealed.is_(None)).limit(1)).first() is not None

    def subject_rows(self) -> list[SubjectRow]:
        with self.reader.connect() as conn:
            rows = self.open_subjects(conn.execute(select(t.subjects)).mappings())
        return sorted(rows, key=lambda r: r.code)

    def fold_registry(self) -> None:
        """Fold ``subjects``, ``tenures`` and ``document_links`` again, whole, from the registry's
        chain: once, after schema 0015 made them again empty (``store/registryepochs.py``)."""
        with self.reader.connect() as conn:
            found = self.registry_sealing.opened(
                conn.execute(select(t.registry).order_by(t.registry.c.seq)).mappings()
            )
        latest: dict[str, tuple[SubjectRow, dt.datetime]] = {}
        links = []
        for m in found:
            if is_link_event(m["payload"]):
                links.append((int(m["seq"]), m["at"], read_event(m["payload"])))
            else:
                row = registry_row(m["payload"])
                latest[row.code] = (row, latest[row.code][1] if row.code in latest else m["at"])
        self.registry_sealing.prepare([*latest, *(e.subject for _, _, e in links)])
        orgs = [c for c, (r, _) in latest.items() if r.kind == "organisation"]
        with self.engine.begin() as conn:
            self._lock_head(conn, REGISTRY)
            conn.execute(delete(t.subjects))
            rows = [{**self._subject_values(r), "registered_at": at} for r, at in latest.values()]
            for i in range(0, len(rows), CHUNK):
                conn.execute(t.subjects.insert(), rows[i : i + CHUNK])
            self._refold(conn, orgs)
            self.fold_links(conn, links)


def needs_fold(store: SubjectStore) -> bool:
    """Whether the registry holds entries and ``subjects`` none (just after schema 0015)."""
    with store.reader.connect() as conn:
        if conn.execute(select(t.subjects.c.subject).limit(1)).first() is not None:
            return False
        return conn.execute(select(t.registry.c.seq).limit(1)).first() is not None
