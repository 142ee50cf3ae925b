"""A subject's record: scores with item-by-item explanations, list entries, records."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BeforeValidator

from socialcredit import access
from socialcredit.api.deps import CodePath, CurrentKey, SystemDep, role
from socialcredit.api.models import (
    RegisterOut,
    SubjectOut,
    SubjectsIn,
    iso_date_time,
)

router = APIRouter(prefix="/subjects", tags=["subjects"])


@router.get("/{code}", operation_id="read_subject", response_model=SubjectOut)
def read_subject(
    code: CodePath,
    key: CurrentKey,
    system: SystemDep,
    as_of: Annotated[
        dt.datetime | None,
        BeforeValidator(iso_date_time),
        Query(description="Reproduce the view at a past time (ISO 8601)"),
    ] = None,
    purpose: Annotated[str, Query(max_length=500, pattern=r"^[^\x00]*$")] = "subject access",
) -> SubjectOut:
    """The subject's own record (or an operator's view of it); every read is audited."""
    if as_of is not None and as_of.tzinfo is not None:
        as_of = as_of.astimezone(dt.UTC).replace(tzinfo=None)
    v = system.read(code, key, purpose=purpose, as_of=as_of)
    return SubjectOut.of(v, mask_others=key.role != "operator")


@router.post("", operation_id="register_subjects", response_model=RegisterOut)
def register_subjects(
    body: SubjectsIn,
    key: Annotated[access.Principal, role("operator", to="register subjects")],
    system: SystemDep,
) -> RegisterOut:
    """Register or update subjects and their legal representatives (operators only)."""
    r = system.register_rows(list(enumerate(body.subjects, start=1)), principal=key)
    return RegisterOut.of(r)
