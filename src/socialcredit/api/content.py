"""Bodies are JSON: a request that carries a body of another declared type is refused 415.

Why: FastAPI reads a body sent as ``text/plain`` (or with no ``Content-Type``) as bytes and then
reports the fields it lacks (422), and the decision hot path used to parse any body as JSON. A
client that sent the wrong type should be told that, once, in the one error shape, whichever
route it reached. The portal (HTML forms under ``/portal``) is left alone: its forms are
``application/x-www-form-urlencoded`` by design.

A pure ASGI middleware, inside the request limits (an oversized body is 413 whatever its type)
and outside the router and the hot path, so both answer the same.
"""

from __future__ import annotations

from collections import Counter
from email.message import Message
from functools import lru_cache
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from socialcredit import i18n
from socialcredit.api.errors import BODY_NOT_JSON_TYPE, BODY_UNTYPED, QUERY_REPEATED, error_response

BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@lru_cache(maxsize=256)
def is_json(content_type: str) -> bool:
    """``application/json``, or a ``+json`` type (``application/problem+json``), with any
    parameters (``; charset=utf-8``).

    >>> is_json("application/json; charset=utf-8"), is_json("text/plain"), is_json("")
    (True, False, False)

    Remembered per distinct header (a client sends the same one every time): parsing it with
    the standard library's ``email`` was 11 µs, on every request that carries a body.
    """
    message = Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


class JsonBodies:
    """Refuse (415) a request with a body whose ``Content-Type`` is not JSON, outside
    ``skip`` (the portal's prefix). A request without a body is not concerned: a missing body
    is the route's to report, naming it."""

    def __init__(self, app: ASGIApp, skip: str) -> None:
        self.app = app
        self.skip = skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] == "http"
            and scope["method"] in BODY_METHODS
            and not scope["path"].startswith(self.skip)
        ):
            length = typed = None
            chunked = False
            for name, value in scope["headers"]:  # one pass, the last of a repeated one wins
                if name == b"content-length":
                    length = value
                elif name == b"content-type":
                    typed = value
                elif name == b"transfer-encoding":
                    chunked = True
            has_body = (length is not None and length.strip() not in (b"", b"0")) or chunked
            given = (typed or b"").decode("latin-1")
            if has_body and not is_json(given):
                message = i18n.fill(BODY_NOT_JSON_TYPE, given=repr(given)) if given else BODY_UNTYPED
                await error_response(415, message)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class SingleQueryValues:
    """Refuse (400) a request that repeats a query parameter, outside ``skip`` (the portal).

    Why: every query parameter of the API is a single value, and FastAPI quietly takes the last
    of ``?key=a&key=b``, so a request the schema does not allow was answered as if it were
    another (schemathesis found ``/audit/export?key=...&key=...`` accepted). A client that sent a
    parameter twice is told so, naming it, rather than answered for one of the two."""

    def __init__(self, app: ASGIApp, skip: str) -> None:
        self.app = app
        self.skip = skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("query_string") and not scope["path"].startswith(self.skip):
            query = scope["query_string"].decode("latin-1")
            counts = Counter(k for k, _ in parse_qsl(query, keep_blank_values=True))
            repeated = sorted(k for k, n in counts.items() if n > 1)
            if repeated:
                name = repeated[0]
                await error_response(400, i18n.fill(QUERY_REPEATED, name=name, count=counts[name]))(
                    scope, receive, send
                )
                return
        await self.app(scope, receive, send)
