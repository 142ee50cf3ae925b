"""The auditor's page: the audit log (every read, decision and administrative act, hash-chained)
filtered by kind, principal, key, subject and days, with paging, a CSV export of what the
filters select (audited, as the API's is: ``System.export_audit``) and, on request, a
verification of the chains. As in the API, only an operator sees subjects' codes whole:
auditors audit the trail, not the people in it."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response, StreamingResponse

from socialcredit import codes
from socialcredit.api.routes.audit import ACTION_PATTERN, KEY_PATTERN
from socialcredit.errors import Refused
from socialcredit.i18n import N_
from socialcredit.rules import days
from socialcredit.service.integrity import masked
from socialcredit.store import AuditQuery
from socialcredit.web.base import PREFIX, PageDep, PageRoute, finish, render

router = APIRouter(prefix=PREFIX, route_class=PageRoute)
READ = "read the audit log"
Text = Annotated[str, Query(max_length=64)]
# the kinds of entry the filter offers (any other may still be typed in the address)
ACTIONS = (
    "decision",
    "read",
    "ingest",
    "subject-register",
    "key-create",
    "key-rotate",
    "key-revoke",
    "case-decide",
    "audit-export",
)


def _day(value: str, name: str) -> dt.date | None:
    if not value.strip():
        return None
    try:
        return days.calendar_day(value.strip())
    except ValueError:
        raise Refused(N_("give a date as YYYY-MM-DD"), field=name) from None


def filters(
    action: Text = "",
    principal: Text = "",
    key: Text = "",
    subject: Text = "",
    since: Text = "",
    until: Text = "",
) -> AuditQuery:
    """The filters of the page's form, each optional (an empty field filters nothing), checked
    as the API checks them and refused naming the field."""
    action, key = action.strip(), key.strip()
    if action and not re.fullmatch(ACTION_PATTERN, action):
        raise Refused(N_("not a kind of audit entry"), field="action")
    if key and not re.fullmatch(KEY_PATTERN, key):
        raise Refused(N_("not a key id"), field="key")
    first, last = _day(since, "since"), _day(until, "until")
    if first is not None and last is not None and last < first:
        raise Refused(N_("the range ends before it starts"), field="until")
    return AuditQuery(
        action=action or None,
        principal=principal.strip().replace("\x00", "") or None,
        key_id=key or None,
        subject=codes.validate(subject.strip()).value if subject.strip() else None,
        since=first,
        until=last,
    )


Filters = Annotated[AuditQuery, Depends(filters)]


def _params(query: AuditQuery) -> dict[str, str]:
    """The filters as the form's fields (``key_id`` is the form's ``key``)."""
    return {("key" if k == "key_id" else k): v for k, v in query.stated().items()}


@router.get("/audit")
def audit_page(
    page: PageDep,
    query: Filters,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    verify: Annotated[bool, Query()] = False,
) -> Response:
    p = page.require_role(READ, "auditor", "operator")
    rows = masked(p, page.system.audit_log(p, limit=100, before=before, query=query))
    problems = page.system.verify() if verify else None
    params = _params(query)
    return render(
        page,
        "audit.html",
        rows=rows,
        problems=problems,
        actions=ACTIONS,
        values=params,
        filtered=bool(params),
        export=f"{PREFIX}/audit.csv" + (f"?{urlencode(params)}" if params else ""),
        older=f"{PREFIX}/audit?{urlencode({**params, 'before': rows[-1]['seq']})}"
        if len(rows) == 100
        else None,
    )


@router.get("/audit.csv")
def audit_export(page: PageDep, query: Filters) -> Response:
    """What the filters select, as CSV; audited (``audit-export``) before it is sent."""
    p = page.require_role(READ, "auditor", "operator")
    response = StreamingResponse(
        page.system.export_audit(p, query),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit.csv"'},
    )
    finish(page, response)
    return response
