"""The operator's keys page: every key with its role, holder, dates and state, and the actions the
API allows (``/keys``): create, rotate, revoke. A new token is shown once, on the page that made
it, and never again (only its hash is stored). The API's guard holds here too
(:meth:`~socialcredit.service.keys.Keys.refuse_last_operator_key`): the last active operator key
is neither revoked nor rotated from the portal, and the refusal says when it is the key in use.
Revoking one's own key while another operator key exists logs out at once."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query
from fastapi.responses import Response

from socialcredit import access
from socialcredit.errors import Refused
from socialcredit.i18n import N_
from socialcredit.service import NotFound
from socialcredit.web.base import (
    PREFIX,
    ROLE_NAMES,
    CheckedPage,
    Page,
    PageDep,
    PageRoute,
    logout_response,
    redirect,
    render,
)

router = APIRouter(prefix=PREFIX, route_class=PageRoute)
MANAGE = N_("manage keys: only operators do")
KEY_ID = r"^[A-Za-z0-9]{1,32}$"


def _page(page: Page, principal: access.Principal, status: int = 200, **extra: Any) -> Response:
    keys = page.system.store.list_keys()
    # active keys first, newest first within each group: the ones an operator acts on lead
    keys.sort(key=lambda k: k.created_at, reverse=True)
    keys.sort(key=lambda k: k.revoked_at is not None)
    return render(
        page,
        "keys.html",
        status,
        keys=keys,
        own=principal.key_id,
        roles=access.ROLES,
        role_names=ROLE_NAMES,
        now=page.system.clock(),
        **{"made": None, "replaced": None, "revoked": None, "values": {}, "error": None, **extra},
    )


@router.get("/keys")
def keys_page(
    page: PageDep, revoked: Annotated[str | None, Query(max_length=32, pattern=KEY_ID)] = None
) -> Response:
    p = page.require_role(MANAGE, "operator")
    return _page(page, p, revoked=revoked)


@router.post("/keys")
def create_key(
    page: CheckedPage,
    role: Annotated[str, Form(max_length=20)] = "",
    principal: Annotated[str, Form(max_length=64)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
    expires_on: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    """A new key, its token shown on this page once; audited (``key-create``) as the API's is."""
    p = page.require_role(MANAGE, "operator")
    values = {"role": role, "principal": principal, "name": name, "expires_on": expires_on}
    try:
        if role not in access.ROLES:
            raise Refused(N_("choose a role"), field="role")
        expires_at = _expiry(expires_on, page.system.clock())
        made = page.system.create_key(
            role,  # checked against access.ROLES above
            access.check_binding(role, principal.strip() or None),
            name=name.strip(),
            expires_at=expires_at,
            by=p,
        )
    except Refused as exc:
        return _page(page, p, exc.status, values=values, error=exc)
    return _page(page, p, made=made)


def _expiry(expires_on: str, now: dt.datetime) -> dt.datetime | None:
    """The end of the given day (UTC) as the key's expiry, which must be in the future."""
    if not expires_on.strip():
        return None
    try:
        day = dt.date.fromisoformat(expires_on.strip())
    except ValueError:
        raise Refused(N_("give the expiry as a date, YYYY-MM-DD"), field="expires_on") from None
    at = dt.datetime.combine(day, dt.time(23, 59, 59))
    if at <= now:
        raise Refused(N_("the expiry must be in the future"), field="expires_on")
    return at


@router.post("/keys/{key_id}/rotate")
def rotate_key(page: CheckedPage, key_id: str) -> Response:
    """A new token for the key's role and holder, the old one revoked at once (the API's rule)."""
    p = page.require_role(MANAGE, "operator")
    page.system.keys.refuse_last_operator_key(key_id[:32], "rotate", by=p)
    new = page.system.rotate_key(key_id[:32], by=p)
    if new is None:
        raise NotFound(N_("no active key {key_id!r}", key_id=key_id[:32]), field="key_id")
    return _page(page, p, made=new, replaced=key_id)


@router.post("/keys/{key_id}/revoke")
def revoke_key(page: CheckedPage, key_id: str) -> Response:
    """Revoke a key; one's own (allowed while another operator key is active) logs out."""
    p = page.require_role(MANAGE, "operator")
    page.system.keys.refuse_last_operator_key(key_id[:32], "revoke", by=p)
    if not page.system.revoke_key(key_id[:32], by=p):
        raise NotFound(N_("no active key {key_id!r}", key_id=key_id[:32]), field="key_id")
    if key_id == p.key_id:
        return logout_response(page)
    return redirect(page, f"{PREFIX}/keys?revoked={key_id}")
