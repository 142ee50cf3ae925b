"""The portal's shared base: templates, the login cookie, CSRF tokens and HTML error pages.

Why it exists: the portal is a second adapter over the same :class:`~socialcredit.service.System`
the API uses, so every page shows an answer computed the way the API computes it. This module
holds what every page needs and nothing about any one page:

- **Login** keeps the role key itself in an ``HttpOnly``, ``SameSite=Strict`` cookie scoped to
  the portal, so scripts cannot read it and other sites cannot send it; each request
  authenticates it again, so a revoked or expired key stops working at once.
- **CSRF**: every form carries a token derived (HMAC) from a random per-session cookie and a
  per-process secret; a POST whose token does not match is refused before anything is done.
  ``SameSite=Strict`` alone would already stop most forged posts; the token also covers the
  login form (login CSRF) and browsers without SameSite support.
- **Errors** of the service (no key, access denied, not found, invalid input: every
  ``socialcredit.errors.SocialCreditError``) become HTML pages rendered from one template with
  the status code, naming what was refused and nothing about the data asked for, as the API's
  JSON errors do; any other exception is a bug, logged and shown as the 500 page.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Annotated, Any

import jinja2
from fastapi import Depends, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from socialcredit import access, codes
from socialcredit.api.errors import SERVER_ERROR
from socialcredit.errors import SocialCreditError
from socialcredit.scoring.result import signed_points
from socialcredit.service import System, Unauthenticated

logger = logging.getLogger("socialcredit.web")

PREFIX = "/portal"
KEY_COOKIE = "sc_key"
SESSION_COOKIE = "sc_session"
CSRF_FIELD = "csrf_token"

TITLES = {
    400: "Bad request",
    401: "Please log in",
    403: "Not allowed",
    404: "Not found",
    422: "Please check what you entered",
    500: "Something went wrong",
}

ROLE_NAMES: dict[str, str] = {
    "operator": "Operator",
    "agency": "Agency",
    "relying_party": "Relying party",
    "subject": "Subject",
    "auditor": "Auditor",
}


class CsrfRejected(SocialCreditError):
    """A form was posted without this session's token (forged, or from an expired page)."""

    status = 403

    def __init__(self) -> None:
        super().__init__(
            "this form did not come from this session; reload the page and try again", field=CSRF_FIELD
        )


_env = jinja2.Environment(
    loader=jinja2.PackageLoader("socialcredit.web", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.filters["mask"] = codes.mask
_env.filters["signed"] = signed_points  # an adjustment's points as its plain-words line gives them


def templates() -> jinja2.Environment:
    """The template environment (autoescaping on, undefined names are errors)."""
    return _env


@dataclass(frozen=True)
class Page:
    """What every page knows about its request: who is logged in, and the session's CSRF token."""

    request: Request
    system: System
    principal: access.Principal | None
    session: str
    new_session: bool
    csrf: str
    stale: str | None = None  # why a presented key no longer works (revoked, expired)

    @property
    def role(self) -> str | None:
        return self.principal.role if self.principal else None

    def require_login(self) -> access.Principal:
        """The logged-in principal, or 401: the page needs a key."""
        if self.principal is None:
            raise Unauthenticated(self.stale or "log in with your key to see this page")
        return self.principal

    def require_role(self, what: str, *roles: str) -> access.Principal:
        """The principal if its role is one of ``roles``; 401 without a key, 403 with another."""
        p = self.require_login()
        access.require(p.role in roles, what)
        return p


def _secret(request: Request) -> bytes:
    secret: bytes = request.app.state.portal_secret
    return secret


def csrf_token(secret: bytes, session: str) -> str:
    """The form token of a session: an HMAC, so knowing (or planting) a session cookie is not
    enough to forge a form without the server's secret."""
    return hmac.new(secret, session.encode(), hashlib.sha256).hexdigest()


def resolve(request: Request) -> Page:
    """The page context of a request: the session (new if absent) and the logged-in principal."""
    system: System = request.app.state.system
    session = request.cookies.get(SESSION_COOKIE, "")
    new = not (16 <= len(session) <= 64 and session.replace("-", "").replace("_", "").isalnum())
    if new:
        session = secrets.token_urlsafe(24)
    principal = None
    stale = None
    token = request.cookies.get(KEY_COOKIE)
    if token:
        try:
            principal = system.authenticate(token)
        except Unauthenticated as exc:
            stale = f"{exc}; log in again"
    return Page(request, system, principal, session, new, csrf_token(_secret(request), session), stale)


PageDep = Annotated[Page, Depends(resolve)]


def checked(page: PageDep, csrf_token: Annotated[str, Form(max_length=200)] = "") -> Page:
    """The page context of a POST whose CSRF token matches this session's."""
    if page.new_session or not hmac.compare_digest(csrf_token.encode(), page.csrf.encode()):
        raise CsrfRejected()
    return page


CheckedPage = Annotated[Page, Depends(checked)]


def nav(principal: access.Principal | None) -> list[tuple[str, str]]:
    """The links a role may follow: each page the role is allowed to see, and no other."""
    role = principal.role if principal else None
    links = [(f"{PREFIX}/", "Home")]
    if role == "subject" and principal is not None and principal.principal:
        links.append((f"{PREFIX}/subjects/{principal.principal}", "My record"))
    if role in (None, "subject", "operator"):
        links.append((f"{PREFIX}/search", "Search by code"))
    if role in ("agency", "operator"):
        links.append((f"{PREFIX}/records/new", "Enter a record"))
    if role in ("relying_party", "operator"):
        links.append((f"{PREFIX}/decisions/new", "Ask a decision"))
    if role == "operator":
        links.append((f"{PREFIX}/operator", "Operator desk"))
    if role in ("auditor", "operator"):
        links.append((f"{PREFIX}/audit", "Audit log"))
    links.append((f"{PREFIX}/lists", "Public lists"))
    links.append((f"{PREFIX}/transparency", "Transparency report"))
    links.append((f"{PREFIX}/schemes", "Schemes"))
    return links


def _set_cookie(request: Request, response: Response, name: str, value: str) -> None:
    response.set_cookie(
        name,
        value,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path=PREFIX,
    )


def finish(page: Page, response: Response) -> Response:
    """Attach the session cookie to a response when the session is new, and drop a key cookie
    that no longer authenticates."""
    if page.new_session:
        _set_cookie(page.request, response, SESSION_COOKIE, page.session)
    if page.stale:
        response.delete_cookie(KEY_COOKIE, path=PREFIX)
    return response


def render(page: Page, template: str, status_code: int = 200, **context: Any) -> Response:
    """Render ``template`` for this request with the shared context (nav, role, CSRF token)."""
    html = _env.get_template(template).render(
        principal=page.principal,
        role=page.role,
        role_name=ROLE_NAMES.get(page.role or "", "Public"),
        nav=nav(page.principal),
        csrf=page.csrf,
        csrf_field=CSRF_FIELD,
        path=page.request.url.path,
        prefix=PREFIX,
        **context,
    )
    return finish(page, HTMLResponse(html, status_code=status_code))


def redirect(page: Page, url: str) -> Response:
    """A 303 redirect (after a form, or from a search to the page found)."""
    return finish(page, RedirectResponse(url, status_code=303))


def login_response(page: Page, token: str, url: str) -> Response:
    """Log in: keep the key in the cookie and start a new session (so a session id planted
    before login is worthless afterwards)."""
    response = RedirectResponse(url, status_code=303)
    _set_cookie(page.request, response, KEY_COOKIE, token)
    _set_cookie(page.request, response, SESSION_COOKIE, secrets.token_urlsafe(24))
    return response


def logout_response(page: Page) -> Response:
    response = RedirectResponse(f"{PREFIX}/", status_code=303)
    response.delete_cookie(KEY_COOKIE, path=PREFIX)
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
    return response


def error_page(page: Page, status: int, message: str, errors: list[str] | None = None) -> Response:
    """The HTML error page for ``status``: what was refused and why, nothing about the data."""
    return render(
        page,
        "error.html",
        status,
        status=status,
        title=TITLES.get(status, "Error"),
        message=message,
        errors=errors or [],
    )


def field_errors(exc: RequestValidationError) -> list[str]:
    """Form validation errors as ``field: message`` lines (the API's wording)."""
    out = []
    for e in exc.errors():
        loc = ".".join(str(p) for p in e["loc"] if p not in ("body", "query", "path", "form"))
        out.append(f"{loc or 'form'}: {e['msg']}")
    return out


def describe(exc: Exception) -> tuple[int, str, list[str]] | None:
    """The status and message for a refusal (the service's, a form's, the CSRF check's), worded
    as the API words it; None for anything else, which is a bug."""
    if isinstance(exc, SocialCreditError):
        return exc.status, exc.describe(), []
    if isinstance(exc, RequestValidationError):
        errs = field_errors(exc)
        return 422, errs[0] if errs else "invalid request", errs
    if isinstance(exc, HTTPException):
        return exc.status_code, str(exc.detail), []
    return None


class PageRoute(APIRoute):
    """A route whose refusals are HTML pages: the API's exception handlers answer JSON, so the
    portal's routes turn the same exceptions into pages before those handlers see them. Any
    other exception is a bug: logged with its traceback, and answered with the 500 page, which
    says nothing about it."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        inner = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await inner(request)
            except Exception as exc:
                described = describe(exc)
                if described is None:
                    logger.exception("unexpected error on the portal page %s", request.url.path)
                    described = (500, SERVER_ERROR, [])
                status, message, errs = described
                page = await run_in_threadpool(resolve, request)
                return error_page(page, status, message, errs)

        return handler
