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
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from socialcredit import i18n
from socialcredit.errors import SocialCreditError
from socialcredit.i18n import N_

__all__ = ["Language", "locale_of", "validation_message"]


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


# pydantic's error types, worded for a reader of another language (their context's values named)
VALIDATION = {
    "missing": N_("required"),
    "extra_forbidden": N_("not a field of this request"),
    "string_type": N_("must be text"),
    "string_too_short": N_("must have at least {min_length} characters"),
    "string_too_long": N_("must have at most {max_length} characters"),
    "string_pattern_mismatch": N_("must match the pattern {pattern}"),
    "string_unicode": N_("must be valid Unicode text"),
    "int_type": N_("must be a whole number"),
    "int_parsing": N_("must be a whole number"),
    "int_from_float": N_("must be a whole number"),
    "float_type": N_("must be a number"),
    "float_parsing": N_("must be a number"),
    "bool_type": N_("must be true or false"),
    "bool_parsing": N_("must be true or false"),
    "greater_than": N_("must be greater than {gt}"),
    "greater_than_equal": N_("must be at least {ge}"),
    "less_than": N_("must be less than {lt}"),
    "less_than_equal": N_("must be at most {le}"),
    "literal_error": N_("must be one of {expected}"),
    "enum": N_("must be one of {expected}"),
    "date_type": N_("must be an ISO date like 2025-06-30"),
    "date_parsing": N_("must be an ISO date like 2025-06-30"),
    "date_from_datetime_parsing": N_("must be an ISO date like 2025-06-30"),
    "date_from_datetime_inexact": N_("must be an ISO date like 2025-06-30"),
    "datetime_type": N_("must be an ISO date-time like 2025-06-30T09:30:00"),
    "datetime_parsing": N_("must be an ISO date-time like 2025-06-30T09:30:00"),
    "datetime_from_date_parsing": N_("must be an ISO date-time like 2025-06-30T09:30:00"),
    "list_type": N_("must be a list"),
    "too_short": N_("must have at least {min_length} elements"),
    "too_long": N_("must have at most {max_length} elements"),
    "dict_type": N_("must be an object"),
    "model_type": N_("must be an object"),
    "model_attributes_type": N_("must be an object"),
    "json_type": N_("must be JSON"),
    "none_required": N_("must be null"),
}


def validation_message(error: dict[str, Any]) -> str:
    """One validation error's message in the current language: pydantic's own English for an
    English reader (what clients have always read), else ours for its type, or a refusal of ours
    raised in a validator, worded again; pydantic's English for a type we do not know."""
    ctx = error.get("ctx") or {}
    cause = ctx.get("error")
    if isinstance(cause, SocialCreditError):
        return cause.describe() if i18n.current() != i18n.DEFAULT else str(error["msg"])
    if i18n.current() == i18n.DEFAULT:
        return str(error["msg"])
    template = VALIDATION.get(str(error.get("type")))
    if template is None:
        return str(error["msg"])
    try:
        return i18n.translate(i18n.fill(template, **{k: str(v) for k, v in ctx.items()}))
    except (KeyError, IndexError):  # a context without the value the template names
        return str(error["msg"])
