"""Scheme versions kept by content hash.

Revision 0003, after 0002. Every version of a scheme file put in force is kept, whole, under the
SHA-256 of its text, so a decision's receipt can name the files it was computed under and the
answer can be computed again under them (issue 17.6). Nothing to backfill: the versions in force
are kept the first time a decision's receipt names them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from socialcredit.store.migrations import no_downgrade

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scheme_versions",
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("scheme_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=True),
        sa.Column("first_in_force_at", sa.DateTime(), nullable=False),
        sa.Column("yaml", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("content_hash"),
    )
    op.create_index(op.f("ix_scheme_versions_scheme_id"), "scheme_versions", ["scheme_id"], unique=False)


downgrade = no_downgrade  # the schema only moves forward: receipts name these versions
