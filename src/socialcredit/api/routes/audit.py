"""The audit log: every decision, every read of a record and every administrative act,
hash-chained; filtered, paged, and exported as CSV (the export itself audited)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import StreamingResponse

from socialcredit import access, codes
from socialcredit.api.deps import CurrentKey, SystemDep
from socialcredit.api.inputs import CODE_SCHEMA
from socialcredit.api.logmodels import InclusionProofOut
from socialcredit.api.models import AuditListOut, AuditOut, VerifyOut
from socialcredit.errors import Refused
from socialcredit.i18n import N_
from socialcredit.rules import days
from socialcredit.service.integrity import masked
from socialcredit.store import AuditQuery

router = APIRouter(tags=["audit"])

ACTION_PATTERN = r"^[a-z][a-z-]{0,15}$"
KEY_PATTERN = r"^[A-Za-z0-9]{1,32}$"
PRINCIPAL_PATTERN = r"^[^\x00]{1,64}$"
DAY = {"format": "date"}  # RFC 3339 full-date, as _day reads it


def audit_query(
    subject: Annotated[
        str | None,
        Query(max_length=64, json_schema_extra=CODE_SCHEMA, description="Entries about this subject"),
    ] = None,
    action: Annotated[
        str | None,
        Query(
            pattern=ACTION_PATTERN, description="Entries of this kind: decision, read, ingest, key-create..."
        ),
    ] = None,
    principal: Annotated[
        str | None, Query(max_length=64, pattern=PRINCIPAL_PATTERN, description="Entries by this principal")
    ] = None,
    key: Annotated[str | None, Query(pattern=KEY_PATTERN, description="Entries by this key (its id)")] = None,
    since: Annotated[
        str | None,
        Query(json_schema_extra=DAY, description="Entries on or after this day (UTC), YYYY-MM-DD"),
    ] = None,
    until: Annotated[
        str | None,
        Query(json_schema_extra=DAY, description="Entries on or before this day (UTC), YYYY-MM-DD"),
    ] = None,
) -> AuditQuery:
    """The filters of the audit log, checked: a code like every other (a malformed one is a 422
    naming it, never a database error). A range that ends before it starts selects nothing, as
    its schema allows it (the portal's form says so instead)."""
    code = codes.validate(subject).value if subject is not None else None  # "" is no code
    return AuditQuery(
        action=action,
        principal=principal,
        key_id=key,
        subject=code,
        since=_day(since, "since"),
        until=_day(until, "until"),
    )


def _day(text: str | None, field: str) -> dt.date | None:
    """A calendar day written YYYY-MM-DD. Why not a ``date`` parameter: pydantic also takes a
    number there, as a Unix time, so ``since=-1e-238`` was read as 1970-01-01 (schemathesis)."""
    if text is None:
        return None
    try:
        return days.calendar_day(text)
    except ValueError:
        raise Refused(
            N_("{field}: {text!r} is not a calendar day", field=field, text=text), field=field
        ) from None


Filters = Annotated[AuditQuery, Depends(audit_query)]


@router.get("/audit", operation_id="read_audit", response_model=AuditListOut)
def read_audit(
    key: CurrentKey,
    system: SystemDep,
    query: Filters,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="Entries before this seq (paging)")
    ] = None,
) -> AuditListOut:
    """Auditors and operators read everything, filtered by kind, principal, key, subject and
    days; a subject sees who looked at its record and why."""
    rows = masked(key, system.audit_log(key, limit=limit, before=before, query=query))
    return AuditListOut(data=[AuditOut(**r) for r in rows], count=len(rows))


@router.get(
    "/audit/export",
    operation_id="export_audit",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "CSV"}},
)
def export_audit(key: CurrentKey, system: SystemDep, query: Filters) -> StreamingResponse:
    """The filtered audit log as CSV, newest first, for auditors and operators; the export is
    itself an entry in the log (``audit-export``, with its filters)."""
    lines = system.export_audit(key, query)
    return StreamingResponse(
        lines,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )


@router.get("/audit/{seq}/proof", operation_id="audit_proof", response_model=InclusionProofOut)
def audit_proof(
    seq: Annotated[int, Path(ge=1, le=2**63 - 1, description="The audit entry's seq")],
    key: CurrentKey,
    system: SystemDep,
) -> InclusionProofOut:
    """The audit entry's inclusion proof in the audit log's transparency log, with the log's
    signed checkpoint: for auditors, operators and the subject the entry is about."""
    return InclusionProofOut.model_validate(system.audit_proof(key, seq).to_json())


@router.get("/verify", operation_id="verify", response_model=VerifyOut)
def verify(key: CurrentKey, system: SystemDep) -> VerifyOut:
    """Recompute every hash chain and name each altered, removed or reordered entry, and no other:
    each problem has its ``kind`` (altered, missing, reordered) and the ``seqs`` it concerns."""
    access.require(access.may_read_audit(key), N_("verify the ledger"))
    problems = system.verify()
    return VerifyOut.of(
        problems, records=system.store.head("records")[0], audit_entries=system.store.head("audit")[0]
    )
