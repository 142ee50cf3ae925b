"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response

from socialcredit import __version__
from socialcredit.api import errors
from socialcredit.api.routes import audit, cases, decisions, keys, public, records, schemes, subjects
from socialcredit.service import System

MAX_BODY = 8 * 1024 * 1024


def create_app(system: System) -> FastAPI:
    """An app serving ``system``. Oversized bodies are refused from their declared length,
    before they are read."""
    app = FastAPI(
        title="socialcredit",
        version=__version__,
        description="An open, auditable social credit system: every score explained, every "
        "decision audited, every record tamper-evident.",
        responses=errors.RESPONSES,
    )
    app.state.system = system
    errors.install(app)

    @app.middleware("http")
    async def limit_body(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            return errors.error_response(413, f"body: larger than {MAX_BODY} bytes; split the batch")
        return await call_next(request)

    @app.get("/health", operation_id="health", tags=["meta"])
    def health() -> dict[str, object]:
        return {"ok": True, "version": __version__}

    for module in (records, subjects, decisions, audit, keys, schemes, cases, public):
        app.include_router(module.router)
    from socialcredit import web  # the portal: HTML pages over the same service

    web.mount(app)
    return app
