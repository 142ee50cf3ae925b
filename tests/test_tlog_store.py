"""The transparency log's trees in the store (issue 22 point 1), on SQLite and PostgreSQL: grown
by every chain's own append path, incrementally, as tiles; each leaf is the bytes its chain hash
covers, read back from the stored columns, so the tree appended and the tree of what is stored
are one."""

from __future__ import annotations

import hashlib

from sqlalchemy import func, select

from socialcredit.service import System
from socialcredit.store import tables as t
from socialcredit.tlog import merkle
from tests.support.tlog import LOGS, fill

LOGS_TABLES = {"records": t.records, "audit": t.audit, "cases": t.case_events, "registry": t.registry}


def test_every_chain_grows_its_tree_as_it_appends(system: System) -> None:
    store = system.store
    fill(system, 300)
    fill(system, 5, start=300)  # a second round: the partial tiles are extended, not rebuilt
    for chain in LOGS:
        size = store.tree_size(chain)
        assert size >= 305
        leaves = list(store.leaves(chain))
        assert len(leaves) == size
        # each leaf is the chain link's own bytes: SHA-256 of it is the stored chain hash
        table = {"records": t.records, "audit": t.audit, "cases": t.case_events, "registry": t.registry}[
            chain
        ]
        with store.engine.connect() as conn:
            stored = [h for (h,) in conn.execute(select(table.c.chain_hash).order_by(table.c.seq))]
        assert [hashlib.sha256(leaf).hexdigest() for leaf in leaves] == stored
        assert store.leaf(chain, 7) == leaves[6]
        # the tiles the appends wrote give the tree of the stored leaves, at every size asked
        memory = merkle.MemorySource(merkle.leaf_hash(x) for x in leaves)
        for n in (1, 255, 256, 257, size):
            assert store.tree_root(chain, n) == merkle.root(memory, n), (chain, n)
        index = size - 2
        assert store.inclusion(chain, index, size) == merkle.inclusion_proof(memory, index, size)
        assert store.consistency(chain, 256, size) == merkle.consistency_proof(memory, 256, size)
    with store.engine.connect() as conn:
        rows = conn.execute(select(func.count()).select_from(t.tlog_tiles)).scalar_one()
    assert rows <= 4 * 4  # two level-0 tiles and one level-1 tile per chain: no row per node
