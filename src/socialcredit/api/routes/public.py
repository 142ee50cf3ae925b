"""What anyone may read without a key: public lists, lookups the schemes allow, the
transparency report and the sources' accuracy figures."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from socialcredit.api.casemodels import PublicListOut, PublicLookupOut, SourcesOut, TransparencyOut
from socialcredit.api.deps import CodePath, SystemDep
from socialcredit.api.routes.subjects import WHEN, moment
from socialcredit.service.publiclists import PER_PAGE

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
    q: Annotated[
        str, Query(max_length=100, description="A part of any published field (a name, a case number...)")
    ] = "",
    page: Annotated[int, Query(ge=1, le=1_000_000, description="Page number (past the last: the last)")] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = PER_PAGE,
) -> PublicListOut:
    """Entries in force, with exactly the list's published fields, searched and paged as the
    portal's list page does (persons are never offered for bulk download: decision 0039); for a
    past valid time as known at a past knowledge time where asked."""
    return PublicListOut.of_page(
        system.public_page(
            f"{scheme_id}/{list_id}",
            search=q,
            page=page,
            per_page=per_page,
            as_of=moment(as_of, "as_of"),
            known_at=moment(known_at, "known_at"),
        )
    )


@router.get("/subjects/{code}", operation_id="public_lookup", response_model=PublicLookupOut)
def public_lookup(code: CodePath, system: SystemDep) -> PublicLookupOut:
    """A subject's public record, where the schemes open that kind of subject to lookup."""
    return PublicLookupOut.model_validate(system.public_lookup(code))


@router.get("/transparency", operation_id="transparency", response_model=TransparencyOut)
def transparency(
    system: SystemDep,
    known_at: Annotated[
        str | None,
        Query(
            max_length=40,
            description="Knowledge time: the report as it stood then, every figure from what the "
            "system had received or recorded by then (default now)",
            json_schema_extra=WHEN,
        ),
    ] = None,
) -> TransparencyOut:
    """The transparency report, now or as it stood at ``known_at`` (a past report reproduced:
    nothing received later counts, as on the public lists)."""
    return TransparencyOut.model_validate(system.transparency(known_at=moment(known_at, "known_at")))


@router.get("/sources", operation_id="source_accuracy", response_model=SourcesOut)
def sources(system: SystemDep) -> SourcesOut:
    return SourcesOut.of(system.source_accuracy())
