"""API keys: made, verified, revoked and rotated, with the short trust of a verified token that
keeps the decision hot path off the store (:meth:`Keys.cached_principal`)."""

from __future__ import annotations

import datetime as dt
import time

from socialcredit import access, ledger
from socialcredit.errors import Conflict, Refused
from socialcredit.errors import Unauthenticated as Unauthenticated
from socialcredit.i18n import N_
from socialcredit.service.context import Context, operator
from socialcredit.store import StoredKey

KEY_TRUST_SECONDS = 1.0


class Keys:
    """The keys of one installation and the tokens verified lately."""

    def __init__(self, context: Context) -> None:
        self.context = context
        # Verified tokens -> (principal, trusted until (monotonic), expires_at); see authenticate.
        self._principals: dict[str, tuple[access.Principal, float, dt.datetime | None]] = {}

    def create_key(
        self,
        role: access.Role,
        principal: str | None,
        *,
        name: str = "",
        expires_at: dt.datetime | None = None,
        by: access.Principal | None = None,
    ) -> access.NewKey:
        """A new key, audited (``key-create``) as made ``by`` that key's holder (default: the
        local operator); the entry names the key, never its token."""
        key = access.new_key(role, principal, name=name, now=self.context.clock(), expires_at=expires_at)
        self.context.store.add_key(
            StoredKey(
                key.key_id,
                key.token_hash,
                key.role,
                key.principal,
                key.name,
                key.created_at,
                key.expires_at,
                None,
            )
        )
        self._audit(by, "key-create", key.key_id, key.role, key.principal, expires_at=key.expires_at)
        return key

    def _audit(
        self,
        by: access.Principal | None,
        action: str,
        key_id: str,
        role: str,
        principal: str | None,
        **detail: object,
    ) -> None:
        """An administrative act on a key in the audit log: the key's id, role and principal (a
        subject key's code in the ``subject`` column, masked for all but operators when the log
        is read), and never a token or its hash."""
        subject = principal if role == "subject" else None
        shown = None if role == "subject" else principal
        extra = {k: (ledger.iso_dt(v) if isinstance(v, dt.datetime) else v) for k, v in detail.items()}
        self.context.audit(
            by or operator(),
            action,
            subject=subject,
            detail={"key_id": key_id, "role": role, "principal": shown, **extra},
        )

    def refuse_last_operator_key(self, key_id: str, what: str, by: access.Principal | None = None) -> None:
        """Refuse (409 on ``key_id``) to revoke or rotate the only active operator key over the
        API or the portal: revoked, no one could manage keys there again; rotated, the
        installation hangs on one reply carrying the new token, and lost, it is locked out the
        same way. ``what`` is ``"revoke"`` or ``"rotate"``; when ``by`` holds that very key the
        refusal says so (an operator locking itself out is how the issue met it). Revoking one's
        own key while another operator key is active is allowed: someone can still manage keys.
        The command line (the installation's owner) may still do both."""
        now = self.context.clock()
        active = [
            k
            for k in self.context.store.list_keys()
            if k.role == "operator" and k.revoked_at is None and (k.expires_at is None or k.expires_at > now)
        ]
        if [k.key_id for k in active] != [key_id]:
            return
        own = by is not None and by.key_id == key_id
        if what == "rotate":
            why = (
                N_(
                    "key {key_id} is the key you are using and the last active operator key; create "
                    "another operator key before you rotate it",
                    key_id=key_id,
                )
                if own
                else N_(
                    "key {key_id} is the last active operator key; create another operator key "
                    "before you rotate it",
                    key_id=key_id,
                )
            )
        else:
            why = (
                N_(
                    "key {key_id} is the key you are using and the last active operator key; create "
                    "another operator key before you revoke it",
                    key_id=key_id,
                )
                if own
                else N_(
                    "key {key_id} is the last active operator key; create another operator key "
                    "before you revoke it",
                    key_id=key_id,
                )
            )
        raise Conflict(why, field="key_id")

    def authenticate(self, token: str | None) -> access.Principal:
        """The principal of a presented token, or :class:`Unauthenticated`, asking the store
        (so a revocation made anywhere counts at once). The verified token is remembered for
        :meth:`cached_principal`, the hot path's cheaper check."""
        if not token:
            raise Unauthenticated(N_("no API key given"))
        key_id = access.split_token(token)
        stored = self.context.store.key(key_id) if key_id else None
        if stored is None or not access.tokens_match(token, stored.token_hash):
            raise Unauthenticated(N_("unknown API key"))
        now = self.context.clock()
        if stored.revoked_at is not None:
            raise Unauthenticated(N_("this API key was revoked"))
        if stored.expires_at is not None and stored.expires_at <= now:
            raise Unauthenticated(N_("this API key has expired"))
        role: access.Role = stored.role  # type: ignore[assignment]
        principal = access.Principal(stored.key_id, role, stored.principal, stored.name)
        if len(self._principals) >= 10_000:
            self._principals.clear()
        self._principals[token] = (principal, time.monotonic() + KEY_TRUST_SECONDS, stored.expires_at)
        return principal

    def cached_principal(self, token: str | None) -> access.Principal | None:
        """The principal of a token :meth:`authenticate` verified less than ``KEY_TRUST_SECONDS``
        (one second) ago, without touching the store, so an event loop may call it; ``None``
        when :meth:`authenticate` must be asked. A revocation through this system
        (:meth:`revoke_key`, :meth:`rotate_key`) counts at once, one made by another process
        within that second; an expiry is checked on every call."""
        hit = self._principals.get(token) if token else None
        if hit is None or hit[1] < time.monotonic():
            return None
        principal, _, expires_at = hit
        if expires_at is not None and expires_at <= self.context.clock():
            raise Unauthenticated(N_("this API key has expired"))
        return principal

    def revoke_key(self, key_id: str, *, by: access.Principal | None = None) -> bool:
        """Revoke an active key (False if there is none), trusted by no cache from now on;
        audited (``key-revoke``) as done ``by`` that key's holder (default: the local operator)."""
        stored = self.context.store.key(key_id)
        try:
            revoked = self.context.store.revoke_key(key_id, self.context.clock())
        finally:
            self.forget_key(key_id)
        if revoked and stored is not None:
            self._audit(by, "key-revoke", key_id, stored.role, stored.principal)
        return revoked

    def rotate_key(
        self,
        key_id: str,
        *,
        expires_at: dt.datetime | None | bool = True,
        by: access.Principal | None = None,
    ) -> access.NewKey | None:
        """A new token for an active key's role and principal, the old one revoked at once
        (audited, ``key-rotate``, naming the successor);
        ``None`` if there is no active key ``key_id``. ``expires_at=True`` keeps the old expiry.
        An expiry that has passed is refused here, naming the field (a kept one as a
        :class:`Conflict` on ``key_id``), before the store would refuse it in its transaction."""
        now = self.context.clock()
        if isinstance(expires_at, dt.datetime) and expires_at <= now:
            raise Refused(N_("the new key's expiry must be in the future"), field="expires_at")
        store = self.context.store
        stored = store.key(key_id) if expires_at is True else None
        if stored and stored.revoked_at is None and stored.expires_at and stored.expires_at <= now:
            why = N_("key {key_id} has expired; give the new key an expiry in the future", key_id=key_id)
            raise Conflict(why, field="key_id")
        try:
            new = store.rotate_key(key_id, now, expires_at=expires_at)
        finally:
            self.forget_key(key_id)
        if new is not None:
            self._audit(
                by,
                "key-rotate",
                key_id,
                new.role,
                new.principal,
                successor=new.key_id,
                expires_at=new.expires_at,
            )
        return new

    def forget_key(self, key_id: str) -> None:
        """Stop trusting remembered tokens of ``key_id`` (call after revoking or rotating it)."""
        for token, (p, _, _) in list(self._principals.items()):
            if p.key_id == key_id:
                self._principals.pop(token, None)
