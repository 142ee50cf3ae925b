"""The operator's desk: listings noticed but not yet in effect, open objections, human reviews,
appeals, restoration applications and erasure requests with their deadlines, and the ones
overdue; removals reported after they were due; each open case decided here with its reason
(``System.decide_objection`` / ``decide_appeal`` / ``decide_restoration`` / ``decide_erasure``),
refused at the case where the operator may not decide it (separation of duties:
``service/duties.py``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query
from fastapi.responses import Response

from socialcredit import access
from socialcredit.dueprocess.cases import ErasureRequest, Objection, Restoration
from socialcredit.errors import Refused
from socialcredit.i18n import N_
from socialcredit.rules.days import day_of
from socialcredit.service import NotFound
from socialcredit.service.casefiles import Case
from socialcredit.web.base import PREFIX, CheckedPage, Page, PageDep, PageRoute, redirect, render

router = APIRouter(prefix=PREFIX, route_class=PageRoute)


def due_of(case: Case) -> dt.date | None:
    """The next deadline of an open case: the decision of an objection or review, of its appeal,
    the correction of an upheld one, or the decision of a restoration application or an erasure
    request."""
    if isinstance(case, Restoration | ErasureRequest):
        return case.decision_due
    return {
        "under review": case.review_due,
        "under appeal": case.appeal_due,
        "upheld": case.correction_due,
    }.get(case.status)


def by_due_date(cases: list[Case]) -> list[Case]:
    """Open cases soonest deadline first (so the overdue ones lead), those without one last, and
    by id among equals: the desk is worked from the top (issue 18: it was ordered by id)."""
    return sorted(cases, key=lambda c: (due_of(c) or dt.date.max, c.id))


def _context(page: Page, principal: access.Principal) -> dict[str, Any]:
    system = page.system
    open_cases = system.cases(principal=principal, open_only=True)
    overdue = system.overdue(principal=principal)
    return {
        "notices": system.pending_notices(principal=principal),
        "cases": by_due_date(open_cases),
        "due_of": due_of,
        "overdue": overdue,
        "late": {c.id: late for c, late in overdue},
        "late_removals": system.late_removals(principal=principal),
        # who may not decide each open review (Duties.involved_in), shown before anyone tries
        "involved": {
            c.id: sorted(system.involved_in(c))
            for c in open_cases
            if isinstance(c, Objection) and c.kind == "review"
        },
        "today": day_of(system.clock()),
        "errors": {},
        "values": {},
        "decided": None,
    }


@router.get("/operator")
def operator_page(page: PageDep, decided: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    p = page.require_role("see the operator's desk", "operator")
    context = _context(page, p)
    if decided:
        found = [c for c in page.system.cases(principal=p) if c.id == decided]
        context["decided"] = found[0] if found else None
    return render(page, "operator.html", **context)


@router.post("/cases/{case_id}/decision")
def decide_case(
    page: CheckedPage,
    case_id: str,
    outcome: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=4000)] = "",
) -> Response:
    """Decide an open case: uphold or reject an objection (or its appeal), grant or refuse a
    restoration application or an erasure request; the reason is required and shown to the subject."""
    p = page.require_role("decide objections and applications", "operator")
    case = next((c for c in page.system.cases(principal=p, open_only=True) if c.id == case_id), None)
    if case is None:
        raise NotFound(N_("no open case {case_id!r}", case_id=case_id[:64]), field="case_id")
    try:
        if isinstance(case, Objection):
            if outcome not in ("uphold", "reject"):
                raise Refused(N_("choose uphold or reject"), field="outcome")
            decide = (
                page.system.decide_appeal if case.status == "under appeal" else page.system.decide_objection
            )
            decide(principal=p, objection_id=case.id, upheld=outcome == "uphold", reason=reason)
        else:
            if outcome not in ("grant", "refuse"):
                raise Refused(N_("choose grant or refuse"), field="outcome")
            decide_other = (
                page.system.decide_erasure
                if isinstance(case, ErasureRequest)
                else page.system.decide_restoration
            )
            decide_other(principal=p, case_id=case.id, granted=outcome == "grant", reason=reason)
    except (Refused, access.AccessDenied) as exc:
        # a refusal by separation of duties is shown at the case, like a missing reason: the
        # operator may decide cases, only not this one
        denied = isinstance(exc, access.AccessDenied)
        context = _context(page, p)
        context["errors"] = {case.id: f"You may not {exc}" if denied else str(exc)}
        context["values"] = {"outcome": outcome, "reason": reason}
        return render(page, "operator.html", exc.status, **context)
    return redirect(page, f"{PREFIX}/operator?decided={case.id}")
