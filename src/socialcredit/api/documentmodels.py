"""The API's models of a subject's documents (``POST/GET /subjects/{code}/documents``), also the
CLI's ``documents --json`` shapes. Kept apart from :mod:`socialcredit.api.models` by concern."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from socialcredit.api.models import Listing, RequestIn, UtcDatetime
from socialcredit.store import DocumentLink


class DocumentIn(RequestIn):
    model_config = ConfigDict(extra="forbid")
    type: str = Field(
        max_length=20, description="ric, residence-permit, fpr, passport, hkm-permit or tw-permit"
    )
    number: str = Field(max_length=64, description="The document's number")
    issuing_state: str | None = Field(
        None, max_length=3, description="A passport's issuing state (ICAO Doc 9303, e.g. CHN)"
    )
    passport_type: str | None = Field(
        None, max_length=2, description="A passport's ICAO document code (P, PD, PS...; default P)"
    )
    evidence: str = Field(min_length=1, max_length=500, description="Why the document is the subject's")


class DocumentOut(BaseModel):
    ok: bool = True
    document: str
    type: str
    subject: str
    passport_type: str | None
    evidence: str
    valid_from: UtcDatetime
    valid_to: UtcDatetime | None
    ended_by: str | None
    current: bool

    @classmethod
    def of(cls, link: DocumentLink) -> DocumentOut:
        return cls(
            document=link.document,
            type=link.type,
            subject=link.subject,
            passport_type=link.passport_type,
            evidence=link.evidence,
            valid_from=link.valid_from,
            valid_to=link.valid_to,
            ended_by=link.ended_by,
            current=link.valid_to is None,
        )


class DocumentsOut(Listing[DocumentOut]):
    pass
