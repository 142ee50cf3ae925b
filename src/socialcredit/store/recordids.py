"""Keyed record ids on the append path (decision 0080): which ids a chunk's rows are judged by.

A record appended since decision 0080 is stored under its keyed id (``Sealing.keyed_ids``, computed
as its row is sealed); a record stored before keeps its unkeyed id (``ledger.record_id_for``), so
its chain, its AES-GCM associated data and the transparency log's proofs by id still hold. So the
append path recognises a re-sent record (a duplicate, a conflict, an erased re-send) by either id,
and a correction may name its target by either: by reference, validation names it by the unkeyed
id, which this module turns into the keyed one where that is the one stored (for a record of the
correction's own source only: another source's reference stays unconfirmable).

Why a mark: looking up every row's unkeyed id as well as its keyed one doubles the append's index
probes, for a case that exists only in a ledger older than decision 0080. The first append since
then keeps, in a row of ``chain_heads`` that is no chain (``recordids``, as ``registry`` is a
marker), how many records the ledger held then; where that is 0 (every ledger begun since) the
unkeyed ids are never looked up. Set under the records chain's lock, in the append's own
transaction, so two writers cannot disagree, and carried by a backup with the other heads.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from socialcredit import ledger
from socialcredit.store import tables as t
from socialcredit.store.sealedrows import STORED_FIELDS, Sealing

MARK = "recordids"
"""The ``chain_heads`` row whose count is how many records predate keyed ids."""
_RID, _SOURCE, _CORRECTS, _CONTENT = (
    STORED_FIELDS.index(c) for c in ("record_id", "source", "corrects", "content_hash")
)
_PREIMAGE = tuple(
    STORED_FIELDS.index(c)
    for c in (
        "record_id",
        "subject",
        "subject_kind",
        "item",
        "source",
        "source_record_id",
        "occurred_on",
        "reported_at",
        "reported_given",
        "action",
        "corrects",
        "klass",
        "sealed",
        "claim_hash",
    )
)
"""The stored row's values ``ledger.stored_preimage`` takes, in its order."""


def predating(conn: Connection, count: int) -> bool:
    """Whether records stored before keyed ids exist; the first call on a ledger sets the mark
    with ``count``, the records chain's count (call it holding the chain's lock)."""
    row = conn.execute(select(t.chain_heads.c.count).where(t.chain_heads.c.chain == MARK)).first()
    if row is None:
        conn.execute(t.chain_heads.insert().values(chain=MARK, count=count, head=ledger.GENESIS))
        return count > 0
    return int(row[0]) > 0


def retarget(row: tuple[Any, ...], corrects: str) -> tuple[Any, ...]:
    """A sealed row naming ``corrects`` as the record it corrects, its content hash recomputed
    (the ciphertext and the keyed claim do not cover it: a re-send of the correction is still
    recognised by its claim)."""
    out = list(row)
    out[_CORRECTS] = corrects
    out[_CONTENT] = ledger.stored_content_hash(*(out[i] for i in _PREIMAGE))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class ChunkIds:
    """A chunk's other ids: each row's unkeyed id by its keyed one (only where records predate
    keyed ids), and the keyed form of every id a correction names."""

    unkeyed: Mapping[str, str]
    targets: Mapping[str, str]

    @classmethod
    def of(
        cls,
        plain: Sequence[tuple[Any, ...]],
        sealed: Sequence[tuple[Any, ...] | None],
        sealing: Sealing,
        predating: bool,
    ) -> ChunkIds:
        """From the chunk's rows as validated (``plain``, unkeyed ids) and as sealed (``sealed``,
        None where refused)."""
        unkeyed = {}
        if predating:
            unkeyed = {s[_RID]: p[_RID] for p, s in zip(plain, sealed, strict=True) if s is not None}
        named = sorted({s[_CORRECTS] for s in sealed if s is not None and s[_CORRECTS]})
        return cls(unkeyed, dict(zip(named, sealing.keyed_ids(named), strict=True)))

    @property
    def active(self) -> bool:
        """Whether any row may be judged by another id than its own (else the append skips it)."""
        return bool(self.unkeyed or self.targets)

    def wanted(self, stored: Sequence[tuple[Any, ...]]) -> list[str]:
        """Every id the append must know whether the ledger holds."""
        ids = {row[_RID] for row in stored}
        ids.update(self.unkeyed.values(), self.targets, self.targets.values())
        return list(ids)

    def judge(self, row: tuple[Any, ...], existing: Mapping[str, Any]) -> tuple[tuple[Any, ...], str]:
        """The row to store (a correction naming its target by the id the ledger holds it under)
        and the id it is judged by: its unkeyed id where a record stored before holds that."""
        named = row[_CORRECTS]
        if named is not None and named not in existing:
            keyed = self.targets.get(named)
            target = existing.get(keyed) if keyed is not None else None
            # only a record of the row's own source is named so: a correction by reference, and no
            # way for one source to test another's guessed reference
            if keyed is not None and target is not None and target[1] == row[_SOURCE]:
                row = retarget(row, keyed)
        old = self.unkeyed.get(row[_RID])
        return row, (old if old is not None and old in existing else row[_RID])
