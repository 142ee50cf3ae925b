"""The schemes in force are public: anyone may read how scores and lists are made."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from socialcredit.api.deps import SystemDep
from socialcredit.service import NotFound

router = APIRouter(prefix="/schemes", tags=["schemes"])


@router.get("", operation_id="list_schemes")
def list_schemes(system: SystemDep) -> dict[str, Any]:
    data = [
        {
            "id": s.id,
            "title": s.title,
            "jurisdiction": s.jurisdiction,
            "version": s.version,
            "effective_from": s.effective_from,
            "items": len(s.items),
            "lists": [x.id for x in s.lists],
            "measures": [m.id for m in s.measures],
            "scored": s.model is not None,
        }
        for s in system.registry.schemes.values()
    ]
    return {"ok": True, "data": data, "count": len(data)}


@router.get("/{scheme_id}", operation_id="read_scheme")
def read_scheme(scheme_id: str, system: SystemDep) -> dict[str, Any]:
    """The scheme as its file writes it, with its ``version``, the day it applies from
    (``effective_from``) and, for a revised scheme, its ``revision``: which version it replaces,
    whether listings that ended under that one are re-evaluated, and why."""
    scheme = system.registry.schemes.get(scheme_id)
    if scheme is None:
        raise NotFound(f"no scheme {scheme_id!r}", field="scheme_id")
    return {"ok": True, **scheme.model_dump(mode="json")}
