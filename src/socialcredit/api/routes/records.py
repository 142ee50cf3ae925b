"""Agencies submit batches of records; each row ends accepted, duplicate or quarantined."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from socialcredit import access
from socialcredit.api.deps import SystemDep, role
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
