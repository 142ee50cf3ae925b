"""Export subject numbers keyed by the subject's keyed pseudonym (issue 21 point 1; decision 0075).

Revision 0016, after 0014. ``subject_numbers`` named each subject by its code in the clear; it now
names it by the keyed pseudonym ``records.subject`` holds. A migration has no key to hash the codes
with, and the numbers are derived (an export's grouping key, held by no chain and no output but
the export's own files): the table is made again, empty. The next export finds the database holding
fewer numbers than its directory's manifest (``engines.export.prior_export``) and rewrites it whole,
numbering every subject afresh; an engine reads numbers only from the export it was given.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from socialcredit.store.migrations import no_downgrade

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_table("subject_numbers")
    op.create_table(
        "subject_numbers",
        sa.Column(
            "subject_no",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.PrimaryKeyConstraint("subject_no"),
        sa.UniqueConstraint("subject"),
    )


downgrade = no_downgrade  # the schema only moves forward (store.migrations.no_downgrade)
