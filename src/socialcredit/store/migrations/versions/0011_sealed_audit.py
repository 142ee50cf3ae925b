"""Audit entries pseudonymised, their subjects' codes sealed (decision 0060, issue 21).

Revision 0011, after 0010. Widens ``audit.subject`` to hold the subject's keyed pseudonym (as
``records.subject`` does since 0006) and adds ``audit.sealed``, the subject's code sealed under its
audit key. The entries stored in the clear are then sealed once, when the store opens
(``store/epochs.py``, ``seal_clear_audit``: it needs the key store and the signing key, which a
migration's one connection cannot reach): a new epoch of the audit chain over their stored form,
begun by a signed checkpoint naming the old chain's head, as 0006 did for the records.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from socialcredit.store.migrations import no_downgrade

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # added where missing: a database rebuilt from a later one's rows (as the tests of the
    # earlier revisions make theirs) may have it already
    if "sealed" not in {c["name"] for c in sa.inspect(op.get_bind()).get_columns("audit")}:
        op.add_column("audit", sa.Column("sealed", sa.Text(), nullable=True))
    # SQLite alters a column by copying the table (Alembic's batch mode); the index on
    # (subject, at) is kept by the copy
    with op.batch_alter_table("audit") as batch:
        batch.alter_column("subject", type_=sa.String(length=64), existing_nullable=True)


downgrade = no_downgrade  # the schema only moves forward (store.migrations.no_downgrade)
