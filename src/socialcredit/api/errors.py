"""One error shape everywhere: ``{"ok": false, "error", "errors", "status"}``.

A refusal never carries data about the subject asked about: only what was refused and why.

Every deliberate refusal derives from :class:`socialcredit.errors.SocialCreditError`, which
carries its status and names the field at fault; one handler answers them all. Any other
exception is a bug, not the caller's to fix: :class:`ServerErrors` logs it with its traceback
and answers 500 in the same shape, saying nothing about it (a ``ValueError`` from a bug used to
pass for a 422; decision 0030).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from socialcredit import i18n
from socialcredit.api.language import validation_message
from socialcredit.errors import SocialCreditError
from socialcredit.i18n import N_

logger = logging.getLogger("socialcredit.api")

# The messages this module words itself, in one place (plain strings, to be translated as one).
SERVER_ERROR = N_("internal error: the server could not answer this request; the error is logged")
# Each a template (N_ with no values), filled where it is used and worded by error_response.
BODY_NOT_JSON = N_("body: not valid JSON: {reason} (line {line}, column {column})")
BODY_UNREADABLE = N_(
    "body: could not be read as JSON (it must be UTF-8 text, nested at most a few hundred levels)"
)
BODY_NOT_JSON_TYPE = N_("Content-Type: the body must be sent as application/json, not as {given}")
BODY_UNTYPED = N_("Content-Type: the body must be sent as application/json; no Content-Type was given")
METHOD_NOT_ALLOWED = N_("method: {method} is not allowed on {path}; allowed: {allowed}")
QUERY_REPEATED = N_("{name}: a query parameter may be given once, it was given {count} times")
INVALID_REQUEST = N_("invalid request")
NO_SUCH_PATH = N_("path: there is nothing at this address")
# Starlette's own words for the refusals it makes, and ours for them
_STARLETTE = {"Not Found": NO_SUCH_PATH}

HTTP_METHODS = ("DELETE", "GET", "HEAD", "PATCH", "POST", "PUT")

# FastAPI's own words for a body it could not decode (not UTF-8, nested too deep), replaced by ours
_FASTAPI_UNREADABLE = "There was an error parsing the body"


class ErrorOut(BaseModel):
    """Every refusal and every error, in one shape, so a client needs one error path."""

    ok: Literal[False] = False
    error: str
    errors: list[str]
    status: int


# Documented on every operation: a client generated from the OpenAPI document then knows every
# status it can receive (schemathesis checks that no other status is ever sent).
#
# Given as the schema's reference, not as ``"model": ErrorOut``: FastAPI builds a pydantic
# TypeAdapter for every modelled response of every route, for every app, when the route is first
# reached; eleven statuses times ninety routes was two thirds of an app's first request (0.2 s of
# CPU quiet, paid by a server's start and by every test's app; decision 0085). The document is the
# same: :func:`documented` adds ``ErrorOut`` to its schemas, as the model did.
ERROR_SCHEMA_REF = "#/components/schemas/ErrorOut"
RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"description": what, "content": {"application/json": {"schema": {"$ref": ERROR_SCHEMA_REF}}}}
    for status, what in (
        (400, "The body could not be parsed"),
        (401, "No API key, or an unknown, revoked or expired one"),
        (403, "The key's role may not do this"),
        (404, "No such thing"),
        (405, "The path does not take this method; the Allow header lists those it takes"),
        (409, "The case or key is not in a state that allows this (no longer under review, say)"),
        (413, "The body is larger than the limit"),
        (415, "A body that is not sent as application/json"),
        (422, "A field is invalid; the error names it"),
        (429, "Too many requests from this key or address; retry after the Retry-After seconds"),
        (500, "An unexpected error (a bug): logged, and nothing about it is told"),
    )
}


def reader(accept_language: str | None) -> str:
    """The language of an error's ``error`` line: Chinese when Accept-Language asks for it, else
    English (a client's code reads ``status`` and the field, which stay the same in both)."""
    return i18n.negotiate(accept_language, i18n.DEFAULT)


def error_response(
    status: int, error: str, errors: list[str] | None = None, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """The one error shape; a 401 says which scheme to authenticate with, and ``headers`` (a
    405's ``Allow``, say) are passed on. The lines are worded in the request's language
    (:mod:`socialcredit.api.language`): a :class:`~socialcredit.i18n.Text` again, a text of ours
    filled as plain English found by its template (``i18n.reword``)."""
    headers = {**(headers or {}), **({"WWW-Authenticate": "Bearer"} if status == 401 else {})}
    error = i18n.reword(error)
    errors = [i18n.reword(e) for e in errors] if errors else None
    return JSONResponse(
        {"ok": False, "error": error, "errors": errors or [error], "status": status},
        status_code=status,
        headers=headers,
    )


def documented(app: FastAPI) -> None:
    """Have ``app``'s OpenAPI document define ``ErrorOut``, which every operation's error
    responses reference (:data:`RESPONSES`): FastAPI adds the schemas of the models it is given,
    and these responses name the schema instead of the model. Kept in the sorted order FastAPI
    gives the others."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        document = generate()  # FastAPI's, kept by the app and made again when its routes change
        schemas: dict[str, Any] = document.setdefault("components", {}).setdefault("schemas", {})
        if "ErrorOut" not in schemas:
            schemas["ErrorOut"] = ErrorOut.model_json_schema(mode="serialization")
            document["components"]["schemas"] = dict(sorted(schemas.items()))
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def install(app: FastAPI) -> None:
    """The handlers, and :class:`ServerErrors` as the outermost middleware: call it after every
    other middleware is added, so that it sees whatever any layer raises. The document defines
    the error shape every operation's refusals reference (:func:`documented`)."""
    documented(app)

    @app.exception_handler(SocialCreditError)
    async def _refused(request: Request, exc: SocialCreditError) -> JSONResponse:
        with i18n.using(reader(request.headers.get("accept-language"))):
            if exc.status >= 500:  # the installation's fault (errors.Unavailable): logged, not told
                logger.error("%s %s: %s", request.method, request.url.path, exc)
                return error_response(500, i18n.translate(SERVER_ERROR))
            return error_response(exc.status, exc.describe())

    @app.exception_handler(RequestValidationError)
    async def _invalid(_r: Request, exc: RequestValidationError) -> JSONResponse:
        return invalid_response(exc.errors(), body=exc.body)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        return http_error_response(request, exc)

    app.add_middleware(ServerErrors)


def invalid_response(problems: Sequence[Any], *, body: object = None) -> JSONResponse:
    """A request that failed validation: 422 naming each field at fault (``subject: ...``), or,
    when the body is not JSON at all, 400 saying where the text stops being JSON (FastAPI's own
    report of that is "12: JSON decode error", the position taken for a field name)."""
    for e in problems:
        if e.get("type") == "json_invalid":
            loc = e.get("loc", ())
            pos = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
            return error_response(400, json_error(e.get("ctx", {}).get("error"), body, pos))
    errors = [
        f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {validation_message(e)}"
        for e in problems
    ]
    return error_response(422, errors[0] if errors else INVALID_REQUEST, errors)


def json_error(reason: object, doc: object = None, pos: int | None = None) -> str:
    """The plain line for a body that is not JSON, with the line and column where it fails."""
    line = column = 1
    if isinstance(doc, str) and pos is not None:
        line = doc.count("\n", 0, pos) + 1
        column = pos - doc.rfind("\n", 0, pos)
    return i18n.fill(BODY_NOT_JSON, reason=reason or "malformed", line=line, column=column)


def http_error_response(request: Request, exc: HTTPException) -> JSONResponse:
    """Starlette's and FastAPI's own refusals in the one shape, with their headers (a 405 keeps
    its ``Allow``, which RFC 9110 requires) and in plain words where theirs are terse."""
    headers = dict(exc.headers or {})
    message = str(exc.detail)
    if exc.status_code == 405:
        allowed = allowed_methods(request) or headers.get("Allow") or headers.get("allow") or ""
        headers = {k: v for k, v in headers.items() if k.lower() != "allow"} | {"Allow": allowed}
        message = i18n.fill(METHOD_NOT_ALLOWED, method=request.method, path=request.url.path, allowed=allowed)
    elif exc.status_code == 400 and message == _FASTAPI_UNREADABLE:
        message = BODY_UNREADABLE
    elif isinstance(exc.detail, i18n.Text):
        message = exc.detail
    else:
        message = _STARLETTE.get(message, message)
    return error_response(exc.status_code, message, headers=headers)


def allowed_methods(request: Request) -> str:
    """Every method some route takes at this path, asked of the routes themselves (routers
    included in routers too). Starlette's 405 lists only the first route that matched the path,
    so ``PATCH /keys`` was told ``Allow: POST`` though ``GET /keys`` is served too."""
    allowed = []
    for method in HTTP_METHODS:
        scope = {**request.scope, "method": method}
        if any(route.matches(scope)[0] == Match.FULL for route in request.app.router.routes):
            allowed.append(method)
    return ", ".join(allowed)


class ServerErrors:
    """Pure ASGI middleware: an exception that no handler answered is logged
    (``logging.exception``, with the method and path) and answered 500 in the one error shape.

    Why here and not as a handler for ``Exception``: Starlette gives that handler to its
    server-error middleware, which answers and then raises the exception again, so the server
    logs it a second time and a test client raises it instead of showing the answer. Answered
    here, a bug is logged once and every client, test or not, sees the 500 it would. A bug after
    the answer has started cannot be answered; it is logged and raised for the server to close
    the connection."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            logger.exception("unexpected error answering %s %s", scope["method"], scope["path"])
            if started:
                raise
            asked = dict(scope.get("headers") or []).get(b"accept-language", b"").decode("latin-1")
            await error_response(500, i18n.translate(SERVER_ERROR, reader(asked)))(scope, receive, send)
