"""Home, login and logout, search by code, the schemes in force, and the portal's 404."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query
from fastapi.responses import Response

from socialcredit import access, codes, i18n
from socialcredit.i18n import N_
from socialcredit.rules.days import day_of
from socialcredit.service import NotFound, Unauthenticated
from socialcredit.service.publicwords import FIELD_NAMES
from socialcredit.web.base import (
    PREFIX,
    CheckedPage,
    PageDep,
    PageRoute,
    login_response,
    logout_response,
    redirect,
    render,
)

router = APIRouter(prefix=PREFIX, route_class=PageRoute)


@router.get("/")
def home(page: PageDep) -> Response:
    """What the logged-in role may do here (or, for the public, what anyone may see)."""
    return render(page, "home.html", schemes=list(page.system.registry.schemes.values()))


@router.get("/login")
def login_form(page: PageDep) -> Response:
    return render(page, "login.html", error=None)


@router.post("/login")
def login(page: CheckedPage, key: Annotated[str, Form(max_length=500)] = "") -> Response:
    """Log in with a role key: checked like an API key, then kept in an HttpOnly cookie."""
    try:
        page.system.authenticate(key.strip())
    except Unauthenticated as exc:
        return render(page, "login.html", 401, error=f"key: {exc}")
    return login_response(page, key.strip(), f"{PREFIX}/")


@router.post("/logout")
def logout(page: CheckedPage) -> Response:
    return logout_response(page)


@router.get("/search")
def search(page: PageDep, code: Annotated[str, Query(max_length=64)] = "") -> Response:
    """Find a subject by code and go to the page this role may see: the whole record for the
    subject itself or an operator, otherwise the public page (which shows what the schemes in
    force publish, or refuses)."""
    if not code.strip():
        return render(page, "search.html", error=None, code="")
    try:
        c = codes.validate(code)
    except codes.CodeError as exc:
        with i18n.using(page.lang):
            error = exc.describe_as("code")
        return render(page, "search.html", 422, error=error, code=code)
    p = page.principal
    if p is not None and access.may_read_subject(p, c.value):
        return redirect(page, f"{PREFIX}/subjects/{c.value}")
    return redirect(page, f"{PREFIX}/public/{c.value}")


@router.get("/schemes")
def schemes(page: PageDep) -> Response:
    """The schemes in force are public data: anyone may read how scores and lists are made."""
    return render(page, "schemes.html", schemes=list(page.system.registry.schemes.values()))


@router.get("/schemes/{scheme_id}")
def scheme(page: PageDep, scheme_id: str) -> Response:
    registry = page.system.registry
    if scheme_id not in registry.schemes:
        raise NotFound(N_("no scheme {scheme_id!r}", scheme_id=scheme_id[:64]), field="scheme_id")
    # the version in force today (else the newest), with every version and its day (0038)
    today = day_of(page.system.clock())
    s = registry.at(today).schemes.get(scheme_id, registry.schemes[scheme_id])
    return render(
        page,
        "scheme.html",
        scheme=s,
        versions=registry.version_rows(scheme_id, today),
        field_names=FIELD_NAMES,
    )


fallback = APIRouter(prefix=PREFIX, route_class=PageRoute)


@fallback.get("/{rest:path}")
def not_found(page: PageDep, rest: str) -> Response:
    """Any other portal address: an HTML 404 rather than the API's JSON one."""
    raise NotFound(N_("there is no such page in the portal"), field="page")
