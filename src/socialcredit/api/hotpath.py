"""``POST /decisions`` straight to its route function, ahead of the router.

Why: the decision is the one request a relying party makes at the point of service, thousands a
second, and with a cached view its own work is a few microseconds. Measured under load (py-spy,
docs/benchmarks.md), FastAPI's per-request machinery around it cost more than the decision and
its audit entry together:
- matching the path against every route of the API and the portal;
- resolving dependencies for a route that declares none;
- the exception and exit-stack middlewares, the request and response wrappers.

This middleware answers exactly that request (method and path) by calling the very route
function the router would call (:func:`socialcredit.api.routes.decisions.decide`), with the same
``Request``. An exception it raises is answered by the app's own handler for it (the one error
shape of :mod:`socialcredit.api.errors`); one without a handler (a bug) propagates to the
outermost middleware, which logs it and answers 500, as from the router. Everything outside the
router still applies: the request limits (body size, rates) and the error middleware sit outside
this one. The
route stays declared on the router, so the OpenAPI document is unchanged, and any other method
or path (``/decisions/``, ``GET /decisions``) goes to the router as before.
``tests/test_api_hotpath.py`` sends the same requests to the app with and without it and
requires the same answers.

The app itself (:class:`App`) also lets that request skip FastAPI's own outer layers, entering at
the app's outermost middleware of ours (:class:`socialcredit.api.errors.ServerErrors`): FastAPI
0.165 asks on every request whether its native OpenTelemetry is configured (15 µs, three
environment reads), then passes Starlette's server-error middleware, its exception-telemetry
middleware and its body-limit middleware, none of which acts on this app's requests (no provider
configured, no ``max_body_size``: ours is :mod:`socialcredit.api.limits`; ``ServerErrors``
answers every exception first). Decision 0101.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

Endpoint = Callable[[Request], Awaitable[Response]]
Handler = Callable[[Request, Exception], Awaitable[Response]]


class HotPath:
    """Pure ASGI middleware: ``method path`` to ``endpoint``, everything else to ``app``."""

    def __init__(self, app: ASGIApp, method: str, path: str, endpoint: Endpoint) -> None:
        self.app = app
        self.method = method
        self.path = path
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != self.method
            or scope["path"] != scope.get("root_path", "") + self.path
        ):
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        try:
            response = await self.endpoint(request)
        except Exception as exc:
            handler = _handler(scope["app"].exception_handlers, exc)
            if handler is None:
                raise
            response = await handler(request, exc)
        await response(scope, receive, send)


def _handler(handlers: Mapping[Any, Handler], exc: Exception) -> Handler | None:
    """The app's handler for ``exc``: the one registered for its nearest class, as Starlette's
    exception middleware looks it up. A handler for ``Exception`` itself is Starlette's
    server-error middleware's to run (it answers, then re-raises so the server logs the error),
    so it is left to that."""
    for cls in type(exc).__mro__:
        if cls is Exception:
            return None
        if cls in handlers:
            return handlers[cls]
    return None


TELEMETRY_RECHECK_S = 1.0
"""How long the answer to "is FastAPI's native telemetry on?" is trusted on the hot path."""


class App(FastAPI):
    """FastAPI, with the hot path's request (``hot``: method and path) sent straight to the
    outermost middleware of ours (``entry``, a class of :attr:`user_middleware`), past FastAPI's
    telemetry check and its three outer middlewares, which do nothing for this app (module
    docstring). Not taken, so everything is as FastAPI does it: when the app has a
    ``max_body_size`` of FastAPI's, when FastAPI's OpenTelemetry is on (asked once a second:
    a provider set while serving traces this path too within that second), or when ``entry``
    is not in the stack."""

    def hot(self, method: str, path: str, entry: type) -> None:
        self._hot = (method, path, entry)
        self._hot_entry: ASGIApp | None = None
        self._traced_until = 0.0
        self._traced = True

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        hot = getattr(self, "_hot", None)
        if hot is not None:
            node: Any = stack
            while node is not None and type(node) is not hot[2]:
                node = getattr(node, "app", None)
            self._hot_entry = node if self.max_body_size is None else None
        return stack

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        hot = getattr(self, "_hot", None)
        if (
            hot is not None
            and scope["type"] == "http"
            and scope["method"] == hot[0]
            and scope["path"] == (self.root_path or scope.get("root_path", "")) + hot[1]
        ):
            if self.middleware_stack is None:
                self.middleware_stack = self.build_middleware_stack()
            if self._hot_entry is not None and not self._telemetry_on():
                if self.root_path:
                    scope["root_path"] = self.root_path
                scope["app"] = self
                await self._hot_entry(scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    def _telemetry_on(self) -> bool:
        now = time.monotonic()
        if now >= self._traced_until:
            self._traced = self._native_telemetry.enabled()
            self._traced_until = now + TELEMETRY_RECHECK_S
        return self._traced
