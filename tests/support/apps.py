"""One API app per test process, serving each test's own system (decision 0085).

``create_app`` is cheap; an app's first requests are not: FastAPI builds each included route's
models (its dependencies' and parameters' pydantic adapters) per app, at the first request that
passes through its router, and a test asking for a few pages paid for most of the ninety routes
again. Here they are built once per process. What one test could leave to the next is made new
for each: the system served, the portal's CSRF secret, and the middleware stack, so the rate
limits' buckets start full (with the limits the environment gives now, as ``create_app`` reads
them)."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware import Middleware

from socialcredit import web
from socialcredit.api import create_app
from socialcredit.api.limits import Limits, RequestLimits
from socialcredit.inforce import refuse_failing
from socialcredit.service import System

_shared: list[FastAPI] = []


def served(system: System) -> FastAPI:
    """The process's app, now serving ``system`` alone, as ``create_app(system)`` would: the
    registry is checked against the safeguards, as it refuses, and nothing of an earlier test's
    requests is left in the app. A test that changes the app itself (its routes, its middleware
    list, its lifespan) makes its own with ``create_app``."""
    if not _shared:
        _shared.append(create_app(system))
        return _shared[0]
    app = _shared[0]
    refuse_failing(system.registry)
    app.state.system = system
    web.new_secret(app)
    app.user_middleware = [
        Middleware(RequestLimits, limits=Limits.from_env()) if m.cls is RequestLimits else m
        for m in app.user_middleware
    ]
    app.middleware_stack = None  # built again at the first request: new buckets, new limits
    return app
