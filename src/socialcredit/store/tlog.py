"""The transparency log's reads: each chain's entries as leaves, its tree heads and its proofs.

Why the leaf is read back from the stored columns: a proof must show what the database holds
now, so an entry's leaf is rebuilt here by the one function per chain that ``verify`` also uses
(``record_entry``, ``audit_entry``, ``case_entry``, ``registry_entry``: the columns the chain hash
covers, as ``ledger.link_bytes`` lays them out). An entry altered behind the application's back
then has another leaf, and its proof fails against any checkpoint signed before
(docs/transparency.md). The tree's hashes come from the tiles its appends wrote
(``store/tiles.py``), never from a rebuild.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlalchemy import Table, func, select

from socialcredit import ledger
from socialcredit.chaincheck import Entry
from socialcredit.errors import NotFound
from socialcredit.i18n import N_
from socialcredit.store import tables as t
from socialcredit.store import tiles as stored
from socialcredit.store.audit import audit_entry
from socialcredit.store.base import Row, StoreBase
from socialcredit.store.cases import case_entry
from socialcredit.store.records import record_entry
from socialcredit.store.sealedrows import Sealing, is_pseudonym
from socialcredit.store.subjects import registry_entry
from socialcredit.tlog import merkle, tiles

LOGS: dict[str, tuple[Table, Callable[[Row], Entry]]] = {
    "records": (t.records, record_entry),
    "audit": (t.audit, audit_entry),
    "cases": (t.case_events, case_entry),
    "registry": (t.registry, registry_entry),
}
"""Every chain with a transparency log: its table and the one function that reads an entry as
the chain covers it."""


class _Tiled:
    """A :class:`merkle.HashSource` over one chain's stored tiles."""

    def __init__(self, store: TlogStore, chain: str) -> None:
        self.store, self.chain = store, chain

    def subtrees(self, nodes: Iterable[merkle.Node]) -> dict[merkle.Node, bytes]:
        with self.store.reader.connect() as conn:

            def read(wanted: set[tiles.Tile]) -> dict[tiles.Tile, bytes]:
                return stored.read(conn.exec_driver_sql, self.store.dialect.mark, self.chain, wanted)

            return tiles.subtrees(nodes, read, self.store.pyramids)


class TlogStore(StoreBase):
    """Leaves, tree heads and proofs of every chain's Merkle tree."""

    sealing: Sealing  # the records' (``RecordStore``, beside it in ``Store``): opens a sealed row

    @property
    def pyramids(self) -> tiles.Pyramids:
        found: tiles.Pyramids | None = self.__dict__.get("_pyramids")
        if found is None:
            found = self.__dict__["_pyramids"] = tiles.Pyramids()
        return found

    @staticmethod
    def _log(chain: str) -> tuple[Table, Callable[[Row], Entry]]:
        if chain not in LOGS:
            raise NotFound(
                N_("no log named {chain!r}: one of {logs}", chain=chain[:20], logs=", ".join(LOGS)),
                field="chain",
            )
        return LOGS[chain]

    @staticmethod
    def logs() -> tuple[str, ...]:
        return tuple(LOGS)

    def tree_size(self, chain: str) -> int:
        """The number of entries in ``chain``'s log now (its chain head's count)."""
        self._log(chain)
        return self.head(chain)[0]

    def leaf(self, chain: str, seq: int) -> bytes:
        """The exact leaf bytes of entry ``seq`` of ``chain`` as stored now (docs/transparency.md)."""
        table, entry = self._log(chain)
        with self.reader.connect() as conn:
            rows = {
                int(m["seq"]): m
                for m in conn.execute(select(table).where(table.c.seq.in_([seq - 1, seq]))).mappings()
            }
        if seq not in rows:
            raise NotFound(N_("the {chain} log has no entry {seq}", chain=chain, seq=seq), field="seq")
        prev = str(rows[seq - 1]["chain_hash"]) if seq > 1 and seq - 1 in rows else ledger.GENESIS
        return entry(rows[seq]).leaf(prev)

    def leaves(self, chain: str) -> Iterator[bytes]:
        """Every entry's leaf bytes in order, from the stored columns (the migration's input, and
        the test that the appended tree is the stored one)."""
        table, entry = self._log(chain)
        prev = ledger.GENESIS
        with self.reader.connect() as conn:
            result = conn.execution_options(yield_per=10_000).execute(select(table).order_by(table.c.seq))
            for m in result.mappings():
                yield entry(m).leaf(prev)
                prev = str(m["chain_hash"])

    def regrow(self, chain: str) -> None:
        """Build ``chain``'s tree again from its stored entries. Only for a chain re-linked as a
        whole, once: the records chain when a ledger stored in the clear is sealed as a new epoch
        (``store/epochs.py``, decision 0046), so that the log covers the sealed form from then on;
        checkpoints of the clear chain are named by the epoch record."""
        self._log(chain)
        hashes = [merkle.leaf_hash(leaf) for leaf in self.leaves(chain)]
        self.__dict__.pop("_pyramids", None)
        with self.engine.begin() as conn:
            conn.execute(t.tlog_tiles.delete().where(t.tlog_tiles.c.chain == chain))
            for i in range(0, len(hashes), 65_536):
                stored.grow(conn.exec_driver_sql, self.dialect.mark, chain, i, hashes[i : i + 65_536])

    def tile(self, chain: str, level: int, index: int) -> bytes:
        """The hashes tile ``index`` of ``level`` holds now (empty if none): served at C2SP
        tlog-tiles paths, cut to the width a checkpoint's size gives it (``service/tlog.py``)."""
        self._log(chain)
        with self.reader.connect() as conn:
            found = stored.read(conn.exec_driver_sql, self.dialect.mark, chain, [(level, index)])
        return found.get((level, index), b"")

    def leaf_range(self, chain: str, first: int, count: int) -> list[bytes]:
        """The leaf bytes of entries ``first`` to ``first + count - 1`` as stored now, in order
        (an entries bundle; fewer if the chain ends before)."""
        table, entry = self._log(chain)
        with self.reader.connect() as conn:
            rows = conn.execute(
                select(table).where(table.c.seq.between(first - 1, first + count - 1)).order_by(table.c.seq)
            ).mappings()
            out: list[bytes] = []
            prev = ledger.GENESIS
            for m in rows:
                if int(m["seq"]) >= first:
                    out.append(entry(m).leaf(prev))
                prev = str(m["chain_hash"])
        return out

    def chain_hash_at(self, chain: str, seq: int) -> str | None:
        """The chain hash stored with entry ``seq`` (the genesis for 0; ``None`` if there is none):
        what a JSON checkpoint of an earlier release names (``checkpoints.check_legacy``)."""
        table, _entry = self._log(chain)
        if seq == 0:
            return ledger.GENESIS
        with self.reader.connect() as conn:
            found = conn.execute(select(table.c.chain_hash).where(table.c.seq == seq)).first()
        return None if found is None else str(found[0])

    def epoch_records(self, chain: str) -> list[dict[str, Any]]:
        """The signed epoch records of ``chain``, oldest first: each time it was re-linked over a
        new stored form (``store/epochs.py``), as the installation's key signed it."""
        self._log(chain)
        q = select(t.epochs.c.checkpoint).where(t.epochs.c.chain == chain).order_by(t.epochs.c.epoch)
        with self.reader.connect() as conn:
            return [json.loads(text) for (text,) in conn.execute(q)]

    def epoch_consistency(self, chain: str, tree: str, first: int, second: int) -> list[bytes]:
        """The consistency proof from ``first`` to ``second`` entries in a tree kept from before a
        chain was re-linked (``tree`` as its epoch record names it, ``store/epochs.py``)."""
        self._log(chain)
        if not tree.startswith(chain + "@"):
            raise NotFound(N_("no tree named {tree!r}", tree=tree[:20]), field="epoch")
        try:
            return merkle.consistency_proof(_Tiled(self, tree), first, second)
        except merkle.ProofError:
            raise NotFound(
                N_("the {chain} log does not hold {size} entries", chain=tree, size=second), field="to"
            ) from None

    def keep_cosignatures(
        self, chain: str, size: int, lines: Iterable[tuple[str, str, str]], at: dt.datetime
    ) -> None:
        """Keep witnesses' cosignature lines ``(witness, key id hex, line)`` of ``chain``'s
        checkpoint of ``size`` entries; a witness's later cosignature of it replaces its earlier."""
        c = t.tlog_cosignatures.c
        with self.engine.begin() as conn:
            for witness, key_id, line in lines:
                mine = (c.chain == chain) & (c.size == size) & (c.witness == witness) & (c.key_id == key_id)
                conn.execute(t.tlog_cosignatures.delete().where(mine))
                conn.execute(
                    t.tlog_cosignatures.insert().values(
                        chain=chain, size=size, witness=witness, key_id=key_id, line=line, at=at
                    )
                )

    def cosignatures(self, chain: str, size: int) -> list[str]:
        """The cosignature lines kept for ``chain``'s checkpoint of ``size`` entries."""
        c = t.tlog_cosignatures.c
        q = select(c.line).where(c.chain == chain, c.size == size).order_by(c.witness, c.key_id)
        with self.reader.connect() as conn:
            return [str(line) for (line,) in conn.execute(q)]

    def cosigned_sizes(self, chain: str, quorum: int, limit: int) -> list[int]:
        """The ``limit`` largest tree sizes of ``chain``, not beyond the tree now, for which
        cosignatures of at least ``quorum`` witnesses are kept, largest first (whether each still
        verifies by a witness still known is the service's check)."""
        c = t.tlog_cosignatures.c
        q = (
            select(c.size)
            .where(c.chain == chain, c.size <= self.tree_size(chain))
            .group_by(c.size)
            .having(func.count(func.distinct(c.witness)) >= quorum)
            .order_by(c.size.desc())
            .limit(limit)
        )
        with self.reader.connect() as conn:
            return [int(size) for (size,) in conn.execute(q)]

    def tree_root(self, chain: str, size: int) -> bytes:
        """The root hash of ``chain``'s tree of its first ``size`` entries."""
        self._check_size(chain, size)
        return merkle.root(_Tiled(self, chain), size)

    def inclusion(self, chain: str, index: int, size: int) -> list[bytes]:
        """The audit path of leaf ``index`` (entry ``index + 1``) in the tree of ``size`` (a size
        the log has not reached is refused by the tiles themselves: no head read on this path)."""
        self._log(chain)
        if not 0 <= index < size:
            raise NotFound(N_("the {chain} log has no entry {seq}", chain=chain, seq=index + 1), field="seq")
        try:
            return merkle.inclusion_proof(_Tiled(self, chain), index, size)
        except merkle.ProofError:
            raise NotFound(
                N_("the {chain} log does not hold {size} entries", chain=chain, size=size), field="to"
            ) from None

    def consistency(self, chain: str, first: int, second: int) -> list[bytes]:
        """The proof that ``chain``'s tree of ``second`` entries extends its tree of ``first``."""
        self._check_size(chain, second)
        if not 0 <= first <= second:
            raise NotFound(
                N_(
                    "no consistency proof from {first} entries to fewer ({second})",
                    first=first,
                    second=second,
                ),
                field="from",
            )
        return merkle.consistency_proof(_Tiled(self, chain), first, second)

    def _check_size(self, chain: str, size: int) -> None:
        have = self.tree_size(chain)
        if not 0 <= size <= have:
            raise NotFound(
                N_("the {chain} log holds {have} entries, not {size}", chain=chain, have=have, size=size),
                field="to",
            )

    def record_seq(self, record_id: str) -> tuple[int, str]:
        """The seq and subject of a record by its id (its proof's leaf and who may ask for it).
        A sealed record's subject is read by opening it; an erased one's stays its pseudonym, so
        only operators and auditors may then ask for its proof (it still verifies)."""
        with self.reader.connect() as conn:
            row = conn.execute(select(t.records).where(t.records.c.record_id == record_id)).mappings().first()
        if row is None:
            raise NotFound(N_("no record by that id"), field="id")
        subject = str(row["subject"])
        if is_pseudonym(subject):
            opened = self.sealing.open_rows([row])
            subject = opened[0].subject if opened else subject
        return int(row["seq"]), subject
