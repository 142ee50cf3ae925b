"""One exception root for everything the system refuses on purpose.

Why: an adapter must tell a refusal (the caller's to fix: a bad field, a missing thing, a key
that may not) from a bug. Mapping every ``ValueError`` to 422 hid bugs as client errors, since
Python raises ``ValueError`` for mistakes of ours too. Here every deliberate refusal is a
:class:`SocialCreditError` carrying the HTTP status it means and, where one is at fault, the
field; the API answers each with that status in its one error shape, the portal with its error
page, the command line with one line and exit status 2; anything else is a bug, logged and
answered 500 (docs/decisions/0030-one-error-root-and-cli-package.md).

The tree is small, as python-stdnum's is, and callers catch a base:

- :class:`Refused` (422): a value the rules refuse; :class:`Conflict` (409) when it is the
  current state of a case or a key that refuses the step (already open, no longer under review).
- :class:`NotFound` (404), :class:`Unauthenticated` (401), :class:`AccessDenied` (403).

The modules' own errors keep their names and derive from these (``codes.CodeError``,
``ledger.RowError``, ``schemes.loader.SchemeError``, ``formats.FileRefused``, ...).
:class:`Refused` is also a ``ValueError`` and :class:`NotFound` a ``LookupError``, as before, so
callers that caught those keep working and a pydantic validator calling a check still turns its
refusal into a validation error; adapters look for this root first.

>>> str(Refused("must be 1 to 4000 characters", field="statement"))
'statement: must be 1 to 4000 characters'
>>> Conflict("objection obj-1 is rejected, not under review", field="objection_id").status
409
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from socialcredit.i18n import DEFAULT, N_, current, fill, translate, using

__all__ = [
    "VALIDATION",
    "AccessDenied",
    "Conflict",
    "NotFound",
    "Refused",
    "SocialCreditError",
    "Unauthenticated",
    "Unavailable",
    "validation_message",
]


class SocialCreditError(Exception):
    """A deliberate refusal: ``status`` is the HTTP status it means, ``field`` the field at fault
    (if one is), ``message`` what is wrong with it. ``str()`` is ``"field: message"``, the line a
    person reads, which names only what was refused and why, never data about anyone. A message
    marked with :func:`socialcredit.i18n.N_` is worded in the reader's language by
    :meth:`describe`; ``str()`` stays English, as logs and tests read it."""

    status: ClassVar[int] = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.message = message
        self.field = field

    def describe(self) -> str:
        """The line an API client or a portal user reads, in the current language
        (:func:`socialcredit.i18n.using`): ``str()`` worded again, unless a kind of refusal
        words it for them (:class:`AccessDenied`, ``codes.CodeError``). The field is a name
        in the interface, kept as it is."""
        message = translate(self.message)
        return f"{self.field}: {message}" if self.field else message


class Unavailable(SocialCreditError):
    """The installation, not the request, is at fault (500): a data key wrapped by a master key
    this process was not given. The API logs it and answers its one 500, saying nothing of it (a
    422 here once told a client its request was wrong); the command line prints the line, which
    names what its operator must fix."""

    status = 500


class Refused(SocialCreditError, ValueError):
    """A value the rules refuse (422): a field out of bounds, a record that may not be restored,
    an invalid code, a malformed file."""

    status = 422


class Conflict(Refused):
    """The current state refuses the step (409): a case no longer under review, one about the
    same thing still open, a key already expired."""

    status = 409


class NotFound(SocialCreditError, LookupError):
    """The thing asked for does not exist (404), reported without leaking anything else."""

    status = 404


class Unauthenticated(SocialCreditError):
    """No key, or a key that is unknown, revoked or expired (401)."""

    status = 401


class AccessDenied(SocialCreditError):
    """The key is valid but its role (or its holder) may not do this (403); the message says what
    it may not do (``"decide objections"``)."""

    status = 403

    def describe(self) -> str:
        return translate(N_("your key may not {what}", what=self.message))


class NotPublic(AccessDenied):
    """What is closed to the public whoever asks, key or none (a person's record on the public
    lookup): worded for a visitor, who has no key to blame (issue 18: a visitor was told "your
    key may not...")."""

    def describe(self) -> str:
        return translate(N_("not open to the public: {what}", what=self.message))


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


def validation_message(error: Mapping[str, Any], locale: str | None = None) -> str:
    """One validation error's message in the current language: pydantic's own English for an
    English reader (what clients have always read), else ours for its type, or a refusal of ours
    raised in a validator, worded again; pydantic's English for a type we do not know."""
    loc = locale or current()
    ctx = error.get("ctx") or {}
    cause = ctx.get("error")
    if isinstance(cause, SocialCreditError):
        if loc == DEFAULT:
            return str(error["msg"])
        with using(loc):
            return cause.describe()
    if loc == DEFAULT:
        return str(error["msg"])
    template = VALIDATION.get(str(error.get("type")))
    if template is None:
        return str(error["msg"])
    try:
        return translate(fill(template, **{k: str(v) for k, v in ctx.items()}), loc)
    except (KeyError, IndexError):  # a context without the value the template names
        return str(error["msg"])
