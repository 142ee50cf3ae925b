"""A subject's record: scores with item-by-item explanations, list entries, records."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from socialcredit.api.deps import CurrentKey, SystemDep
from socialcredit.api.models import EntryOut, RecordOut, ScoreOut, SubjectOut

router = APIRouter(prefix="/subjects", tags=["subjects"])


@router.get("/{code}", operation_id="read_subject", response_model=SubjectOut)
def read_subject(
    code: str,
    key: CurrentKey,
    system: SystemDep,
    as_of: Annotated[dt.datetime | None, Query(description="Reproduce the view at a past time")] = None,
    purpose: Annotated[str, Query(max_length=500)] = "subject access",
) -> SubjectOut:
    """The subject's own record (or an operator's view of it); every read is audited."""
    if as_of is not None and as_of.tzinfo is not None:
        as_of = as_of.astimezone(dt.UTC).replace(tzinfo=None)
    v = system.read(code, key, purpose=purpose, as_of=as_of)
    s = v.subject
    return SubjectOut(
        code=v.code,
        kind=v.kind,
        name=s.name if s else None,
        district=s.district if s else None,
        legal_representative=s.legal_representative if s else None,
        as_of=v.as_of,
        scores=[ScoreOut.of(x) for x in v.scores.values()],
        lists=[EntryOut.of(e) for e in v.entries],
        records=[RecordOut.of(r) for r in v.records],
    )
