"""Each subject's materialised decision state (decision 0048).

Revision 0008, after 0005. A new table of derived rows, in no chain: it starts empty, and the
service builds it (``System.build_decision_state``, which ``serve``'s sweep runs in the
background; meanwhile a question about a subject with no state is computed from the ledger, as
before). The build needs the schemes in force, which a migration does not have.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from socialcredit.store.migrations import no_downgrade

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decision_state",
        sa.Column("code", sa.String(length=18), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("basis", sa.String(length=64), nullable=True),
        sa.Column("as_of", sa.DateTime(), nullable=True),
        sa.Column("valid_until", sa.DateTime(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_index(op.f("ix_decision_state_valid_until"), "decision_state", ["valid_until"], unique=False)


downgrade = no_downgrade  # the schema only moves forward (store.migrations.no_downgrade)
