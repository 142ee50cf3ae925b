"""Roles, keys and what each role may do.

Five roles, each bound to a principal: an ``operator`` runs the scheme (bound to the person who
holds the key, so that every decision names who took it and separation of duties can be checked:
all keys of one person share that principal); an ``agency`` (bound to its agency id) submits
records for the items its schemes allow it; a ``relying_party`` (bound to the implementer name
used in measures, e.g. ``airlines``) asks about the measures it implements and sees only the
decision and its reasons; a ``subject`` (bound to a code) sees its own record; an ``auditor``
reads the audit log. Keys are random 32-byte tokens, stored only as SHA-256 hashes: a stolen
database yields no usable key (a slow hash is unnecessary for random tokens).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Literal

from socialcredit import codes
from socialcredit.errors import AccessDenied as AccessDenied
from socialcredit.errors import Refused
from socialcredit.i18n import N_
from socialcredit.schemes.model import Measure

Role = Literal["operator", "agency", "relying_party", "subject", "auditor"]
ROLES: tuple[Role, ...] = ("operator", "agency", "relying_party", "subject", "auditor")
PREFIX = "sck"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is asking: the key's id, role and what it is bound to."""

    key_id: str
    role: Role
    principal: str | None
    name: str = ""

    @property
    def holder(self) -> str:
        """Who answers for what this key does (see :func:`holder_of`)."""
        return holder_of(self.key_id, self.principal)


def holder_of(key_id: str, principal: str | None) -> str:
    """Who answers for what a key does: its principal. An operator key created before operator
    keys had to name their holder has none; it then stands for itself (its key id), so two such
    keys are two different principals even if one person holds both. Name the holder on a new key
    (``socialcredit keys create operator PERSON``) and revoke the old one."""
    return principal or key_id


MAX_HOLDER = 64
"""The longest principal the key table stores."""


@dataclass(frozen=True, slots=True)
class NewKey:
    """A freshly created key; ``token`` is shown once and never stored."""

    key_id: str
    token: str
    token_hash: str
    role: Role
    principal: str | None
    name: str
    created_at: dt.datetime
    expires_at: dt.datetime | None


def hash_token(token: str) -> str:
    """The stored form of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def split_token(token: str) -> str | None:
    """The key id inside a well-formed token, else None (``sck_<id>_<secret>``)."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != PREFIX or not parts[1].isalnum() or len(parts[2]) < 20:
        return None
    return parts[1]


def tokens_match(token: str, stored_hash: str) -> bool:
    """Constant-time comparison of a presented token with a stored hash."""
    return hmac.compare_digest(hash_token(token), stored_hash)


def check_binding(role: Role, principal: str | None) -> str | None:
    """Validate what a role is bound to; returns the normalised principal, or refuses it
    (:class:`~socialcredit.errors.Refused` on ``role`` or ``principal``)."""
    if role not in ROLES:
        raise Refused(N_("{role!r} is not one of {roles}", role=role, roles=", ".join(ROLES)), field="role")
    if role == "auditor":
        return principal or None
    if role == "operator":
        return holder_name(principal)
    if not principal:
        raise Refused(
            {
                "agency": N_("an agency key must be bound to an agency id"),
                "relying_party": N_("a relying_party key must be bound to an implementer name"),
                "subject": N_("a subject key must be bound to an identity code"),
            }[role],
            field="principal",
        )
    if role == "subject":
        try:
            return codes.validate(principal).value
        except codes.CodeError as exc:
            raise Refused(exc.message, field="principal") from None  # its Text: worded per reader
    return principal


def holder_name(principal: str | None) -> str:
    """The holder of an operator key, as given: a name or login of one person (1 to 64 printable
    characters). Why required: a case decision is recorded against its decider's principal, and an
    appeal or a human review must be decided by someone else, which only a named holder makes
    checkable (docs/decisions/0027-separation-of-duties.md)."""
    given = principal or ""
    name = given.strip()  # spaces around a name are dropped; a control character anywhere refused
    if not name:
        raise Refused(
            N_(
                "an operator key must name the person who holds it (e.g. `keys create "
                "operator wang.fang`): case decisions are recorded against that person"
            ),
            field="principal",
        )
    if len(name) > MAX_HOLDER or not given.isprintable():
        raise Refused(
            N_("the holder's name must be 1 to {most} printable characters", most=MAX_HOLDER),
            field="principal",
        )
    return name


def new_key(
    role: Role,
    principal: str | None,
    *,
    name: str = "",
    now: dt.datetime,
    expires_at: dt.datetime | None = None,
) -> NewKey:
    """Create a key for ``role`` bound to ``principal``."""
    bound = check_binding(role, principal)
    key_id = secrets.token_hex(6)
    token = f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"
    return NewKey(key_id, token, hash_token(token), role, bound, name, now, expires_at)


# ----------------------------------------------------------------------------- permissions


def may_submit(p: Principal, item_sources: frozenset[str]) -> bool:
    """An agency submits only items its schemes let it report; an operator may submit any
    (for corrections after an upheld objection)."""
    return p.role == "operator" or (p.role == "agency" and p.principal in item_sources)


def may_ask(p: Principal, measure: Measure) -> bool:
    """A relying party asks only about measures it implements; an operator may ask any."""
    return p.role == "operator" or (p.role == "relying_party" and p.principal in measure.implemented_by)


def may_read_subject(p: Principal, code: str) -> bool:
    """A subject sees only its own record; operators see all."""
    return p.role == "operator" or (p.role == "subject" and p.principal == code)


def may_read_audit(p: Principal) -> bool:
    return p.role in ("auditor", "operator")


def require(allowed: bool, what: str) -> None:
    """Raise :class:`AccessDenied` naming what was refused (and nothing about the data)."""
    if not allowed:
        raise AccessDenied(what)
