"""The API's reader's language: every route's texts and errors by ``Accept-Language``.

Why a middleware: an API reply's human texts (an explanation's lines, a quarantined row's
reasons, a list entry's end reason) and its refusals (from a route, a dependency, FastAPI's
validation, or a middleware ahead of the routes: 413, 415, 429) are worded in many places; the
language set once per request (:func:`socialcredit.i18n.using`, a context variable, which
Starlette carries into the thread a synchronous route runs in) reaches them all. English without
an ``Accept-Language`` (the machine's default, as before); field names, codes and the machine
values (``allow``/``deny``, statuses) stay as they are, so a client's code reads the same reply
in either language.

Validation errors are FastAPI's (pydantic's) English; for a Chinese reader they are worded from
their type and context (:func:`validation_message`), and any type not listed here keeps
pydantic's English, which still names the field.
"""

from __future__ import annotations

from functools import lru_cache

from starlette.types import ASGIApp, Receive, Scope, Send

from socialcredit import i18n
from socialcredit.errors import VALIDATION, validation_message

__all__ = [
    "VALIDATION",
    "Language",
    "locale_of",
    "validation_message",
]  # the wording is the core's (errors.py)


@lru_cache(maxsize=256)
def locale_of(accept_language: str | None) -> str:
    """The locale ``Accept-Language`` asks for, English without one; negotiated once per
    distinct header (a client sends the same one every time)."""
    return i18n.negotiate(accept_language, i18n.DEFAULT)


class Language:
    """Pure ASGI middleware: the request is answered in the language its ``Accept-Language``
    asks for, outside ``skip`` (the portal's prefix: it chooses its own, Chinese by default)."""

    def __init__(self, app: ASGIApp, skip: str) -> None:
        self.app = app
        self.skip = skip

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(self.skip):
            await self.app(scope, receive, send)
            return
        asked = None
        for name, value in scope.get("headers", ()):
            if name == b"accept-language":
                asked = value.decode("latin-1")
                break
        with i18n.using(locale_of(asked)):
            await self.app(scope, receive, send)
