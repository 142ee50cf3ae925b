"""Documents linked to subjects: the store's half of issue 17.3.

Why in the registry's chain: which documents name a subject decides whom a relying party's question
by passport reaches, so a link is evidence as a registration is. Each link and each unlink is an
entry of the ``registry`` chain (verified, backed up, checkpointed with it), its payload a JSON
object (a registration's is an array: :func:`socialcredit.documents.is_link_event`);
``document_links`` is the state folded from them in the same transaction, where an ended link
keeps its row with ``valid_to``, ``ended`` and ``ended_by``. The partial unique index on current
links makes a second link of the same document fail even between two writers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from socialcredit import codes
from socialcredit.documents import Document, LinkEvent, event_content
from socialcredit.errors import Conflict, NotFound, Refused
from socialcredit.i18n import N_
from socialcredit.store import tables as t
from socialcredit.store.base import REGISTRY_MARKER, StoreBase
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
        registry_sealing(self).prepare([subject])  # before the lock: the key table is written apart
        pseudonym = self.sealing.pseudonym
        with self.engine.begin() as conn:
            self._lock_head(conn, REGISTRY_MARKER)  # serialises links: the check below holds
            s = t.subjects.c
            kind = conn.execute(select(s.kind).where(s.subject == pseudonym(subject))).scalar()
            if kind is None:
                raise NotFound(N_("no subject registered by that code"), field="code")
            if kind != "person":
                raise Refused(N_("only a person holds identity documents"), field="code")
            if document.code == subject:
                raise Refused(N_("is the subject's own code, which names it without a link"), field="number")
            held = conn.execute(
                select(t.document_links.c.subject).where(
                    t.document_links.c.document == key, t.document_links.c.valid_to.is_(None)
                )
            ).scalar()
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
            conn.execute(
                t.document_links.insert().values(
                    linked=seq,
                    document=key,
                    type=document.type,
                    subject=subject,
                    passport_type=document.passport_type,
                    evidence=evidence,
                    valid_from=at,
                )
            )
        return link

    def unlink_document(self, subject: str, document: str, case: str, at: dt.datetime) -> DocumentLink:
        """End the current link of ``document`` to ``subject`` (an upheld objection ``case``)."""
        registry_sealing(self).prepare([subject])
        with self.engine.begin() as conn:
            self._lock_head(conn, REGISTRY_MARKER)
            row = (
                conn.execute(
                    select(t.document_links).where(
                        t.document_links.c.document == document,
                        t.document_links.c.subject == subject,
                        t.document_links.c.valid_to.is_(None),
                    )
                )
                .mappings()
                .first()
            )
            if row is None:
                raise NotFound(N_("the document is not linked to this subject now"), field="document")
            seq = self._append(conn, LinkEvent("unlinked", subject, document, case=case), at)
            conn.execute(
                update(t.document_links)
                .where(t.document_links.c.linked == row["linked"])
                .values(valid_to=at, ended=seq, ended_by=case)
            )
            return _link({**row, "valid_to": at, "ended": seq, "ended_by": case})

    def document_links(self, subject: str | None = None, document: str | None = None) -> list[DocumentLink]:
        """Links past and present (of one subject, or of one document), oldest first."""
        q = select(t.document_links).order_by(t.document_links.c.linked)
        if subject is not None:
            q = q.where(t.document_links.c.subject == subject)
        if document is not None:
            q = q.where(t.document_links.c.document == document)
        with self.reader.connect() as conn:
            return [_link(m) for m in conn.execute(q).mappings()]

    def document_subject(self, document: str) -> str | None:
        """The subject ``document`` is linked to now, if any."""
        with self.reader.connect() as conn:
            found = conn.execute(
                select(t.document_links.c.subject).where(
                    t.document_links.c.document == document, t.document_links.c.valid_to.is_(None)
                )
            ).scalar()
        return str(found) if found is not None else None


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
