"""Documents linked to subjects: the store's half of issue 17.3.

Why in the registry's chain: which documents name a subject decides whom a relying party's question
by passport reaches, so a link is evidence as a registration is. Each link and each unlink is an
entry of the ``registry`` chain (verified, backed up, checkpointed with it), its payload a JSON
object (a registration's is an array: :func:`socialcredit.documents.is_link_event`);
``document_links`` is the state folded from them in the same transaction, where an ended link
keeps its row with ``valid_to``, ``ended`` and ``ended_by``. The partial unique index on current
links makes a second link of the same document fail even between two writers.

Both name the subject by its keyed pseudonym and the document by a keyed hash of its written form
(:func:`document_key`: a document number is guessable personal data); the number, the subject's
code and the evidence are sealed under the subject's registry key (decision 0074).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Engine, delete, select, update
from sqlalchemy.engine import Connection

from socialcredit import codes
from socialcredit.documents import Document, LinkEvent, event_content, parse
from socialcredit.errors import Conflict, NotFound, Refused
from socialcredit.i18n import N_
from socialcredit.store import tables as t
from socialcredit.store.base import REGISTRY_MARKER, Row, StoreBase, dumps
from socialcredit.store.sealedregistry import registry_sealing
from socialcredit.store.sealedrows import Sealing


@dataclass(frozen=True, slots=True)
class DocumentLink:
    """A document linked to a subject, from ``valid_from`` until ``valid_to`` (``None``: current);
    ``linked`` and ``ended`` are the registry entries, ``ended_by`` the objection that ended it."""

    document: str
    type: str
    subject: str
    passport_type: str | None
    evidence: str
    valid_from: dt.datetime
    linked: int
    valid_to: dt.datetime | None = None
    ended: int | None = None
    ended_by: str | None = None


class DocumentStore(StoreBase):
    """Link documents to subjects, end links, and find the subject a document names."""

    sealing: Sealing  # ``RecordStore``'s

    def _append(self, conn: Connection, event: LinkEvent, at: dt.datetime) -> int:
        """Append a link event to the registry's chain, sealed under its subject's registry key
        (made before the caller's transaction: ``registry_sealing(self).prepare``)."""
        from socialcredit.store.subjects import registry_columns  # the registry's one append form

        count, head = self._lock_head(conn, REGISTRY_MARKER)
        leaves: list[bytes] = []
        rs = registry_sealing(self)
        entry = registry_columns(
            rs, count + 1, head, event.subject, "document", event_content(event), at, leaves
        )
        conn.execute(t.registry.insert().values(**entry))
        self._set_head(conn, REGISTRY_MARKER, count + 1, entry["chain_hash"], leaves)
        return count + 1

    def link_document(self, subject: str, document: Document, evidence: str, at: dt.datetime) -> DocumentLink:
        """Link ``document`` to the registered person ``subject``; a document linked to anyone
        now (or the code of another registered subject) is a :class:`Conflict`."""
        key = str(document)
        rs = registry_sealing(self)
        rs.prepare([subject])  # before the lock: the key table is written apart
        pseudonym = self.sealing.pseudonym
        with self.engine.begin() as conn:
            self._lock_head(conn, REGISTRY_MARKER)  # serialises links: the check below holds
            s, d = t.subjects.c, t.document_links.c
            kind = conn.execute(select(s.kind).where(s.subject == pseudonym(subject))).scalar()
            if kind is None:
                raise NotFound(N_("no subject registered by that code"), field="code")
            if kind != "person":
                raise Refused(N_("only a person holds identity documents"), field="code")
            if document.code == subject:
                raise Refused(N_("is the subject's own code, which names it without a link"), field="number")
            current = list(
                conn.execute(
                    select(t.document_links).where(d.document == self.document_key(key), d.valid_to.is_(None))
                ).mappings()
            )
            found = self.open_links(current)
            if len(found) < len(current):  # its holder's registry key is gone: the link ended then
                end_links(conn, [m["linked"] for m in current], at)
            held = found[0].subject if found else None
            if held is None and document.code is not None:
                owner = conn.execute(select(s.subject).where(s.subject == pseudonym(document.code)))
                held = document.code if owner.scalar() is not None else None
            if held == subject:
                raise Conflict(N_("the document is already linked to this subject"), field="number")
            if held is not None:
                raise Conflict(
                    N_(
                        "the document names subject {held}; it cannot also name {subject} (end the "
                        "other link by an objection first)",
                        held=codes.mask(held),
                        subject=codes.mask(subject),
                    ),
                    field="number",
                )
            event = LinkEvent("linked", subject, key, document.passport_type, evidence)
            seq = self._append(conn, event, at)
            link = DocumentLink(key, document.type, subject, document.passport_type, evidence, at, seq)
            conn.execute(t.document_links.insert().values(**self._link_values(link)))
        return link

    def document_key(self, document: str) -> str:
        """The keyed hash ``document_links`` names a document by (the subject's pseudonym key)."""
        return self.sealing.pseudonym(f"document:{document}")

    def _link_values(self, link: DocumentLink) -> dict[str, Any]:
        """A link's stored columns: its number, subject and evidence sealed (the key made before)."""
        text = dumps({"document": link.document, "subject": link.subject, "evidence": link.evidence})
        p, klass, sealed = registry_sealing(self).seal_value(link.subject, text, _aad(link.linked))
        return {
            "linked": link.linked,
            "document": self.document_key(link.document),
            "type": link.type,
            "subject": p,
            "passport_type": link.passport_type,
            "evidence": "",
            "klass": klass,
            "sealed": sealed,
            "valid_from": link.valid_from,
            "valid_to": link.valid_to,
            "ended": link.ended,
            "ended_by": link.ended_by,
        }

    def open_links(self, found: Iterable[Row]) -> list[DocumentLink]:
        """Stored links opened; one whose subject's registry key was destroyed is left out."""
        rows = list(found)
        texts = registry_sealing(self).open_values(
            (m["subject"], m["klass"], m["sealed"], _aad(m["linked"])) for m in rows
        )
        out = []
        for m, text in zip(rows, texts, strict=True):
            if text is not None:
                opened = json.loads(text)
                out.append(_link({**m, **opened}))
        return out

    def unlink_document(self, subject: str, document: str, case: str, at: dt.datetime) -> DocumentLink:
        """End the current link of ``document`` to ``subject`` (an upheld objection ``case``)."""
        registry_sealing(self).prepare([subject])
        d = t.document_links.c
        with self.engine.begin() as conn:
            self._lock_head(conn, REGISTRY_MARKER)
            found = conn.execute(
                select(t.document_links).where(
                    d.document == self.document_key(document),
                    d.subject == self.sealing.pseudonym(subject),
                    d.valid_to.is_(None),
                )
            ).mappings()
            links = self.open_links(found)
            if not links:
                raise NotFound(N_("the document is not linked to this subject now"), field="document")
            seq = self._append(conn, LinkEvent("unlinked", subject, document, case=case), at)
            conn.execute(
                update(t.document_links)
                .where(d.linked == links[0].linked)
                .values(valid_to=at, ended=seq, ended_by=case)
            )
            return replace(links[0], valid_to=at, ended=seq, ended_by=case)

    def document_links(self, subject: str | None = None, document: str | None = None) -> list[DocumentLink]:
        """Links past and present (of one subject, or of one document), oldest first."""
        d = t.document_links.c
        q = select(t.document_links).order_by(d.linked)
        if subject is not None:
            q = q.where(d.subject == self.sealing.pseudonym(subject))
        if document is not None:
            q = q.where(d.document == self.document_key(document))
        with self.reader.connect() as conn:
            return self.open_links(conn.execute(q).mappings())

    def document_subject(self, document: str) -> str | None:
        """The subject ``document`` is linked to now, if any (none once its key is destroyed)."""
        d = t.document_links.c
        with self.reader.connect() as conn:
            found = conn.execute(
                select(t.document_links).where(
                    d.document == self.document_key(document), d.valid_to.is_(None)
                )
            ).mappings()
            links = self.open_links(found)
        return links[0].subject if links else None

    def fold_links(self, conn: Connection, events: Sequence[tuple[int, dt.datetime, LinkEvent]]) -> None:
        """Fold ``document_links`` again, whole, from the registry's link events in chain order
        (after schema 0015 made it again, empty; the subjects' keys made before)."""
        conn.execute(delete(t.document_links))
        current: dict[str, DocumentLink] = {}
        done: list[DocumentLink] = []
        for seq, at, e in events:
            if e.event == "linked":
                doc = parse(e.document)
                current[e.document] = DocumentLink(
                    e.document, doc.type, e.subject, e.passport_type, e.evidence or "", at, seq
                )
            elif (link := current.pop(e.document, None)) is not None:
                done.append(replace(link, valid_to=at, ended=seq, ended_by=e.case))
        rows = [self._link_values(x) for x in sorted([*done, *current.values()], key=lambda x: x.linked)]
        if rows:
            conn.execute(t.document_links.insert(), rows)


ERASED = "erasure"
"""``ended_by`` of a link ended because its subject's registry key was destroyed."""


def end_links(conn: Connection, linked: Sequence[int], at: dt.datetime) -> None:
    """End these current links at ``at`` as erased (``valid_to``, ``ended_by``): a link whose
    subject's registry key was destroyed. Why end it and not keep it current: nothing can read
    whom it names any more, so it holds no one to the document, and left current its row would
    hold the unique index of current links, so that the document could never be linked again,
    to anyone (decision 0094). The row stays, as every ended link's does."""
    d = t.document_links.c
    conn.execute(
        update(t.document_links)
        .where(d.linked.in_(list(linked)), d.valid_to.is_(None))
        .values(valid_to=at, ended_by=ERASED)
    )


def end_erased_links(engine: Engine, pseudonyms: Sequence[str], at: dt.datetime) -> None:
    """End the current links of these subjects, whose registry keys were just destroyed."""
    d = t.document_links.c
    with engine.begin() as conn:
        current = select(d.linked).where(d.subject.in_(list(pseudonyms)), d.valid_to.is_(None))
        end_links(conn, [int(n) for (n,) in conn.execute(current)], at)


def _aad(linked: int) -> str:
    return f"link\x1f{linked}"


def _link(m: Mapping[Any, Any]) -> DocumentLink:
    return DocumentLink(
        m["document"],
        m["type"],
        m["subject"],
        m["passport_type"],
        m["evidence"],
        m["valid_from"],
        m["linked"],
        m["valid_to"],
        m["ended"],
        m["ended_by"],
    )
