"""The transparency log: each chain's Merkle tree, stored as tiles (docs/transparency.md).

Revision 0007, after 0005 (the lead re-chains it after 0006). Adds ``tlog_tiles`` and builds the
tree of every existing entry of the records, audit, cases and registry chains, in seq order, from
the stored columns by the same functions that grow it on every append (``store/tlog.py``: the
leaf is the bytes each chain's hash covers, so it follows the stored form; issue 21). Nothing
already stored changes: the tree is derived, and the chains' own hashes stay as they were.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from socialcredit import ledger
from socialcredit.store import tiles
from socialcredit.store.migrations import no_downgrade
from socialcredit.store.tlog import LOGS
from socialcredit.tlog.merkle import leaf_hash

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BATCH = 10_000


def upgrade() -> None:
    op.create_table(
        "tlog_tiles",
        sa.Column("chain", sa.String(length=16), nullable=False),
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hashes", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("chain", "level", "idx"),
    )
    conn = op.get_bind()
    mark = "?" if conn.dialect.name == "sqlite" else "%s"
    for chain, (table, entry) in LOGS.items():
        size, prev, pending = 0, ledger.GENESIS, []
        # the columns this revision's schema has: a later revision adds some (0011: audit sealed;
        # 0012: cases sealed)
        present = {c["name"] for c in sa.inspect(conn).get_columns(table.name)}
        columns = [c for c in table.c if c.name in present]
        for m in conn.execute(sa.select(*columns).order_by(table.c.seq)).mappings().all():
            pending.append(leaf_hash(entry(m).leaf(prev)))
            prev = str(m["chain_hash"])
            if len(pending) == BATCH:
                tiles.grow(conn.exec_driver_sql, mark, chain, size, pending)
                size, pending = size + len(pending), []
        tiles.grow(conn.exec_driver_sql, mark, chain, size, pending)


downgrade = no_downgrade  # the schema only moves forward (store.migrations.no_downgrade)
