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
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

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
