"""The public pages' snapshot: what the last full rescore of the population showed, so that a
freshly started server answers ``/public/*`` from it instead of scanning every subject first.

Revision 0009, after 0005. Adds the table ``public_snapshots`` (derived state, in no chain;
store/snapshots.py, docs/decisions/0049-public-pages-from-state.md). Nothing to backfill: a
database without a snapshot gets one at its first rescore.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from socialcredit.store.migrations import no_downgrade

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "public_snapshots",
        sa.Column("name", sa.String(length=32), primary_key=True),
        sa.Column("as_of", sa.DateTime(), nullable=False),
        sa.Column("records_head", sa.BigInteger(), nullable=False),
        sa.Column("cases_head", sa.BigInteger(), nullable=False),
        sa.Column("schemes", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
    )


downgrade = no_downgrade  # the schema only moves forward (store.migrations.no_downgrade)
