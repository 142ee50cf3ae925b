"""The transparency log as the API, the CLI and the portal serve it: signed checkpoints, and the
inclusion and consistency proofs anyone can check without the database (docs/transparency.md).

Who may ask: a checkpoint and a consistency proof are public (they hold hashes only). A record's
inclusion proof carries the record's leaf (its content hash, batch and times, never its fields),
so it is given to the record's subject, operators and auditors, as ``access`` lets them read the
record; an audit entry's to auditors, operators and the subject it is about.
"""

from __future__ import annotations

import base64
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from socialcredit import access, checkpoints
from socialcredit.errors import NotFound, NotPublic, Refused
from socialcredit.i18n import N_
from socialcredit.service.context import Context
from socialcredit.store.sealedrows import is_pseudonym
from socialcredit.tlog import merkle, note, tiles

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

    def __init__(
        self,
        context: Context,
        signer: note.Signer | None = None,
        witnesses: Callable[[], list[note.Witness]] | None = None,
    ) -> None:
        self.context = context
        # The witnesses whose cosignatures are accepted and served: read on each use, so that one
        # the operator adds (``socialcredit checkpoint witnesses --add``) counts without a restart.
        self.witnesses: Callable[[], list[note.Witness]] = witnesses or list
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

    def cosigned_checkpoint(self, chain: str) -> SignedCheckpoint:
        """The newest checkpoint with the cosignatures known witnesses submitted for it (C2SP
        signed-note: more signature lines), each checked again now: a witness no longer known, or
        a line that does not verify, is left out."""
        signed = self.checkpoint(chain)
        known = self.witnesses()
        lines = [
            line
            for line in self.context.store.cosignatures(chain, signed.checkpoint.size)
            if _verifies(signed.note + line, known)
        ]
        return SignedCheckpoint(chain, signed.checkpoint, signed.note + "".join(lines))

    def latest_cosigned(self, chain: str, quorum: int = 1) -> SignedCheckpoint:
        """The newest checkpoint of ``chain`` that at least ``quorum`` known witnesses cosigned,
        with their cosignatures (decision 0066). A cosignature holds for one exact tree, so on a
        busy log the newest checkpoint (:meth:`cosigned_checkpoint`) seldom carries any: a relying
        party takes this one, then the consistency proof from it to the newest. Only the
        :data:`COSIGNED_LOOKBACK` newest cosigned sizes are tried (each costs a root); if none of
        them still holds ``quorum`` valid cosignatures, none is found."""
        known = self.witnesses()
        for size in self.context.store.cosigned_sizes(chain, quorum, COSIGNED_LOOKBACK):
            signed = self.checkpoint(chain, size)
            lines = [
                line
                for line in self.context.store.cosignatures(chain, size)
                if _verifies(signed.note + line, known)
            ]
            names = {line.split(" ")[1] for line in lines}
            if len(names) >= quorum:
                return SignedCheckpoint(chain, signed.checkpoint, signed.note + "".join(lines))
        raise NotFound(
            N_(
                "no checkpoint of the {chain} log carries the cosignatures of {quorum} known witnesses",
                chain=chain,
                quorum=quorum,
            ),
            field="quorum",
        )

    def submit_cosignature(self, chain: str, text: str) -> list[str]:
        """Keep a witness's cosignature (C2SP tlog-cosignature) of a checkpoint this log signed:
        ``text`` is the checkpoint with the witness's signature line added. Returns the names of
        the witnesses kept. Refused, naming the field, unless every line but the log's is a valid
        cosignature by a witness the operator configured."""
        body, signatures = note.split(text)
        cp = note.Checkpoint.parse(body)
        unsigned = NotFound(N_("this log signed no checkpoint like the note's"), field="note")
        if cp.origin != self.origin(chain):
            raise unsigned
        try:
            note.verify(text, self.signer.name, self.signer.public)
        except note.NoteError:
            raise unsigned from None
        store = self.context.store
        if cp.size > store.tree_size(chain) or store.tree_root(chain, cp.size) != cp.root:
            raise unsigned
        mine = self.signer.key_id()
        others = [s for s in signatures if not (s.name == self.signer.name and s.key_id == mine)]
        if not others:
            raise Refused(N_("the note carries no witness's cosignature"), field="note")
        known = {(w.name, w.key_id): w for w in self.witnesses()}
        kept: list[tuple[str, str, str]] = []
        for s in others:
            witness = known.get((s.name, s.key_id))
            if witness is None:
                raise Refused(
                    N_("{name} is not a witness this log knows (its operator adds it)", name=s.name[:64]),
                    field="note",
                )
            try:
                note.verify_cosignature(body + "\n" + s.line(), witness.name, witness.public)
            except note.NoteError:
                raise Refused(
                    N_("the cosignature of {name} does not verify", name=witness.name), field="note"
                ) from None
            kept.append((witness.name, s.key_id.hex(), s.line()))
        store.keep_cosignatures(chain, cp.size, kept, self.context.clock())
        return [name for name, _, _ in kept]

    def tile(self, chain: str, level: int, index: int, width: int | None) -> bytes:
        """A C2SP tlog-tiles hash tile: tile ``index`` of ``level``, full (256 hashes) or, with
        ``width``, its first ``width`` hashes (a partial tile of a checkpoint's tree). Only what the
        tree holds now: a tile beyond it is not found."""
        span = tiles.WIDTH ** (level + 1)
        end = index * span + (width or tiles.WIDTH) * (span // tiles.WIDTH)
        if end > self.context.store.tree_size(chain):
            raise NotFound(N_("the {chain} log has no such tile", chain=chain), field="tile")
        want = (width or tiles.WIDTH) * tiles.HASH
        data = self.context.store.tile(chain, level, index)
        if len(data) < want:  # the tree holds the entries, but not this tile: not stored yet
            raise NotFound(N_("the {chain} log has no such tile", chain=chain), field="tile")
        return data[:want]

    def entries(self, chain: str, index: int, width: int | None) -> bytes:
        """A C2SP tlog-tiles entries bundle: the leaf bytes of entries ``256 index + 1`` on, each
        after its length as a big-endian uint16. Served for the records and registry logs: a
        record's leaf is its sealed form's hashes, batch and time (docs/transparency.md), a
        registry entry's a hash of its sealed form (decision 0074). The audit and cases leaves
        name key holders and pseudonyms, so they are proved entry by entry, to those who may read
        the entry (their hash tiles are public); so is a registry whose chain kept entries in the
        clear (one that did not verify when schema 0015 sealed it)."""
        closed = chain == "registry" and self.context.store.registry_in_the_clear()
        if chain not in PUBLIC_ENTRIES or closed:
            raise NotPublic(N_("the entries of the {chain} log; its hash tiles are public", chain=chain))
        count = width or tiles.WIDTH
        first = index * tiles.WIDTH + 1
        if first + count - 1 > self.context.store.tree_size(chain):
            raise NotFound(N_("the {chain} log has no such tile", chain=chain), field="tile")
        leaves = self.context.store.leaf_range(chain, first, count)
        return b"".join(struct.pack(">H", len(leaf)) + leaf for leaf in leaves)

    def epochs(self, chain: str) -> list[dict[str, Any]]:
        """The chain's signed epoch records (``store/epochs.py``), as stored: what a witness or a
        holder of a checkpoint signed before the chain was sealed proves it against."""
        return self.context.store.epoch_records(chain)

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
        """A record's proof, audited before it is returned like any read of the record: the
        subject sees who asked in "who asked about me" (decision 0056)."""
        seq, subject = self.context.store.record_seq(record_id)
        access.require(
            access.may_read_subject(principal, subject) or access.may_read_audit(principal),
            PROOF_OF_RECORD,
        )
        proof = self.proof("records", seq)
        # an erased record's subject stays a pseudonym, which names nobody: no subject then
        about = None if is_pseudonym(subject) else subject
        self._audited(principal, about, {"chain": "records", "record_id": record_id, "seq": seq}, proof)
        return proof

    def audit_proof(self, principal: access.Principal, seq: int) -> InclusionProof:
        """An audit entry's proof, audited (about the subject the entry is about, if any)."""
        about = self.context.store.audit_subject(seq)
        if not access.may_read_audit(principal):
            access.require(principal.role == "subject" and about == principal.principal, PROOF_OF_AUDIT)
        proof = self.proof("audit", seq)
        self._audited(principal, about, {"chain": "audit", "seq": seq}, proof)
        return proof

    def _audited(
        self, principal: access.Principal, subject: str | None, detail: dict[str, Any], proof: InclusionProof
    ) -> None:
        """Why audited: a proof carries the entry's leaf, and asking for it is a look at the entry
        (who looked at whose record, and when), as any read is; checkpoints and consistency
        proofs name no one and stay unaudited."""
        self.context.audit(
            principal,
            "proof",
            subject=subject,
            purpose="inclusion proof",
            answer="shown",
            detail={**detail, "tree_size": proof.tree_size},
        )

    def consistency(self, chain: str, first: int, second: int, epoch: int | None = None) -> list[bytes]:
        """The consistency proof in the chain's tree now or, with ``epoch``, in the tree the
        chain had before that epoch re-linked it (its epoch record names both roots)."""
        if epoch is None:
            return self.context.store.consistency(chain, first, second)
        return self.context.store.epoch_consistency(chain, f"{chain}@{epoch}", first, second)


COSIGNED_LOOKBACK = 16
"""How many of the newest cosigned tree sizes :meth:`TransparencyLog.latest_cosigned` tries."""
PUBLIC_ENTRIES = ("records", "registry")
"""The logs whose entries bundles are public (:meth:`TransparencyLog.entries`)."""


def _verifies(cosigned: str, known: list[note.Witness]) -> bool:
    """Whether the note's last line is a valid cosignature by one of the ``known`` witnesses."""
    for w in known:
        try:
            note.verify_cosignature(cosigned, w.name, w.public)
        except note.NoteError:
            continue
        return True
    return False
