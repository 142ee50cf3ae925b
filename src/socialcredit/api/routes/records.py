"""Agencies submit batches of records; each row ends accepted, duplicate or quarantined."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from socialcredit import access
from socialcredit.api.deps import CurrentKey, SystemDep, role
from socialcredit.api.logmodels import InclusionProofOut
from socialcredit.api.models import IngestOut, RecordsIn
from socialcredit.service.records import SUBMIT_RECORDS

router = APIRouter(prefix="/records", tags=["records"])


@router.post("", operation_id="submit_records", response_model=IngestOut)
def submit_records(
    body: RecordsIn,
    key: Annotated[access.Principal, role("agency", "operator", to=SUBMIT_RECORDS)],
    system: SystemDep,
) -> IngestOut:
    """Submit up to 10,000 records. An agency key submits as its agency (a row may omit
    ``source``); the reply counts accepted, duplicate and quarantined rows and gives the
    reasons for each quarantined one."""
    rows = list(enumerate(body.records, start=1))
    result = system.ingest(rows, origin="http", principal=key)
    return IngestOut.of(result)


@router.get("/{record_id}/proof", operation_id="record_proof", response_model=InclusionProofOut)
def record_proof(
    record_id: Annotated[str, Path(pattern="^[0-9a-f]{32}$", description="A record's id")],
    key: CurrentKey,
    system: SystemDep,
) -> InclusionProofOut:
    """The record's inclusion proof in the records chain's transparency log, with the log's
    signed checkpoint: for the record's subject, operators and auditors."""
    return InclusionProofOut.model_validate(system.record_proof(key, record_id).to_json())
