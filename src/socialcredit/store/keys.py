"""The API keys' concern in the store: only each key's hash is kept, never its token.

Why rotation is here and not in the service: the old key is revoked and its successor inserted
in one transaction, with the old key's row locked (``Dialect.for_update``), so a leaked token
is dead the moment its successor exists and two rotations of one key cannot both succeed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from sqlalchemy import select, update

from socialcredit import access
from socialcredit.store import tables as t
from socialcredit.store.base import StoreBase


@dataclass(frozen=True, slots=True)
class StoredKey:
    """An API key as stored: its hash, never the token."""

    key_id: str
    token_hash: str
    role: str
    principal: str | None
    name: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None


class KeyStore(StoreBase):
    """Add, read, list, revoke and rotate keys."""

    def add_key(self, key: StoredKey) -> None:
        with self.engine.begin() as conn:
            conn.execute(t.api_keys.insert().values(**asdict(key)))

    def key(self, key_id: str) -> StoredKey | None:
        with self.reader.connect() as conn:
            m = conn.execute(select(t.api_keys).where(t.api_keys.c.key_id == key_id)).mappings().first()
        return StoredKey(**m) if m else None

    def list_keys(self) -> list[StoredKey]:
        with self.reader.connect() as conn:
            return [
                StoredKey(**m)
                for m in conn.execute(select(t.api_keys).order_by(t.api_keys.c.created_at)).mappings()
            ]

    def revoke_key(self, key_id: str, at: dt.datetime) -> bool:
        with self.engine.begin() as conn:
            res = conn.execute(
                update(t.api_keys)
                .where(t.api_keys.c.key_id == key_id, t.api_keys.c.revoked_at.is_(None))
                .values(revoked_at=at)
            )
            return bool(res.rowcount)

    def rotate_key(
        self, key_id: str, at: dt.datetime, *, expires_at: dt.datetime | None | bool = True
    ) -> access.NewKey | None:
        """Replace an active key by a new token for the same role and principal, revoking the old
        one in the same transaction (so a leaked token is dead the moment its successor exists).
        ``expires_at=True`` keeps the old key's expiry; a key already expired needs a new one.
        Returns None when there is no active key ``key_id``."""
        with self.engine.begin() as conn:
            q = select(t.api_keys).where(t.api_keys.c.key_id == key_id, t.api_keys.c.revoked_at.is_(None))
            m = conn.execute(self.dialect.for_update(q)).mappings().first()
            if m is None:
                return None
            old = StoredKey(**m)
            expiry = old.expires_at if expires_at is True else expires_at or None
            if expiry is not None and expiry <= at:
                raise ValueError(f"key {key_id} has expired; give the new key an expiry in the future")
            role: access.Role = old.role  # type: ignore[assignment]
            # an operator key made before holders were named stands for itself (its id): its
            # successor is named after it, so the decisions of both are one principal's
            principal = access.holder_of(old.key_id, old.principal) if role == "operator" else old.principal
            new = access.new_key(role, principal, name=old.name, now=at, expires_at=expiry)
            conn.execute(update(t.api_keys).where(t.api_keys.c.key_id == key_id).values(revoked_at=at))
            conn.execute(
                t.api_keys.insert().values(
                    **asdict(
                        StoredKey(
                            new.key_id, new.token_hash, new.role, new.principal, new.name, at, expiry, None
                        )
                    )
                )
            )
            return new
