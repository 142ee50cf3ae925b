"""API keys: created, listed and revoked by operators; stored hashed."""

from __future__ import annotations

from fastapi import APIRouter

from socialcredit import access
from socialcredit.api.deps import CurrentKey, SystemDep
from socialcredit.api.models import KeyIn, KeysOut, NewKeyOut
from socialcredit.service import NotFound

router = APIRouter(prefix="/keys", tags=["keys"])


@router.post("", operation_id="create_key", response_model=NewKeyOut, status_code=201)
def create_key(body: KeyIn, key: CurrentKey, system: SystemDep) -> NewKeyOut:
    access.require(key.role == "operator", "create keys")
    new = system.create_key(body.role, body.principal, name=body.name, expires_at=body.expires_at)
    return NewKeyOut.of_new(new)


@router.get("", operation_id="list_keys", response_model=KeysOut)
def list_keys(key: CurrentKey, system: SystemDep) -> KeysOut:
    access.require(key.role == "operator", "list keys")
    return KeysOut.of(system.store.list_keys())


@router.delete("/{key_id}", operation_id="revoke_key", response_model=KeysOut)
def revoke_key(key_id: str, key: CurrentKey, system: SystemDep) -> KeysOut:
    access.require(key.role == "operator", "revoke keys")
    if not system.revoke_key(key_id):
        raise NotFound(f"no active key {key_id!r}", field="key_id")
    return list_keys(key, system)


@router.post("/{key_id}/rotate", operation_id="rotate_key", response_model=NewKeyOut, status_code=201)
def rotate_key(key_id: str, key: CurrentKey, system: SystemDep) -> NewKeyOut:
    """A new token for the same role and principal; the old key is revoked at once."""
    access.require(key.role == "operator", "rotate keys")
    new = system.rotate_key(key_id)
    if new is None:
        raise NotFound(f"no active key {key_id!r}", field="key_id")
    return NewKeyOut.of_new(new)
