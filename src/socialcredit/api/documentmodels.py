"""The API's models of a subject's documents (``POST/GET /subjects/{code}/documents``), also the
CLI's ``documents --json`` shapes. Kept apart from :mod:`socialcredit.api.models` by concern."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from socialcredit import codes, documents
from socialcredit.api.inputs import TEXT_PATTERN
from socialcredit.api.models import Listing, RequestIn, UtcDatetime
from socialcredit.store import DocumentLink


def _kind(kind: str, number: dict[str, Any], **more: dict[str, Any]) -> dict[str, Any]:
    """One type's rule: its number's pattern; only a passport names an issuing state or type."""
    none = {"type": "null"}
    passport = {"issuing_state": none, "passport_type": none} if kind != "passport" else {}
    return {
        "properties": {"type": {"const": kind}, "number": {"type": "string", **number}, **passport, **more}
    }


class DocumentIn(RequestIn):
    """A document to link. Which numbers are valid depends on the type (``documents.validate``),
    and the schema says so type by type, so that a body valid by the schema is one the server
    takes (schemathesis's positive data check): an identity code's check digit by its format,
    the others by their published patterns, a passport's issuing state from ICAO Doc 9303."""

    model_config = ConfigDict(extra="forbid")
    cross_field_rules: ClassVar[dict[str, Any]] = {
        "oneOf": [
            _kind("ric", {"format": codes.FORMAT, "pattern": "^[0-9]{17}[0-9X]$"}),
            _kind(
                "residence-permit",
                {"format": documents.PERMIT_FORMAT, "pattern": "^8[123]0000[0-9]{11}[0-9X]$"},
            ),
            _kind("fpr", {"pattern": f"^({'|'.join(sorted(documents.ISO_ALPHA3))})[0-9]{{12}}$"}),
            _kind("hkm-permit", {"pattern": "^[HM][0-9]{8}([0-9]{2})?$"}),
            _kind("tw-permit", {"pattern": "^[0-9]{8}$"}),
            {
                **_kind(
                    "passport",
                    {"pattern": "^[A-Z0-9]{1,9}$"},
                    issuing_state={"enum": sorted(documents.ISO_ALPHA3 | documents.ICAO_CODES)},
                    passport_type={"pattern": "^P[A-Z]?$"},
                ),
                "required": ["issuing_state"],
            },
        ]
    }
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
    evidence: str = Field(
        min_length=1,
        max_length=500,
        description="Why the document is the subject's",
        json_schema_extra={"pattern": TEXT_PATTERN},
    )


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
