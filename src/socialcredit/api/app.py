"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI

from socialcredit import __version__
from socialcredit.api import errors
from socialcredit.api.limits import Limits, RequestLimits
from socialcredit.api.routes import audit, cases, decisions, keys, public, records, schemes, subjects
from socialcredit.service import System


def create_app(system: System, *, limits: Limits | None = None) -> FastAPI:
    """An app serving ``system``. Oversized bodies are refused before they are read whole (from
    their declared length, or as a chunked body passes the limit); writes are rate-limited per key
    and per client address (:mod:`socialcredit.api.limits`)."""
    app = FastAPI(
        title="socialcredit",
        version=__version__,
        description="An open, auditable social credit system: every score explained, every "
        "decision audited, every record tamper-evident.",
        responses=errors.RESPONSES,
    )
    app.state.system = system
    errors.install(app)

    app.add_middleware(RequestLimits, limits=limits or Limits.from_env())

    @app.get("/health", operation_id="health", tags=["meta"])
    def health() -> dict[str, object]:
        return {"ok": True, "version": __version__}

    for module in (records, subjects, decisions, audit, keys, schemes, cases, public):
        app.include_router(module.router)
    from socialcredit import web  # the portal: HTML pages over the same service

    web.mount(app)
    return app
