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
from urllib.parse import urlencode

import jinja2
from fastapi import Depends, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from socialcredit import access, codes, i18n, ledger
from socialcredit.api.errors import SERVER_ERROR
from socialcredit.decisions import ANSWERS
from socialcredit.errors import SocialCreditError
from socialcredit.i18n import N_
from socialcredit.schemes import titles
from socialcredit.scoring.result import signed_points
from socialcredit.service import System, Unauthenticated, publicwords
from socialcredit.shredding import ERASED_CODE

logger = logging.getLogger("socialcredit.web")

PREFIX = "/portal"
KEY_COOKIE = "sc_key"
SESSION_COOKIE = "sc_session"
CSRF_FIELD = "csrf_token"
LANG_COOKIE = "sc_lang"
LANG_PARAM = "lang"
PORTAL_DEFAULT = "zh_CN"  # with no Accept-Language the portal is in Chinese (issue 18.2)

TITLES = {
    400: N_("Bad request"),
    401: N_("Please log in"),
    403: N_("Not allowed"),
    404: N_("Not found"),
    422: N_("Please check what you entered"),
    500: N_("Something went wrong"),
}

ROLE_NAMES: dict[str, str] = {
    "operator": N_("Operator"),
    "agency": N_("Agency"),
    "relying_party": N_("Relying party"),
    "subject": N_("Subject"),
    "auditor": N_("Auditor"),
}


# the states of a case, a listing and a notice as the pages show them (the API keeps the English)
STATUS_NAMES: dict[str, str] = {
    "under review": N_("under review"),
    "upheld": N_("upheld"),
    "corrected": N_("corrected"),
    "rejected": N_("rejected"),
    "under appeal": N_("under appeal"),
    "closed": N_("closed"),
    "granted": N_("granted"),
    "refused": N_("refused"),
    "active": N_("active"),
    "pending": N_("pending"),
    "ended": N_("ended"),
    "withdrawn": N_("withdrawn"),
    "suspended": N_("suspended"),
    "lapsed": N_("lapsed"),
    "cancelled": N_("cancelled"),
    "in effect": N_("in effect"),
}


def status_name(status: str) -> str:
    """A state in the page's language; one the portal does not know, as it is."""
    return i18n.translate(STATUS_NAMES.get(status, status))


CASE_KINDS = {
    "objection": N_("objection"),
    "review": N_("review"),
    "restoration": N_("restoration"),
    "erasure": N_("erasure"),
}
CASE_TITLES = {
    "objection": N_("Objection"),
    "review": N_("Human review"),
    "restoration": N_("Restoration application"),
    "erasure": N_("Erasure request"),
}


def case_kind(kind: str) -> str:
    return i18n.translate(CASE_KINDS.get(kind, kind))


ON_REQUEST = ledger.ON_REQUEST + ", case "
"""How the erasure log names a granted request's rule (``service/erasures.RULE``), before the id."""


def erasure_rule(rule: str) -> str:
    """The rule an erasure names, in the page's language: the retention rule (``retention``), a
    granted request (``erasure on request, case N``); another as it is."""
    if rule == "retention":
        return i18n.translate(N_("retention and archive periods passed"))
    if rule.startswith(ON_REQUEST):
        return i18n.translate(N_("erasure on request, case {case}", case=rule.removeprefix(ON_REQUEST)))
    return rule


def case_title(kind: str) -> str:
    return i18n.translate(CASE_TITLES.get(kind, CASE_TITLES["restoration"]))


class CsrfRejected(SocialCreditError):
    """A form was posted without this session's token (forged, or from an expired page)."""

    status = 403

    def __init__(self) -> None:
        super().__init__(
            N_("this form did not come from this session; reload the page and try again"), field=CSRF_FIELD
        )


_env = jinja2.Environment(
    loader=jinja2.PackageLoader("socialcredit.web", "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    extensions=["jinja2.ext.i18n"],
)
# the texts of {% trans %} blocks with their whitespace folded, as extraction folds them
# (socialcredit.catalogues); the callables read the request's language (i18n.using), so one
# environment serves readers of both languages at once, macros included
_env.policies["ext.i18n.trimmed"] = True
_env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
_env.filters["mask"] = codes.mask
_env.filters["signed"] = signed_points  # an adjustment's points as its plain-words line gives them
_env.filters["tr"] = i18n.translate  # a Text (a refusal, a role's name) in the page's language
_env.filters["answer"] = lambda a: i18n.translate(ANSWERS.get(a, a))  # allow/deny, in words
_env.filters["prose"] = titles.prose  # a scheme's own prose (a legal basis, a description)
_env.filters["reason"] = lambda given: i18n.translate(titles.Reason(given))  # a revision's reason
_env.filters["rw"] = i18n.reword  # a text of ours stored as English (a quarantine or end reason)
_env.filters["date"] = i18n.format_date
_env.filters["datetime"] = i18n.format_datetime
_env.filters["number"] = i18n.format_number
# an audit entry's subject or acting subject whose audit key was destroyed (decision 0060)
ERASED_SUBJECT = N_("erased")
_env.filters["who"] = lambda code: i18n.translate(ERASED_SUBJECT) if code == ERASED_CODE else code
_env.globals["status_name"] = status_name
_env.globals["case_kind"] = case_kind
_env.globals["case_title"] = case_title
_env.globals["erasure_rule"] = erasure_rule
_env.globals["title_of"] = titles.title_of
_env.globals["detail"] = publicwords.detail  # a record's detail: its name and value worded


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
    lang: str = PORTAL_DEFAULT  # the page's language (i18n.LOCALES)
    chosen: bool = False  # the language was chosen with ?lang= now: remember it in a cookie

    @property
    def role(self) -> str | None:
        return self.principal.role if self.principal else None

    def require_login(self) -> access.Principal:
        """The logged-in principal, or 401: the page needs a key."""
        if self.principal is None:
            raise Unauthenticated(self.stale or N_("log in with your key to see this page"))
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


def language(request: Request) -> tuple[str, bool]:
    """The page's language: a ``?lang=`` switch (remembered in a cookie), else the cookie, else
    ``Accept-Language``, else Chinese; and whether the switch was used now."""
    asked = i18n.normalize(request.query_params.get(LANG_PARAM))
    if asked:
        return asked, True
    kept = i18n.normalize(request.cookies.get(LANG_COOKIE))
    if kept:
        return kept, False
    return i18n.negotiate(request.headers.get("accept-language"), PORTAL_DEFAULT), False


def resolve(request: Request) -> Page:
    """The page context of a request: the session (new if absent), the logged-in principal and
    the language."""
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
            stale = N_("{why}; log in again", why=exc.message)
    lang, chosen = language(request)
    return Page(
        request, system, principal, session, new, csrf_token(_secret(request), session), stale, lang, chosen
    )


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
    links: list[tuple[str, str]] = [(f"{PREFIX}/", N_("Home"))]
    if role == "subject" and principal is not None and principal.principal:
        links.append((f"{PREFIX}/subjects/{principal.principal}", N_("My record")))
    if role in (None, "subject", "operator"):
        links.append((f"{PREFIX}/search", N_("Search by code")))
    if role in ("agency", "operator"):
        links.append((f"{PREFIX}/records/new", N_("Enter a record")))
        links.append((f"{PREFIX}/batches", N_("Batches")))
    if role in ("relying_party", "operator"):
        links.append((f"{PREFIX}/decisions/new", N_("Ask a decision")))
    if role == "operator":
        links.append((f"{PREFIX}/operator", N_("Operator desk")))
        links.append((f"{PREFIX}/keys", N_("Keys")))
    if role in ("auditor", "operator"):
        links.append((f"{PREFIX}/audit", N_("Audit log")))
    links.append((f"{PREFIX}/lists", N_("Public lists")))
    links.append((f"{PREFIX}/transparency", N_("Transparency report")))
    links.append((f"{PREFIX}/schemes", N_("Schemes")))
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
    if page.chosen:
        _set_cookie(page.request, response, LANG_COOKIE, page.lang)
    if page.stale:
        response.delete_cookie(KEY_COOKIE, path=PREFIX)
    return response


def switches(page: Page, status_code: int = 200) -> list[tuple[str, str, str, bool]]:
    """The language switch of every page: each language's link to this same page, with the
    language's tag and name, and whether it is the page's. The link is relative (``?q=...&
    lang=en``): the browser keeps the path, and the page never writes its own address, which
    may hold a code an error page must not repeat. It keeps the page's query (a list's search
    and page, the valid and knowledge times asked about), so switching language shows the same
    page, with only ``lang`` replaced; an error page's switch keeps none of it (its query may
    hold a code it must not repeat either)."""
    kept = (
        [(k, v) for k, v in page.request.query_params.multi_items() if k != LANG_PARAM]
        if status_code < 400
        else []
    )
    return [
        (
            "?" + urlencode([*kept, (LANG_PARAM, i18n.TAGS[loc])]),
            i18n.TAGS[loc],
            i18n.NAMES[loc],
            loc == page.lang,
        )
        for loc in i18n.LOCALES
    ]


def render(page: Page, template: str, status_code: int = 200, **context: Any) -> Response:
    """Render ``template`` for this request, in its language, with the shared context (nav,
    role, CSRF token, language switch)."""
    with i18n.using(page.lang):
        html = _env.get_template(template).render(
            principal=page.principal,
            role=page.role,
            role_name=i18n.translate(ROLE_NAMES.get(page.role or "", N_("Public"))),
            nav=[(href, i18n.translate(label)) for href, label in nav(page.principal)],
            csrf=page.csrf,
            csrf_field=CSRF_FIELD,
            path=page.request.url.path,
            prefix=PREFIX,
            lang=page.lang,
            lang_tag=i18n.TAGS[page.lang],
            switches=switches(page, status_code),
            **context,
        )
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Content-Language"] = i18n.TAGS[page.lang]
    return finish(page, response)


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
        title=TITLES.get(status, N_("Error")),
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
        return 422, errs[0] if errs else i18n.gettext("invalid request"), errs
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
                page = await run_in_threadpool(resolve, request)
                with i18n.using(page.lang):
                    described = describe(exc)
                if described is None:
                    logger.exception("unexpected error on the portal page %s", request.url.path)
                    described = (500, i18n.translate(SERVER_ERROR, page.lang), [])
                status, message, errs = described
                return error_page(page, status, message, errs)

        return handler
