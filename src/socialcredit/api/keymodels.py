"""The models of API keys (``POST /keys``, ``GET /keys``; ``socialcredit keys --json``): what a
key's ``principal`` must be for its ``role`` is stated in the schema, so a client generator honours
it. Apart from :mod:`socialcredit.api.models` to keep each module one resource family."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from socialcredit import access
from socialcredit.api.inputs import CODE_SCHEMA, NO_NUL, RequestIn
from socialcredit.api.models import Listing, UtcDatetime, iso_only
from socialcredit.store import StoredKey

# an operator key's holder: a name, not all spaces, without control characters (access.holder_name)
# (The server's rule is ``str.isprintable``, which no short pattern states: the pattern says what
# it can, the format ``holder-name`` names the rest, for a client generator to honour.)
_CONTROL = "\\u0000-\\u001f\\u007f-\\u009f"
HOLDER_PATTERN = f"^[^{_CONTROL}]*[^\\s{_CONTROL}][^{_CONTROL}]*$"
HOLDER_FORMAT = "holder-name"


def _bound(roles: list[str], principal: dict[str, Any]) -> dict[str, Any]:
    """A key of one of ``roles`` must be bound to a ``principal`` of this schema."""
    return {
        "if": {"properties": {"role": {"enum": roles}}, "required": ["role"]},
        "then": {"required": ["principal"], "properties": {"principal": {"type": "string", **principal}}},
    }


class KeyIn(RequestIn):
    """A key to create. What its ``principal`` must be depends on its ``role`` (access.check_binding),
    and the schema says so: a subject's identity code, an agency's or implementer's id, an
    operator's holder."""

    model_config = ConfigDict(extra="forbid")
    cross_field_rules: ClassVar[dict[str, Any]] = {
        "allOf": [
            _bound(["subject"], CODE_SCHEMA),
            _bound(["agency", "relying_party"], {"minLength": 1, "pattern": NO_NUL}),
            _bound(["operator"], {"pattern": HOLDER_PATTERN, "format": HOLDER_FORMAT, "maxLength": 64}),
        ]
    }
    role: Literal["operator", "agency", "relying_party", "subject", "auditor"]
    principal: str | None = Field(
        None,
        max_length=64,
        description="agency id, implementer name, identity code, or for an operator (required) the "
        "person who holds the key: all keys of one person share it, and case decisions name it",
    )
    name: str = Field("", max_length=200)
    expires_at: Annotated[UtcDatetime | None, BeforeValidator(iso_only)] = None

    @field_validator("expires_at")
    @classmethod
    def _naive_utc(cls, value: dt.datetime | None) -> dt.datetime | None:
        """Stored times are naive UTC; an offset given by the client is honoured, then dropped."""
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value


class KeyOut(BaseModel):
    key_id: str
    role: str
    principal: str | None
    name: str
    created_at: UtcDatetime
    expires_at: UtcDatetime | None
    revoked_at: UtcDatetime | None

    @classmethod
    def of(cls, k: StoredKey) -> KeyOut:
        return cls(
            key_id=k.key_id,
            role=k.role,
            principal=k.principal,
            name=k.name,
            created_at=k.created_at,
            expires_at=k.expires_at,
            revoked_at=k.revoked_at,
        )


class NewKeyOut(KeyOut):
    ok: Literal[True] = True
    token: str = Field(description="Shown once; only its hash is stored")

    @classmethod
    def of_new(cls, k: access.NewKey) -> NewKeyOut:
        return cls(
            key_id=k.key_id,
            role=k.role,
            principal=k.principal,
            name=k.name,
            created_at=k.created_at,
            expires_at=k.expires_at,
            revoked_at=None,
            token=k.token,
        )


class KeysOut(Listing[KeyOut]):
    @classmethod
    def of(cls, keys: Iterable[StoredKey]) -> KeysOut:
        return cls.of_rows(KeyOut.of(k) for k in keys)
