"""Each audit entry's and case event's own hash (issue 17 point 5; decision 0071).

Revision 0014, after 0013. Adds ``audit.own_hash`` and
``case_events.own_hash``: SHA-256 of what an entry's link covers but the previous entry's hash
and its seq (``chaincheck.own_hash``), so that ``verify`` names an entry edited beside a removal,
as a record's content hash does. Entries stored before keep a null: nothing is backfilled, since
a hash computed now would vouch for whatever the row holds now.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from socialcredit.store.migrations import no_downgrade

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # added where missing: a database rebuilt from a later one's rows (as the tests of the
    # earlier revisions make theirs) may have it already
    inspector = sa.inspect(op.get_bind())
    for table in ("audit", "case_events"):
        if "own_hash" not in {c["name"] for c in inspector.get_columns(table)}:
            op.add_column(table, sa.Column("own_hash", sa.String(length=64), nullable=True))


downgrade = no_downgrade  # the schema only moves forward (store.migrations.no_downgrade)
