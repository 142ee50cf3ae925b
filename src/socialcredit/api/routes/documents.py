"""A subject's documents over HTTP: link one (operators), list them (the subject, operators).

A question by document is ``POST /decisions`` with ``document`` instead of ``subject``
(:mod:`.decisions`); a wrong link is ended by an objection naming the document (``POST
/objections``), never deleted (docs/decisions/0034-subject-documents.md).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from socialcredit.api.deps import CodePath, CurrentKey, SystemDep
from socialcredit.api.documentmodels import DocumentIn, DocumentOut, DocumentsOut

router = APIRouter(prefix="/subjects", tags=["subjects"])


@router.post("/{code}/documents", operation_id="link_document", response_model=DocumentOut, status_code=201)
def link_document(code: CodePath, body: DocumentIn, key: CurrentKey, system: SystemDep) -> DocumentOut:
    """Link a document to a registered person, with its evidence (operators). A document linked
    to another subject now is refused (409), naming both masked."""
    link = system.link_document(
        principal=key,
        code=code,
        type=body.type,
        number=body.number,
        issuing_state=body.issuing_state,
        passport_type=body.passport_type,
        evidence=body.evidence,
    )
    return DocumentOut.of(link)


@router.get("/{code}/documents", operation_id="list_documents", response_model=DocumentsOut)
def list_documents(
    code: CodePath,
    key: CurrentKey,
    system: SystemDep,
    purpose: Annotated[str, Query(max_length=500, pattern=r"^[^\x00]*$")] = "subject's documents",
) -> DocumentsOut:
    """The subject's documents, current and ended (the subject itself, operators); audited, so
    the subject sees the look in its audit log."""
    links = system.document_links(principal=key, code=code, purpose=purpose)
    return DocumentsOut.of_rows(DocumentOut.of(x) for x in links)
