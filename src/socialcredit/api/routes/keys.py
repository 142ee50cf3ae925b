"""API keys: created, listed and revoked by operators; stored hashed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter

from socialcredit import access
from socialcredit.api.deps import SystemDep, role
from socialcredit.api.keymodels import KeyIn, KeysOut, NewKeyOut
from socialcredit.i18n import N_
from socialcredit.service import NotFound

router = APIRouter(prefix="/keys", tags=["keys"])
Operator = Annotated[access.Principal, role("operator", to=N_("manage keys: only operators do"))]


@router.post("", operation_id="create_key", response_model=NewKeyOut, status_code=201)
def create_key(
    body: KeyIn,
    key: Operator,
    system: SystemDep,
) -> NewKeyOut:
    new = system.create_key(body.role, body.principal, name=body.name, expires_at=body.expires_at, by=key)
    return NewKeyOut.of_new(new)


@router.get("", operation_id="list_keys", response_model=KeysOut)
def list_keys(key: Operator, system: SystemDep) -> KeysOut:
    return KeysOut.of(system.store.list_keys())


@router.delete("/{key_id}", operation_id="revoke_key", response_model=KeysOut)
def revoke_key(
    key_id: str,
    key: Operator,
    system: SystemDep,
) -> KeysOut:
    system.keys.refuse_last_operator_key(key_id, "revoke", by=key)
    if not system.revoke_key(key_id, by=key):
        raise NotFound(N_("no active key {key_id!r}", key_id=key_id), field="key_id")
    return list_keys(key, system)


@router.post("/{key_id}/rotate", operation_id="rotate_key", response_model=NewKeyOut, status_code=201)
def rotate_key(
    key_id: str,
    key: Operator,
    system: SystemDep,
) -> NewKeyOut:
    """A new token for the same role and principal; the old key is revoked at once."""
    system.keys.refuse_last_operator_key(key_id, "rotate", by=key)
    new = system.rotate_key(key_id, by=key)
    if new is None:
        raise NotFound(N_("no active key {key_id!r}", key_id=key_id), field="key_id")
    return NewKeyOut.of_new(new)
