"""The schemes in force are public: anyone may read how scores and lists are made."""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter
from fastapi.encoders import jsonable_encoder

from socialcredit.api.deps import SystemDep
from socialcredit.api.schememodels import SchemesOut
from socialcredit.i18n import N_
from socialcredit.rules.days import day_of
from socialcredit.service import NotFound

router = APIRouter(prefix="/schemes", tags=["schemes"])


@router.get("", operation_id="list_schemes")
def list_schemes(system: SystemDep) -> SchemesOut:
    """Every scheme with its versions: the day each applies from and which is in force today."""
    return SchemesOut.of(system.registry, day_of(system.clock()))


@router.get("/{scheme_id}", operation_id="read_scheme")
def read_scheme(scheme_id: str, system: SystemDep) -> dict[str, Any]:
    """The scheme in force today (else its newest version) as its file writes it, with its
    ``version``, the day it applies from (``effective_from``) and, for a revised scheme, its
    ``revision``: which version it replaces, whether listings that ended under that one are
    re-evaluated, and why; and ``versions``: every version, as ``GET /schemes`` shows them."""
    if scheme_id not in system.registry.schemes:
        raise NotFound(N_("no scheme {scheme_id!r}", scheme_id=scheme_id), field="scheme_id")
    today = day_of(system.clock())
    scheme = system.registry.at(today).schemes.get(scheme_id, system.registry.schemes[scheme_id])
    versions = [
        {**dataclasses.asdict(v), "effective_from": v.effective_from, "applies_from": v.applies_from}
        for v in system.registry.version_rows(scheme_id, today)
    ]
    for v in versions:
        v.pop("origin")
    return {"ok": True, **scheme.model_dump(mode="json"), "versions": jsonable_encoder(versions)}
