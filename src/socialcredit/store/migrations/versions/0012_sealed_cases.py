"""Case events and quarantined rows encrypted at rest (issue 21 point 1; decision 0061).

Revision 0012, after 0010 (the lead re-chains it after 0011). Adds ``quarantine.klass`` (the
key a quarantined row is sealed under), ``case_events.klass`` and ``case_events.sealed``, and
widens ``case_events.subject`` to hold the subject's keyed pseudonym.
The events stored in the clear are sealed once, when the store opens (``store/epochs.py``, as
the records were by 0006: sealing needs the key store and the signing key): a new epoch of the
cases chain, begun by a signed checkpoint naming the old chain's head.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from socialcredit.store.migrations import no_downgrade

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("case_events", sa.Column("klass", sa.String(length=16), nullable=True))
    op.add_column("case_events", sa.Column("sealed", sa.Text(), nullable=True))
    # SQLite alters a column by copying the table (Alembic's batch mode)
    with op.batch_alter_table("case_events") as batch:
        batch.alter_column("subject", type_=sa.String(length=64), existing_nullable=False)
    op.add_column("quarantine", sa.Column("klass", sa.String(length=24), nullable=True))


downgrade = no_downgrade  # the schema only moves forward (store.migrations.no_downgrade)
