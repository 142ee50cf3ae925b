"""The audit log: every decision and every read of a record, hash-chained."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from socialcredit import codes
from socialcredit.api.deps import CurrentKey, SystemDep
from socialcredit.api.inputs import CODE_SCHEMA
from socialcredit.api.models import AuditListOut, AuditOut, VerifyOut

router = APIRouter(tags=["audit"])


@router.get("/audit", operation_id="read_audit", response_model=AuditListOut)
def read_audit(
    key: CurrentKey,
    system: SystemDep,
    subject: Annotated[str | None, Query(max_length=64, json_schema_extra=CODE_SCHEMA)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="Entries before this seq (paging)")
    ] = None,
) -> AuditListOut:
    """Auditors read everything; a subject sees who looked at its record and why."""
    # a code, checked like every other (a malformed one is a 422 naming it, never a database error)
    code = codes.validate(subject).value if subject else None
    rows = system.audit_log(key, subject=code, limit=limit, before=before)
    if key.role != "operator":
        # auditors audit the trail, not the people in it; a subject sees its own code, no one else's
        def shown(code: str | None) -> str | None:
            return code if code is None or code == key.principal else codes.mask(code)

        rows = [
            {
                **r,
                "subject": shown(r["subject"]),
                "principal": shown(r["principal"]) if r["role"] == "subject" else r["principal"],
            }
            for r in rows
        ]
    return AuditListOut(data=[AuditOut(**r) for r in rows], count=len(rows))


@router.get("/verify", operation_id="verify", response_model=VerifyOut)
def verify(key: CurrentKey, system: SystemDep) -> VerifyOut:
    """Recompute every hash chain and name each altered, removed or reordered entry, and no other:
    each problem has its ``kind`` (altered, missing, reordered) and the ``seqs`` it concerns."""
    from socialcredit import access

    access.require(access.may_read_audit(key), "verify the ledger")
    problems = system.verify()
    return VerifyOut.of(
        problems, records=system.store.head("records")[0], audit_entries=system.store.head("audit")[0]
    )
