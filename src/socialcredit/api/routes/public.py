"""What anyone may read without a key: public lists, lookups the schemes allow, the
transparency report and the sources' accuracy figures."""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter

from socialcredit.api.deps import SystemDep

router = APIRouter(prefix="/public", tags=["public"])


@router.get("/lists/{scheme_id}/{list_id}", operation_id="public_list")
def public_list(scheme_id: str, list_id: str, system: SystemDep) -> dict[str, Any]:
    """Entries in force, with exactly the list's published fields."""
    rows = system.public_list(f"{scheme_id}/{list_id}")
    return {"ok": True, "data": rows, "count": len(rows)}


@router.get("/subjects/{code}", operation_id="public_lookup")
def public_lookup(code: str, system: SystemDep) -> dict[str, Any]:
    """A subject's public record, where the schemes open that kind of subject to lookup."""
    return {"ok": True, **system.public_lookup(code)}


@router.get("/transparency", operation_id="transparency")
def transparency(system: SystemDep) -> dict[str, Any]:
    return {"ok": True, **system.transparency()}


@router.get("/sources", operation_id="source_accuracy")
def sources(system: SystemDep) -> dict[str, Any]:
    data = [dataclasses.asdict(a) for a in system.source_accuracy()]
    return {"ok": True, "data": data, "count": len(data)}
