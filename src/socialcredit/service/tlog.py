"""The transparency log as the API, the CLI and the portal serve it: signed checkpoints, and the
inclusion and consistency proofs anyone can check without the database (docs/transparency.md).

Who may ask: a checkpoint and a consistency proof are public (they hold hashes only). A record's
inclusion proof carries the record's leaf (its content hash, batch and times, never its fields),
so it is given to the record's subject, operators and auditors, as ``access`` lets them read the
record; an audit entry's to auditors, operators and the subject it is about.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from socialcredit import access, checkpoints
from socialcredit.errors import NotFound
from socialcredit.i18n import N_
from socialcredit.service.context import Context
from socialcredit.tlog import merkle, note

PROOF_OF_RECORD = N_("read a record's proof: only its subject, operators and auditors do")
PROOF_OF_AUDIT = N_("read an audit entry's proof: only the subject it is about, operators and auditors do")


@dataclass(frozen=True)
class SignedCheckpoint:
    chain: str
    checkpoint: note.Checkpoint
    note: str


@dataclass(frozen=True)
class InclusionProof:
    """An entry's proof, in the shape issue 22 fixes (:meth:`to_json`)."""

    leaf_index: int
    tree_size: int
    entry: bytes
    hashes: list[bytes]
    checkpoint: str

    def to_json(self) -> dict[str, Any]:
        return {
            "leaf_index": self.leaf_index,
            "tree_size": self.tree_size,
            "entry": base64.b64encode(self.entry).decode(),
            "leaf_hash": merkle.leaf_hash(self.entry).hex(),
            "hashes": [h.hex() for h in self.hashes],
            "checkpoint": self.checkpoint,
        }


class TransparencyLog:
    """Checkpoints signed by the log's key, and proofs from the store's tiles."""

    def __init__(self, context: Context, signer: note.Signer | None = None) -> None:
        self.context = context
        # Without the installation's key (a System made in a test or a script) the log signs with a
        # key of its own, made now and never kept: its checkpoints verify only against its
        # ``signer.public``. The command line and the server always pass the installation's key.
        self.signer = signer or note.Signer(checkpoints.DEFAULT_ORIGIN, Ed25519PrivateKey.generate())

    def origin(self, chain: str) -> str:
        return f"{self.signer.name}/{chain}"

    def checkpoint(self, chain: str, size: int | None = None) -> SignedCheckpoint:
        """The log's signed statement of ``chain``'s tree now (or at ``size``, not beyond now)."""
        store = self.context.store
        n = store.tree_size(chain) if size is None else size
        cp = note.Checkpoint(self.origin(chain), n, store.tree_root(chain, n))
        return SignedCheckpoint(chain, cp, self.signer.sign(cp.body()))

    def proof(self, chain: str, seq: int) -> InclusionProof:
        """Entry ``seq`` of ``chain``: its leaf bytes as stored now, its audit path in the tree
        now, and the checkpoint of that tree."""
        signed = self.checkpoint(chain)
        size = signed.checkpoint.size
        if not 1 <= seq <= size:
            raise NotFound(N_("the {chain} log has no entry {seq}", chain=chain, seq=seq), field="seq")
        entry = self.context.store.leaf(chain, seq)
        path = self.context.store.inclusion(chain, seq - 1, size)
        return InclusionProof(seq - 1, size, entry, path, signed.note)

    def record_proof(self, principal: access.Principal, record_id: str) -> InclusionProof:
        seq, subject = self.context.store.record_seq(record_id)
        access.require(
            access.may_read_subject(principal, subject) or access.may_read_audit(principal),
            PROOF_OF_RECORD,
        )
        return self.proof("records", seq)

    def audit_proof(self, principal: access.Principal, seq: int) -> InclusionProof:
        if not access.may_read_audit(principal):
            about = self.context.store.audit_subject(seq)
            access.require(principal.role == "subject" and about == principal.principal, PROOF_OF_AUDIT)
        return self.proof("audit", seq)

    def consistency(self, chain: str, first: int, second: int) -> list[bytes]:
        return self.context.store.consistency(chain, first, second)
