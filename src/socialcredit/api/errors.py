"""One error shape everywhere: ``{"ok": false, "error", "errors", "status"}``.

A refusal never carries data about the subject asked about: only what was refused and why.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from socialcredit import access, codes
from socialcredit.service import NotFound, Unauthenticated


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
