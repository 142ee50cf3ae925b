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
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from socialcredit import i18n
from socialcredit.errors import SocialCreditError
from socialcredit.i18n import N_

logger = logging.getLogger("socialcredit.api")

SERVER_ERROR = N_("internal error: the server could not answer this request; the error is logged")


class ErrorOut(BaseModel):
    """Every refusal and every error, in one shape, so a client needs one error path."""

    ok: Literal[False] = False
    error: str
    errors: list[str]
    status: int


# Documented on every operation: a client generated from the OpenAPI document then knows every
# status it can receive (schemathesis checks that no other status is ever sent).
RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": what}
    for status, what in (
        (400, "The body could not be parsed"),
        (401, "No API key, or an unknown, revoked or expired one"),
        (403, "The key's role may not do this"),
        (404, "No such thing"),
        (409, "The case or key is not in a state that allows this (no longer under review, say)"),
        (413, "The body is larger than the limit"),
        (422, "A field is invalid; the error names it"),
        (429, "Too many requests from this key or address; retry after the Retry-After seconds"),
        (500, "An unexpected error (a bug): logged, and nothing about it is told"),
    )
}


def reader(accept_language: str | None) -> str:
    """The language of an error's ``error`` line: Chinese when Accept-Language asks for it, else
    English (a client's code reads ``status`` and the field, which stay the same in both)."""
    return i18n.negotiate(accept_language, i18n.DEFAULT)


def error_response(status: int, error: str, errors: list[str] | None = None) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        {"ok": False, "error": error, "errors": errors or [error], "status": status},
        status_code=status,
        headers=headers,
    )


def install(app: FastAPI) -> None:
    """The handlers, and :class:`ServerErrors` as the outermost middleware: call it after every
    other middleware is added, so that it sees whatever any layer raises."""

    @app.exception_handler(SocialCreditError)
    async def _refused(request: Request, exc: SocialCreditError) -> JSONResponse:
        with i18n.using(reader(request.headers.get("accept-language"))):
            return error_response(exc.status, exc.describe())

    @app.exception_handler(RequestValidationError)
    async def _invalid(_r: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}" for e in exc.errors()
        ]
        return error_response(422, errors[0] if errors else "invalid request", errors)

    @app.exception_handler(HTTPException)
    async def _http(_r: Request, exc: HTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail))

    app.add_middleware(ServerErrors)


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
