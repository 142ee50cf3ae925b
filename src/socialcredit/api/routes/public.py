"""What anyone may read without a key: public lists, lookups the schemes allow, the
transparency report and the sources' accuracy figures."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from socialcredit.api.casemodels import PublicListOut, PublicLookupOut, SourcesOut, TransparencyOut
from socialcredit.api.deps import CodePath, SystemDep
from socialcredit.api.routes.subjects import WHEN, moment

router = APIRouter(prefix="/public", tags=["public"])


@router.get("/lists/{scheme_id}/{list_id}", operation_id="public_list", response_model=PublicListOut)
def public_list(
    scheme_id: str,
    list_id: str,
    system: SystemDep,
    as_of: Annotated[
        str | None,
        Query(max_length=40, description="Valid time: the list as it stood then", json_schema_extra=WHEN),
    ] = None,
    known_at: Annotated[
        str | None,
        Query(
            max_length=40,
            description="Knowledge time: from what the system had received by then (what was published then)",
            json_schema_extra=WHEN,
        ),
    ] = None,
) -> PublicListOut:
    """Entries in force, with exactly the list's published fields; for a past valid time as
    known at a past knowledge time where asked."""
    rows = system.public_list(f"{scheme_id}/{list_id}", moment(as_of, "as_of"), moment(known_at, "known_at"))
    return PublicListOut.of_rows(rows)


@router.get("/subjects/{code}", operation_id="public_lookup", response_model=PublicLookupOut)
def public_lookup(code: CodePath, system: SystemDep) -> PublicLookupOut:
    """A subject's public record, where the schemes open that kind of subject to lookup."""
    return PublicLookupOut.model_validate(system.public_lookup(code))


@router.get("/transparency", operation_id="transparency", response_model=TransparencyOut)
def transparency(system: SystemDep) -> TransparencyOut:
    return TransparencyOut.model_validate(system.transparency())


@router.get("/sources", operation_id="source_accuracy", response_model=SourcesOut)
def sources(system: SystemDep) -> SourcesOut:
    return SourcesOut.of(system.source_accuracy())
