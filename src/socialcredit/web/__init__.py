"""The web portal: server-rendered pages over the same service the API uses.

An adapter, like the API: it imports the core and the service, and nothing in the core imports
it. :func:`mount` adds the pages under ``/portal`` (with ``/`` leading there), the static files
under ``/portal/static``, and the per-process secret the CSRF tokens are derived from.
"""

from __future__ import annotations

import secrets
from importlib import resources

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from socialcredit.web.base import PREFIX
from socialcredit.web.routes import ROUTERS

__all__ = ["PREFIX", "mount", "new_secret"]


def new_secret(app: FastAPI) -> None:
    """A new secret for ``app``'s CSRF tokens: a token made under another is refused."""
    app.state.portal_secret = secrets.token_bytes(32)


def mount(app: FastAPI) -> None:
    """Serve the portal from ``app``; the API's routes are untouched."""
    new_secret(app)
    static = resources.files("socialcredit.web").joinpath("static")
    app.mount(f"{PREFIX}/static", StaticFiles(directory=str(static)), name="portal-static")

    @app.get("/", include_in_schema=False)
    def root() -> RedirectResponse:
        return RedirectResponse(f"{PREFIX}/", status_code=307)

    for router in ROUTERS:
        app.include_router(router, include_in_schema=False)
