"""Documents as a service: link a passport or a travel permit to a subject, list a subject's
documents, and find the subject a relying party's document names (issue 17.3).

Why here and not in the decisions: a question by passport must be the question by code, one
path (``Decisions.check``) with the same audit entry, so this service only turns a document into
the subject's code; unlinking is due process (``Casework``: an upheld objection naming the
document), never a delete (docs/decisions/0034-subject-documents.md).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from socialcredit import access, codes, documents
from socialcredit.documents import Document
from socialcredit.errors import NotFound, Refused
from socialcredit.i18n import N_
from socialcredit.service.casefiles import CaseFiles
from socialcredit.service.context import Context
from socialcredit.store import DocumentLink


def as_known(links: Sequence[DocumentLink], known_at: dt.datetime) -> tuple[list[DocumentLink], int]:
    """The links as they stood at ``known_at`` (knowledge time: a link is the registry entry that
    made it), a link ended later shown current, and how many changes (links made, links ended)
    came after it."""
    shown = [
        x
        if x.valid_to is None or x.valid_to <= known_at
        else dataclasses.replace(x, valid_to=None, ended=None, ended_by=None)
        for x in links
        if x.valid_from <= known_at
    ]
    later = sum(1 for x in links if x.valid_from > known_at)
    later += sum(1 for x in links if x.valid_to is not None and x.valid_to > known_at)
    return shown, later


class Documents:
    """Links between subjects and their documents, and resolving a document to its subject."""

    def __init__(self, context: Context, casefiles: CaseFiles) -> None:
        self.context = context
        self.casefiles = casefiles

    def link_document(
        self,
        *,
        principal: access.Principal,
        code: str,
        type: str,  # noqa: A002 -- the field's name in the API and on the command line
        number: str,
        issuing_state: str | None = None,
        passport_type: str | None = None,
        evidence: str,
    ) -> DocumentLink:
        """Link a document to a registered person, with the evidence that it is theirs
        (operators). A document linked to someone else now is refused (409), naming both."""
        access.require(principal.role == "operator", N_("link documents to subjects"))
        c = codes.validate(code)
        doc = documents.validate(type, number, issuing_state=issuing_state, passport_type=passport_type)
        evidence = evidence.strip() if isinstance(evidence, str) else ""
        if not 1 <= len(evidence) <= 500:
            raise Refused(N_("a link needs its evidence (1 to 500 characters)"), field="evidence")
        return self.context.store.link_document(c.value, doc, evidence, self.context.clock())

    def document_links(
        self, *, principal: access.Principal, code: str, purpose: str = "subject's documents"
    ) -> list[DocumentLink]:
        """A subject's documents, current and ended, for the subject itself or an operator.
        Audited like a read of the record (action ``documents``, with how many were shown): the
        documents name the subject as surely as its code, so a look at them is one the subject
        sees in "who asked about me"."""
        c = codes.validate(code)
        access.require(self.casefiles.may_act_for(principal, c.value), N_("see this subject's documents"))
        links = self.context.store.document_links(subject=c.value)
        self.context.audit(
            principal,
            "documents",
            subject=c.value,
            purpose=purpose,
            answer="shown",
            detail={"documents": len(links)},
        )
        return links

    def resolve(self, document: str | Document) -> tuple[str, Document]:
        """The subject a document names now, and the document: the subject it is linked to, or,
        for a number that is itself a person code (a RIC, a residence permit, a 2023 FPR) linked
        to nobody, that code. Anything else is :class:`NotFound` (never an answer for nobody)."""
        doc = document if isinstance(document, Document) else documents.parse(document)
        subject = self.context.store.document_subject(str(doc))
        if subject is None:
            subject = doc.code
        if subject is None:
            raise NotFound(N_("no subject is known by this document"), field="document")
        return subject, doc
