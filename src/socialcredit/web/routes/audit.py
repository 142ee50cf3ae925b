"""The auditor's page: the audit log (every read and decision, hash-chained) and, on request, a
verification of both hash chains. As in the API, only an operator sees subjects' codes whole:
auditors audit the trail, not the people in it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from socialcredit import codes
from socialcredit.web.base import PREFIX, PageDep, PageRoute, render

router = APIRouter(prefix=PREFIX, route_class=PageRoute)


@router.get("/audit")
def audit_page(
    page: PageDep,
    before: Annotated[int | None, Query(ge=1)] = None,
    verify: Annotated[bool, Query()] = False,
) -> Response:
    p = page.require_role("read the audit log", "auditor", "operator")
    rows = page.system.audit_log(p, limit=100, before=before)
    if p.role != "operator":  # a subject's key is bound to its code: mask it where it acted too
        rows = [
            {
                **r,
                "subject": codes.mask(r["subject"]) if r["subject"] else None,
                "principal": codes.mask(r["principal"])
                if r["role"] == "subject" and r["principal"]
                else r["principal"],
            }
            for r in rows
        ]
    problems = page.system.verify() if verify else None
    return render(
        page,
        "audit.html",
        rows=rows,
        problems=problems,
        older=rows[-1]["seq"] if len(rows) == 100 else None,
    )
