"""One error shape everywhere: ``{"ok": false, "error", "errors", "status"}``.

A refusal never carries data about the subject asked about: only what was refused and why.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from socialcredit import access, codes
from socialcredit.service import NotFound, Unauthenticated


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
        (413, "The body is larger than the limit"),
        (422, "A field is invalid; the error names it"),
        (429, "Too many requests from this key or address; retry after the Retry-After seconds"),
    )
}


def error_response(status: int, error: str, errors: list[str] | None = None) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        {"ok": False, "error": error, "errors": errors or [error], "status": status},
        status_code=status,
        headers=headers,
    )


def install(app: FastAPI) -> None:
    @app.exception_handler(Unauthenticated)
    async def _unauth(_r: Request, exc: Unauthenticated) -> JSONResponse:
        return error_response(401, str(exc))

    @app.exception_handler(access.AccessDenied)
    async def _denied(_r: Request, exc: access.AccessDenied) -> JSONResponse:
        return error_response(403, f"your key may not {exc}")

    @app.exception_handler(NotFound)
    async def _missing(_r: Request, exc: NotFound) -> JSONResponse:
        return error_response(404, str(exc))

    @app.exception_handler(codes.CodeError)
    async def _code(_r: Request, exc: codes.CodeError) -> JSONResponse:
        return error_response(422, f"subject: invalid {exc.part}: {exc}")

    @app.exception_handler(RequestValidationError)
    async def _invalid(_r: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            f"{'.'.join(str(p) for p in e['loc'] if p != 'body') or 'body'}: {e['msg']}" for e in exc.errors()
        ]
        return error_response(422, errors[0] if errors else "invalid request", errors)

    @app.exception_handler(HTTPException)
    async def _http(_r: Request, exc: HTTPException) -> JSONResponse:
        return error_response(exc.status_code, str(exc.detail))

    @app.exception_handler(ValueError)
    async def _value(_r: Request, exc: ValueError) -> JSONResponse:
        return error_response(422, str(exc))
