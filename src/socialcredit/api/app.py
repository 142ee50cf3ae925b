"""The FastAPI application factory."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from socialcredit import (
    __version__,
    web,  # the portal: HTML pages over the same service
)
from socialcredit.api import docs, errors
from socialcredit.api.content import JsonBodies, SingleQueryValues
from socialcredit.api.hotpath import App, HotPath
from socialcredit.api.language import Language
from socialcredit.api.limits import Limits, RequestLimits
from socialcredit.api.routes import (
    audit,
    cases,
    decisions,
    documents,
    keys,
    log,
    public,
    records,
    schemes,
    subjects,
)
from socialcredit.inforce import refuse_failing
from socialcredit.service import System

GC_THRESHOLD_SERVING = (50_000, 20, 10)


@asynccontextmanager
async def serving_gc(_app: FastAPI) -> AsyncIterator[None]:
    """While the app is served: the heap built at start-up (modules, schemes, pydantic and
    SQLAlchemy metadata) is frozen out of the cyclic collector's sight, and a young collection
    waits for 50,000 allocations instead of 700; both are put back when serving stops.

    Why: measured on the decision benchmark, full collections walked that whole heap plus the
    cached views, 7 of them in 11 s taking 0.9 s in all and up to 174 ms each, which was most of
    the p99; the 700-allocation default also promoted the objects of requests still in flight,
    which is what kept triggering them. With these settings one full collection ran in the same
    load (80 ms)."""
    before = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD_SERVING)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def create_app(system: System, *, limits: Limits | None = None, hot_path: bool = True) -> FastAPI:
    """An app serving ``system``. Oversized bodies are refused before they are read whole (from
    their declared length, or as a chunked body passes the limit); writes are rate-limited per key
    and per client address (:mod:`socialcredit.api.limits`). ``POST /decisions`` goes straight to
    its route function ahead of the router, entering at the outermost of our middlewares
    (:mod:`socialcredit.api.hotpath`, decision 0101); ``hot_path=False`` leaves it to FastAPI and
    the router, for the test that holds the two to the same answers.

    A system whose schemes fail the safeguards is refused before anything is served
    (``SafeguardsFailed``, naming the file, the item and the rule): a scheme with a lint error is
    never in force, however the system was assembled.

    Refusals (:mod:`socialcredit.errors`) are answered with their status in the one error shape;
    any other exception is logged and answered 500 in that shape (:mod:`socialcredit.api.errors`)."""
    refuse_failing(system.registry)
    app = App(
        title="socialcredit",
        version=__version__,
        description="An open, auditable social credit system: every score explained, every "
        "decision audited, every record tamper-evident.",
        responses=errors.RESPONSES,
        lifespan=serving_gc,
        docs_url=None,  # served from this server's own assets, not a CDN (api/docs.py)
        redoc_url=None,
    )
    app.state.system = system

    if hot_path:  # added first, so it runs inside the limits
        app.add_middleware(HotPath, method="POST", path="/decisions", endpoint=decisions.decide)
    app.add_middleware(JsonBodies, skip=web.PREFIX)  # 415 for a body not sent as JSON
    app.add_middleware(SingleQueryValues, skip=web.PREFIX)  # 400 for a query parameter given twice
    app.add_middleware(RequestLimits, limits=limits or Limits.from_env())
    app.add_middleware(Language, skip=web.PREFIX)  # every reply's texts by Accept-Language
    errors.install(app)  # last: its middleware, outermost, answers a bug in any layer with a 500
    if hot_path:  # and the app sends that request to it, past FastAPI's own outer layers
        app.hot("POST", "/decisions", errors.ServerErrors)

    @app.get("/health", operation_id="health", tags=["meta"])
    def health() -> dict[str, object]:
        return {"ok": True, "version": __version__}

    for module in (records, subjects, documents, decisions, audit, keys, schemes, cases, public, log):
        app.include_router(module.router)
    docs.mount(app)
    web.mount(app)
    return app
