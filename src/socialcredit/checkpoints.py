"""Signed checkpoints of the hash chains, so that an outside party can later prove that the
history was not rewritten.

Why: ``verify`` catches an edit made behind the application's back, but not an operator (or an
intruder with the database) who rewrites a chain *and recomputes every hash after the edit*: the
rewritten chain is internally consistent. A checkpoint fixes, at a moment, each chain's length
and last hash, signed with an Ed25519 key kept in ``$SOCIALCREDIT_HOME``. Anyone holding a
checkpoint (a court, a journalist, the subject's lawyer) can later ask: does the current chain
still have, at that position, that hash? If any entry up to the checkpoint was altered, removed
or reordered, even with every hash recomputed, the answer is no. Publishing the public key (or
its fingerprint) lets them check the signature without trusting the server.

A checkpoint is a small JSON document::

    {"format": "socialcredit-checkpoint/1", "created_at": "...Z",
     "chains": {"records": {"count": N, "head": "<sha256>"}, "audit": {...}, "cases": {...}},
     "public_key": "<base64 raw Ed25519 key>", "key_fingerprint": "<sha256 of it, 16 hex>",
     "signature": "<base64 Ed25519 signature over the canonical JSON of everything else>"}
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import Table, select

from socialcredit import ledger
from socialcredit.errors import Refused
from socialcredit.store import Store
from socialcredit.store import tables as t

FORMAT = "socialcredit-checkpoint/1"
KEY_FILE = "checkpoint-ed25519.pem"
# every hash chain the store keeps, and the table holding its entries (seq, chain_hash)
CHAIN_TABLES: dict[str, Table] = {"records": t.records, "audit": t.audit, "cases": t.case_events}


class CheckpointError(Refused):
    """A checkpoint file that cannot be read or whose signature does not hold."""


@dataclass(frozen=True)
class Outcome:
    """What verifying a checkpoint against the current store found; ``ok`` when nothing."""

    created_at: str
    key_fingerprint: str
    chains: dict[str, dict[str, Any]]
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def fingerprint(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def load_or_create_key(home: Path) -> Ed25519PrivateKey:
    """The installation's signing key, created on first use, readable by its owner only."""
    path = home / KEY_FILE
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise CheckpointError(f"{path}: not an Ed25519 private key")
        return key
    home.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return key


def public_pem(key: Ed25519PrivateKey) -> str:
    """The public half, to publish so that others can check checkpoints without the server."""
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def heads(store: Store) -> dict[str, dict[str, Any]]:
    """Every chain's (count, head) as the store holds it now."""
    return {chain: dict(zip(("count", "head"), store.head(chain), strict=True)) for chain in CHAIN_TABLES}


def make(store: Store, key: Ed25519PrivateKey, now: dt.datetime) -> dict[str, Any]:
    """A signed checkpoint of every chain's head now."""
    payload: dict[str, Any] = {
        "format": FORMAT,
        "created_at": now.replace(microsecond=0).isoformat() + "Z",
        "chains": heads(store),
    }
    return sign(payload, key)


def sign(payload: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """``payload`` with the public key, its fingerprint and the signature over the canonical JSON
    of the rest added (a checkpoint, or the epoch checkpoint of ``store/epochs.py``)."""
    signed: dict[str, Any] = {
        **payload,
        "public_key": base64.b64encode(
            key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        ).decode(),
        "key_fingerprint": fingerprint(key.public_key()),
    }
    signed["signature"] = base64.b64encode(key.sign(_canonical(signed))).decode()
    return signed


def read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{path}: not a readable checkpoint ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a {FORMAT} file")
    return data


def check_signature(data: dict[str, Any], trusted: Ed25519PublicKey | None = None) -> Ed25519PublicKey:
    """Check the signature, against ``trusted`` when the verifier pins a key (as an outside party
    should), else against the key the checkpoint names. Returns the key that signed it."""
    try:
        chains = data["chains"]
        for name, c in chains.items():
            if not isinstance(c.get("count"), int) or not isinstance(c.get("head"), str):
                raise CheckpointError(f"chain {name}: count and head are missing")
    except (KeyError, TypeError, AttributeError) as exc:
        if isinstance(exc, CheckpointError):
            raise
        raise CheckpointError(f"malformed checkpoint ({exc.__class__.__name__}: {exc})") from None
    return check_signed(data, trusted)


def check_signed(data: dict[str, Any], trusted: Ed25519PublicKey | None = None) -> Ed25519PublicKey:
    """Check the signature of anything :func:`sign` signed (a checkpoint, an epoch checkpoint)."""
    try:
        given = Ed25519PublicKey.from_public_bytes(base64.b64decode(data["public_key"], validate=True))
        signature = base64.b64decode(data["signature"], validate=True)
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise CheckpointError(f"malformed checkpoint ({exc.__class__.__name__}: {exc})") from None
    key = trusted or given
    if trusted is not None and fingerprint(trusted) != fingerprint(given):
        raise CheckpointError(
            f"signed by key {fingerprint(given)}, not by the trusted key {fingerprint(trusted)}"
        )
    payload = {k: v for k, v in data.items() if k != "signature"}
    try:
        key.verify(signature, _canonical(payload))
    except InvalidSignature:
        raise CheckpointError("the signature does not match: the checkpoint was altered") from None
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"{path}: not a PEM public key ({exc})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointError(f"{path}: not an Ed25519 public key")
    return key


def hash_at(store: Store, chain: str, seq: int) -> str | None:
    """The stored chain hash of entry ``seq`` of ``chain`` (None when there is none)."""
    if seq == 0:
        return ledger.GENESIS
    table = CHAIN_TABLES[chain]
    with store.engine.connect() as conn:
        found = conn.execute(select(table.c.chain_hash).where(table.c.seq == seq)).scalar_one_or_none()
    return None if found is None else str(found)


def verify(store: Store, data: dict[str, Any], trusted: Ed25519PublicKey | None = None) -> Outcome:
    """Prove that the current chains still extend the checkpoint: the signature holds, each chain
    is at least as long, the entry at the checkpoint's count still has the checkpoint's hash, and
    the whole current chain verifies (so every entry before it is unchanged too)."""
    key = check_signature(data, trusted)
    problems: list[str] = []
    now = heads(store)
    for chain, then in sorted(data["chains"].items()):
        if chain not in CHAIN_TABLES:
            problems.append(f"{chain}: this installation has no such chain")
            continue
        count, head = then["count"], then["head"]
        if now[chain]["count"] < count:
            problems.append(
                f"{chain}: the checkpoint holds {count} entries, the chain now only {now[chain]['count']}"
            )
            continue
        stored = hash_at(store, chain, count)
        if stored != head:
            problems.append(
                f"{chain}: entry {count} "
                + ("is missing" if stored is None else "no longer has the checkpointed hash")
                + ": the history up to the checkpoint was rewritten"
            )
        for p in getattr(store, f"verify_{chain}")():
            problems.append(f"{chain}: {p}")
    return Outcome(data["created_at"], fingerprint(key), now, problems)
