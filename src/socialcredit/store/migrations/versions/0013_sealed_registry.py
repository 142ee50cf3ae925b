"""The registry's side tables name subjects by keyed pseudonym (issue 21 point 1; decision 0068).

Revision 0013, after 0012. ``decision_state`` is keyed by the subject's keyed pseudonym (the one
``records.subject`` holds) instead of its code. The state is derived (decision 0048): it is made
again, empty, and the next sweep (``serve``'s, or ``System.build_decision_state``) computes it;
questions asked meanwhile are computed from the ledger, as for a subject never asked about.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from socialcredit.store.migrations import no_downgrade

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index(op.f("ix_decision_state_valid_until"), table_name="decision_state")
    op.drop_table("decision_state")
    op.create_table(
        "decision_state",
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("epoch", sa.BigInteger(), nullable=False),
        sa.Column("basis", sa.String(length=64), nullable=True),
        sa.Column("as_of", sa.DateTime(), nullable=True),
        sa.Column("valid_until", sa.DateTime(), nullable=True),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("subject"),
    )
    op.create_index(op.f("ix_decision_state_valid_until"), "decision_state", ["valid_until"], unique=False)


downgrade = no_downgrade  # the schema only moves forward (store.migrations.no_downgrade)
