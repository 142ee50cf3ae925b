"""Checking the log without its database: an inclusion proof against the log's published key,
and a witness's step from the last checkpoint it saw to the newest (docs/transparency.md).

Why in the core: ``socialcredit proof verify`` and ``socialcredit witness`` run on someone
else's machine, with nothing of the server but what it published; this is all they trust.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from socialcredit.i18n import N_
from socialcredit.tlog import merkle, note

FIELDS = ("leaf_index", "tree_size", "entry", "leaf_hash", "hashes", "checkpoint")


@dataclass(frozen=True)
class Verified:
    """What a proof proved: the entry (its exact leaf bytes) is leaf ``leaf_index`` of the log
    ``origin`` of ``tree_size`` entries, as the key ``key_name`` (``key_id``) signed it."""

    origin: str
    leaf_index: int
    tree_size: int
    key_name: str
    key_id: str
    entry: bytes


def _hex32(value: Any, name: str) -> bytes:
    try:
        raw = bytes.fromhex(value) if isinstance(value, str) else b""
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise merkle.ProofError(N_("{field}: not a 32-byte hash in hex", field=name))
    return raw


def verify_proof(data: Mapping[str, Any], public: Ed25519PublicKey) -> Verified:
    """Check an inclusion proof (``GET /records/{id}/proof``'s JSON) against the log's key:
    the checkpoint is signed by it, the proof is of that checkpoint's tree, the leaf hash is the
    entry's, and the path leads from it to the checkpoint's root. Raises naming what fails."""
    missing = [f for f in FIELDS if f not in data]
    if missing:
        raise merkle.ProofError(N_("{field}: missing from the proof", field=missing[0]))
    index, size = data["leaf_index"], data["tree_size"]
    if not isinstance(index, int) or not isinstance(size, int) or isinstance(index, bool):
        raise merkle.ProofError(N_("leaf_index, tree_size: not whole numbers"))
    try:
        entry = base64.b64decode(str(data["entry"]), validate=True)
    except binascii.Error:
        raise merkle.ProofError(N_("entry: not base64")) from None
    leaf = _hex32(data["leaf_hash"], "leaf_hash")
    if merkle.leaf_hash(entry) != leaf:
        raise merkle.ProofError(N_("leaf_hash: not SHA-256(0x00 || entry)"))
    hashes = data["hashes"]
    if not isinstance(hashes, list):
        raise merkle.ProofError(N_("hashes: not a list"))
    path = [_hex32(h, "hashes") for h in hashes]
    name, cp = note.signed_by(str(data["checkpoint"]), public)
    if cp.size != size:
        raise merkle.ProofError(
            N_("tree_size: {size}, but the checkpoint is of {checkpoint}", size=size, checkpoint=cp.size)
        )
    merkle.verify_inclusion(index, size, leaf, path, cp.root)
    return Verified(cp.origin, index, size, name, note.key_id(name, public).hex(), entry)


def witness_step(
    previous: str | None,
    newest: str,
    consistency: Sequence[bytes],
    log_key: Ed25519PublicKey,
    witness: note.Signer,
    now: int,
) -> str:
    """The newest checkpoint cosigned (cosignature/v1), once it is signed by the log's key, of
    the same log as the ``previous`` one the witness saw, no smaller, and ``consistency`` proves
    it extends it. Raises :class:`merkle.ProofError` or :class:`note.NoteError` otherwise."""
    _name, new = note.signed_by(newest, log_key)
    if previous is not None:
        _name, old = note.signed_by(previous, log_key)
        if old.origin != new.origin:
            raise note.NoteError(
                N_("the log's origin changed: {then} then, {now} now", then=old.origin, now=new.origin),
                field="note",
            )
        if new.size < old.size:
            raise merkle.ProofError(
                N_("the log shrank: {seen} entries seen, {now} now", seen=old.size, now=new.size)
            )
        merkle.verify_consistency(old.size, new.size, old.root, new.root, consistency)
    return witness.cosign(newest, now)
