"""A subject's documents: passports, travel permits and residence cards linked to its code.

Revision 0004, after 0003. A new table only: links are appended to the registry's chain (which
0002 made) as they are made, and a database of 0002 has none to backfill.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from socialcredit.store.migrations import no_downgrade

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "document_links",
        sa.Column("linked", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("document", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=18), nullable=False),
        sa.Column("passport_type", sa.String(length=2), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.DateTime(), nullable=False),
        sa.Column("valid_to", sa.DateTime(), nullable=True),
        sa.Column("ended", sa.BigInteger(), nullable=True),
        sa.Column("ended_by", sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint("linked"),
    )
    op.create_index(op.f("ix_document_links_document"), "document_links", ["document"], unique=False)
    op.create_index(op.f("ix_document_links_subject"), "document_links", ["subject"], unique=False)
    op.create_index(
        "ux_document_links_current",
        "document_links",
        ["document"],
        unique=True,
        sqlite_where=sa.text("valid_to IS NULL"),
        postgresql_where=sa.text("valid_to IS NULL"),
    )


downgrade = no_downgrade  # the schema only moves forward (store.migrations.no_downgrade)
