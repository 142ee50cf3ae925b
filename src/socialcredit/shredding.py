"""Crypto-shredding: the keys that make a record's personal content erasable (issue 21).

The ledger is append-only and hash-chained, so a record can never be deleted without breaking
the chain. Its personal content (the subject's code, details and evidence) is therefore stored
encrypted under a *data key* per (subject, retention class), and erasing it means destroying that
key: the ciphertext stays, the chain over it keeps verifying, and nobody can read it again.

Why envelope encryption: every data key is kept wrapped (AES-GCM) by a *master key* that lives
outside the database (``SOCIALCREDIT_MASTER_KEY`` or a key file, :func:`master_key`). Rotating the
master key re-wraps the data keys only; no record is re-encrypted.

Why a keyed pseudonym: a lookup or an index needs something stable per subject, but a plain hash
of an identity code is no protection (a code has about 2^30 likely values). The pseudonym is
HMAC-SHA256 under a system key kept, wrapped, in the same key store; without that key it reveals
nothing. The same key makes the claim hash (deduplication) unguessable.

This module is core: it defines :class:`KeyStore`, the interface the key table implements
(``store/datakeys.py`` on SQLite and PostgreSQL; an external KMS could implement it too), and the
:class:`Vault` that uses it. It never imports an adapter.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import os
import secrets
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Protocol, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from socialcredit.errors import Refused, Unavailable
from socialcredit.i18n import N_

_K = TypeVar("_K")
_V = TypeVar("_V")
NONCE = 12
"""AES-GCM's nonce length in bytes; a fresh random nonce is stored before each ciphertext."""
SYSTEM = ""
"""The pseudonym under which the system's own keys (the pseudonym key) are kept."""
PSEUDONYM_CLASS = "pseudonym"
"""The retention class of the pseudonym key: never erased (erasing it would orphan every index)."""
AUDIT_CLASS = "audit"
"""The class of a subject's audit key, which seals its code in the audit entries about it: destroyed
with the subject's last record key (decision 0060); a later key is ``audit.1``, ``audit.2``..."""
ERASED_CODE = "erased"
"""What an audit entry shows for a subject whose audit key was destroyed (decision 0060)."""


class WrappedKey(NamedTuple):
    """A data key as the key store keeps it: wrapped by the master key ``master_id``."""

    pseudonym: str
    klass: str
    key_id: str
    master_id: str
    wrapped: bytes


_new_tuple = tuple.__new__
"""Builds a :class:`WrappedKey` from a tuple of its values in one C call (as ``ledger`` does)."""


@dataclass(frozen=True, slots=True)
class Erasure:
    """One destroyed key: the records under it now read "erased on ``at`` under ``rule``"."""

    pseudonym: str
    klass: str
    key_id: str
    at: dt.datetime
    rule: str


@dataclass(frozen=True, slots=True)
class ErasedRecord:
    """A record of a subject whose key was destroyed, as every reader is shown it: "erased on
    ``at`` under ``rule``", with no content (it is still counted: the chain covers it)."""

    record_id: str
    at: dt.datetime
    rule: str


class KeyReads(Protocol):
    """The reads :meth:`Vault.keys` makes of a key store: a :class:`KeyStore`, or the same table
    read on a connection of the caller's (``store/auditsqlite.py``)."""

    def wrapped_keys(self, wanted: Sequence[tuple[str, str]]) -> Mapping[tuple[str, str], WrappedKey]: ...

    def erasures_of(self, pairs: Sequence[tuple[str, str]]) -> Mapping[tuple[str, str], Erasure]: ...


class KeyStore(Protocol):
    """Where wrapped data keys and the erasure log live, apart from the ledger (a restore of the
    ledger never replaces them). The SQL key table implements it; so could an external KMS."""

    def wrapped_keys(self, wanted: Sequence[tuple[str, str]]) -> dict[tuple[str, str], WrappedKey]:
        """The live keys of these (pseudonym, class) pairs; an absent or destroyed key is left out."""
        ...

    def add_wrapped_keys(self, keys: Sequence[WrappedKey]) -> dict[tuple[str, str], WrappedKey]:
        """Keep these keys where their pair has none yet, and return the key each pair has now
        (another writer's, if it got there first: two ingests never use two keys for one pair)."""
        ...

    def all_wrapped(self) -> Iterator[WrappedKey]:
        """Every live key (for rotation)."""
        ...

    def replace_wrapped(self, keys: Sequence[WrappedKey]) -> None:
        """Store these keys re-wrapped (same pair and id, another master)."""
        ...

    def destroy(self, erasures: Sequence[Erasure]) -> int:
        """Delete each erased key and log the erasure (once per key id), in one step; returns
        how many keys it deleted."""
        ...

    def erasures(self) -> list[Erasure]:
        """The erasure log, oldest first."""
        ...

    def erasures_of(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Erasure]:
        """The erasures of these (pseudonym, class) pairs, if any."""
        ...

    def last_erasure(self) -> tuple[int, dt.datetime] | None:
        """The erasure log's last entry, as (its sequence number, when), or None if it is empty:
        one indexed read, which every server process makes per public page to learn that another
        process erased something (``service/disclosure.py``)."""
        ...


KeyRead = Callable[[Sequence[tuple[str, str]]], Mapping[tuple[str, str], WrappedKey]]
"""A read of live wrapped keys by (pseudonym, class), as :meth:`KeyStore.wrapped_keys` answers."""
ErasureRead = Callable[[Sequence[tuple[str, str]]], Mapping[tuple[str, str], Erasure]]
"""A read of the erasure log by (pseudonym, class), as :meth:`KeyStore.erasures_of` answers."""


class MasterKey(NamedTuple):
    """The key that wraps every data key, and its id (the first hex digits of its SHA-256).

    A master key is configuration, never a request's: one that is malformed (or a key file that
    cannot be read) is :class:`~socialcredit.errors.Unavailable`, the installation's fault (a
    logged 500 on the API), as is a data key wrapped by a master key not given."""

    key_id: str
    secret: bytes

    @classmethod
    def of(cls, secret: bytes) -> MasterKey:
        if len(secret) != 32:
            raise Unavailable(
                N_("a master key is 32 bytes (base64 text of 44 characters)"), field="master_key"
            )
        return cls(hashlib.sha256(secret).hexdigest()[:16], secret)

    @classmethod
    def from_text(cls, text: str) -> MasterKey:
        try:
            secret = base64.b64decode(text.strip(), validate=True)
        except ValueError as e:
            raise Unavailable(N_("the master key is not base64 text"), field="master_key") from e
        return cls.of(secret)


def new_master_text() -> str:
    """A fresh master key as the base64 text a key file or ``SOCIALCREDIT_MASTER_KEY`` holds."""
    return base64.b64encode(secrets.token_bytes(32)).decode()


def master_key(text: str | None, path: Path) -> MasterKey:
    """The master key: ``text`` (from ``SOCIALCREDIT_MASTER_KEY``) if given, else the key file at
    ``path``, made (owner-readable only) on first use. Why a file beside the data by default: the
    embedded installation must work without setup, and the key still stays out of the database and
    so out of every backup; a production installation gives the key from its secret store."""
    if text:
        return MasterKey.from_text(text)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(new_master_text() + "\n")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeError) as e:
        cannot = N_(
            "the master key file {path} cannot be read ({why})", path=str(path), why=e.__class__.__name__
        )
        raise Unavailable(cannot, field="master_key") from e
    return MasterKey.from_text(text)


class Vault:
    """Data keys by (pseudonym, retention class), unwrapped on demand and cached, and the keyed
    pseudonym. Ingest asks for a chunk's keys in one call (:meth:`keys`), so a chunk costs one
    key-store read, and each record one AES-GCM call."""

    def __init__(self, store: KeyStore, master: MasterKey, previous: Iterable[MasterKey] = ()) -> None:
        self.store = store
        self.master = master
        self._masters = {m.key_id: m for m in (*previous, master)}
        self._cache: dict[tuple[str, str], AESGCM] = {}
        self._pseudonym_key: bytes | None = None
        self._keyed: KeyedHash | None = None
        self._master_ciphers: dict[str, AESGCM] = {}

    def masters(self) -> list[MasterKey]:
        """Every master key this vault unwraps with (the current one among them)."""
        return list(self._masters.values())

    # ------------------------------------------------------------------ wrapping

    def _master_cipher(self, master: MasterKey) -> AESGCM:
        cipher = self._master_ciphers.get(master.key_id)
        if cipher is None:
            cipher = self._master_ciphers[master.key_id] = AESGCM(master.secret)
        return cipher

    @staticmethod
    def _aad(pseudonym: str, klass: str, key_id: str) -> bytes:
        """What a wrapped key is bound to: a wrapped key copied onto another subject's row fails."""
        return f"{pseudonym}\x1f{klass}\x1f{key_id}".encode()

    def _wrap(
        self, pseudonym: str, klass: str, key: bytes, key_id: str | None = None, nonce: bytes | None = None
    ) -> WrappedKey:
        kid = key_id or secrets.token_hex(8)
        nonce = nonce or secrets.token_bytes(NONCE)
        sealed = self._master_cipher(self.master).encrypt(nonce, key, self._aad(pseudonym, klass, kid))
        return WrappedKey(pseudonym, klass, kid, self.master.key_id, nonce + sealed)

    def _unwrap(self, w: WrappedKey) -> bytes:
        master = self._masters.get(w.master_id)
        if master is None:
            raise Unavailable(
                N_("data keys are wrapped by master key {key}, which is not configured", key=w.master_id),
                field="master_key",
            )
        try:
            return self._master_cipher(master).decrypt(
                w.wrapped[:NONCE], w.wrapped[NONCE:], self._aad(w.pseudonym, w.klass, w.key_id)
            )
        except InvalidTag as e:
            raise Unavailable(
                N_("data key {key} does not open under its master key", key=w.key_id), field="master_key"
            ) from e

    # ------------------------------------------------------------------ pseudonyms

    def pseudonym_key(self) -> bytes:
        """The system's HMAC key for pseudonyms and claim hashes, made on first use."""
        if self._pseudonym_key is None:
            pair = (SYSTEM, PSEUDONYM_CLASS)
            found = self.store.wrapped_keys([pair]).get(pair)
            if found is None:
                mine = self._wrap(SYSTEM, PSEUDONYM_CLASS, secrets.token_bytes(32))
                found = self.store.add_wrapped_keys([mine])[pair]
            self._pseudonym_key = self._unwrap(found)
        return self._pseudonym_key

    def keyed(self) -> KeyedHash:
        """HMAC-SHA256 under the pseudonym key, its pads derived once (:class:`KeyedHash`)."""
        if self._keyed is None:
            self._keyed = KeyedHash(self.pseudonym_key())
        return self._keyed

    def pseudonym(self, code: str) -> str:
        """The subject's keyed pseudonym (32 hex digits: 128 bits, no collision in a population)."""
        return self.keyed().hexdigest(code.encode())[:32]

    def keyed_hash(self, text: str) -> str:
        """A hash of guessable text that only the key holder can compute (a record's claim)."""
        return self.keyed().hexdigest(text.encode())

    # ------------------------------------------------------------------ data keys

    def keys(
        self,
        pairs: Iterable[tuple[str, str]],
        *,
        create: bool = False,
        read: KeyRead | None = None,
        source: KeyReads | None = None,
        pending: list[tuple[WrappedKey, AESGCM]] | None = None,
    ) -> dict[tuple[str, str], AESGCM]:
        """The ciphers of these (pseudonym, class) pairs, in one key-store read for the pairs not
        cached. With ``create`` a pair with no key gets a new one; without, a pair whose key was
        destroyed (or never made) is left out: its records are erased.

        ``read``, if given, reads the key store in its place, through a reader's own transaction
        (a subject's view reads its keys in the snapshot it reads its records in, decision 0076),
        and is asked about every pair, cached or not: the cache then only saves unwrapping, and a
        key another process destroyed is left out at once, as the snapshot no longer holds it. It
        may give more pairs than asked (a subject's every key), which are cached, not returned.

        ``source``, if given, is read (keys and erasures) in place of the vault's key store, for
        the pairs not cached. ``pending``, with ``create``, takes the keys made here instead of
        the key store: the caller stores them in its own transaction (the audit entries they
        seal, decision 0100), and only then hands them to :meth:`keep`. Until then they are not
        cached: another thread must not seal with a key that may never be stored."""
        out: dict[tuple[str, str], AESGCM] = {}
        missing: list[tuple[str, str]] = []
        asked = dict.fromkeys(pairs)
        for pair in asked:
            cipher = None if read is not None else self._cache.get(pair)
            if cipher is None:
                missing.append(pair)
            else:
                out[pair] = cipher
        if not missing:
            return out
        keys = source or self.store
        found = (read or keys.wrapped_keys)(missing)
        made: dict[str, bytes] = {}
        if create:
            fresh = []
            # a destroyed key is never made again: that subject's records of that class are
            # erased, and a new key would pass for the old one (the caller refuses their records)
            unkeyed = [pair for pair in missing if pair not in found]
            gone = keys.erasures_of(unkeyed) if unkeyed else {}
            wanted = [pair for pair in unkeyed if pair not in gone]
            # the randomness of every new key in one call: a key, its id and its wrapping nonce
            pool = os.urandom(52 * len(wanted))
            wrap, master_id = self._master_cipher(self.master).encrypt, self.master.key_id
            for o, (p, k) in zip(range(0, len(pool), 52), wanted, strict=True):
                # sliced from the pool directly, not from a copy of the key's 52 bytes (0092)
                key, kid, nonce = pool[o : o + 32], pool[o + 32 : o + 40].hex(), pool[o + 40 : o + 52]
                # Vault._wrap, inlined: a batch of new subjects makes a key every few records
                sealed = wrap(nonce, key, f"{p}\x1f{k}\x1f{kid}".encode())
                made[kid] = key
                # tuple.__new__: the named tuple's own __new__ is a Python call per key (decision 0081)
                fresh.append(_new_tuple(WrappedKey, (p, k, kid, master_id, nonce + sealed)))
            if fresh and pending is not None:
                for w in fresh:
                    cipher = AESGCM(made[w.key_id])
                    pending.append((w, cipher))
                    out[(w.pseudonym, w.klass)] = cipher
                fresh = []
            if fresh:
                found = {**found, **self.store.add_wrapped_keys(fresh)}
        cache = self._cache
        for pair, w in found.items():
            # a key made here is used as made (no unwrapping); one another writer made first is
            # unwrapped like any stored key
            cipher = cache.get(pair) if read is not None else None  # the same key (never made twice)
            if cipher is None:
                own = made.get(w.key_id)
                cipher = AESGCM(own if own is not None else self._unwrap(w))
                if len(cache) < CACHED:  # remember(), its common case inlined (a key every 3 records)
                    cache[pair] = cipher
                else:
                    remember(cache, pair, cipher)
            if pair in asked:
                out[pair] = cipher
        return out

    def cached(self, pair: tuple[str, str]) -> dict[tuple[str, str], AESGCM]:
        """``{pair: cipher}`` if this pair's key is cached here (made or read), else empty."""
        cipher = self._cache.get(pair)
        return {} if cipher is None else {pair: cipher}

    def keep(self, made: Iterable[tuple[WrappedKey, AESGCM]]) -> None:
        """Cache keys made for ``pending`` (:meth:`keys`) once their transaction has stored them."""
        for w, cipher in made:
            remember(self._cache, (w.pseudonym, w.klass), cipher)

    def forget(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Drop these keys from the cache (after they were destroyed)."""
        for pair in pairs:
            self._cache.pop(pair, None)

    def erase(self, erasures: Sequence[Erasure]) -> int:
        """Destroy the keys of these erasures and log them; returns how many keys were destroyed."""
        done = self.store.destroy(erasures)
        self.forget((e.pseudonym, e.klass) for e in erasures)
        return done

    def erased(self) -> Mapping[tuple[str, str], Erasure]:
        """The erasure log by (pseudonym, class)."""
        return {(e.pseudonym, e.klass): e for e in self.store.erasures()}

    def rotate(self, new: MasterKey) -> int:
        """Re-wrap every data key under ``new`` (records are not touched); returns how many.
        The old master must still be configured (it unwraps); afterwards it can be retired."""
        rewrapped = [
            WrappedKey(w.pseudonym, w.klass, w.key_id, new.key_id, b"")
            for w in self.store.all_wrapped()
            if w.master_id != new.key_id
        ]
        old = list(self.store.wrapped_keys([(w.pseudonym, w.klass) for w in rewrapped]).values())
        self._masters[new.key_id] = new
        previous, self.master = self.master, new
        try:
            done = [self._wrap(w.pseudonym, w.klass, self._unwrap(w), w.key_id) for w in old]
        except BaseException:  # an old master not configured (Unavailable), or anything else
            self.master = previous
            raise
        self.store.replace_wrapped(done)
        return len(done)


class KeyedHash:
    """HMAC-SHA256 (RFC 2104) under one key, with the key's inner and outer hash states computed
    once: the very digest of ``hmac.new(key, msg, sha256)`` (tested), in 0.65 µs a call instead of
    1.6 µs, because an HMAC call derives both padded key blocks again every time. Ingest computes
    one per record (the keyed claim), so this was a tenth of encryption's cost (decision 0062).
    It holds nothing the :class:`Vault` does not already hold (its pseudonym key) for as long."""

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        block = (hashlib.sha256(key).digest() if len(key) > 64 else key).ljust(64, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def digest(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def hexdigest(self, message: bytes) -> str:
        return self.digest(message).hex()

    def prefixed(self, prefix: bytes) -> KeyedHash:
        """This keyed hash with ``prefix`` already taken in: its digest of ``m`` is this one's of
        ``prefix + m`` (tested), the prefix hashed once instead of once per message, and no
        prefixed text built per message. Ingest keys every record id so (``"record"`` US the
        unkeyed id, decision 0080); the stored ids are unchanged (decision 0092)."""
        inner = self._inner.copy()
        inner.update(prefix)
        made = KeyedHash.__new__(KeyedHash)
        made._inner, made._outer = inner, self._outer
        return made

    def hexdigests(self, messages: Iterable[str]) -> list[str]:
        """:meth:`hexdigest` of each text (UTF-8) in one loop, the states' ``copy`` methods bound
        once: what ingest keys a chunk's claim hashes with (and any per-record keyed id), a
        Python call and six attribute lookups less per message than calling
        :meth:`hexdigest` (decision 0081)."""
        inner_copy, outer_copy = self._inner.copy, self._outer.copy
        out: list[str] = []
        keep = out.append
        for text in messages:
            inner = inner_copy()
            inner.update(text.encode())
            outer = outer_copy()
            outer.update(inner.digest())
            keep(outer.hexdigest())
        return out


CACHED = 200_000
"""Entries a process keeps of each cache (keys, pseudonyms, codes): a few tens of megabytes, and
a national population's keys are never all held (the oldest entry goes first)."""


def remember(cache: dict[_K, _V], key: _K, value: _V) -> None:
    """Put ``key`` in ``cache``, dropping its oldest entry when it holds :data:`CACHED`."""
    if len(cache) >= CACHED and key not in cache:
        # two threads may share a cache (the ledger writer's, decision 0104): another's insert
        # between ``iter`` and ``next`` only skips this eviction (one entry over the bound)
        with contextlib.suppress(RuntimeError, StopIteration):
            cache.pop(next(iter(cache)), None)
    cache[key] = value


def seal(cipher: AESGCM, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt with a fresh nonce, stored before the ciphertext."""
    nonce = secrets.token_bytes(NONCE)
    return nonce + cipher.encrypt(nonce, plaintext, aad)


def unseal(cipher: AESGCM, blob: bytes, aad: bytes) -> bytes:
    """Decrypt what :func:`seal` made; a ciphertext altered or moved to another record fails."""
    try:
        return cipher.decrypt(blob[:NONCE], blob[NONCE:], aad)
    except InvalidTag as e:
        raise Refused(N_("a record's sealed content does not open under its key"), field="sealed") from e
