"""Agencies submit batches of records; each row ends accepted, duplicate or quarantined."""

from __future__ import annotations

from fastapi import APIRouter

from socialcredit.api.deps import CurrentKey, SystemDep
from socialcredit.api.models import IngestOut, RecordsIn

router = APIRouter(prefix="/records", tags=["records"])


@router.post("", operation_id="submit_records", response_model=IngestOut)
def submit_records(body: RecordsIn, key: CurrentKey, system: SystemDep) -> IngestOut:
    """Submit up to 10,000 records. An agency key submits as its agency (a row may omit
    ``source``); the reply counts accepted, duplicate and quarantined rows and gives the
    reasons for each quarantined one."""
    rows = list(enumerate(body.records, start=1))
    result = system.ingest(rows, origin="http", principal=key)
    return IngestOut.of(result)
