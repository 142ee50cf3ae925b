"""Witnesses' cosignatures of the transparency log's checkpoints, kept to be served with them.

Revision 0010, after 0009. Adds the table ``tlog_cosignatures`` (decision 0056,
docs/transparency.md). Nothing to backfill: no cosignature was collected before.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from socialcredit.store.migrations import no_downgrade

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tlog_cosignatures",
        sa.Column("chain", sa.String(length=16), primary_key=True),
        sa.Column("size", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("witness", sa.String(length=128), primary_key=True),
        sa.Column("key_id", sa.String(length=8), primary_key=True),
        sa.Column("line", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
    )


downgrade = no_downgrade  # the schema only moves forward (store.migrations.no_downgrade)
