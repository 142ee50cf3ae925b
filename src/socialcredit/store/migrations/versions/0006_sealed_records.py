"""Records encrypted at rest (crypto-shredding, issue 21; docs/decisions/0046-crypto-shredding.md).

Revision 0006, after 0005. Adds ``records.klass`` (the retention class of the record's data key)
and ``records.sealed`` (the AES-GCM ciphertext of its subject's code, evidence and details), and
widens ``records.subject`` to hold the subject's keyed pseudonym, and adds ``epochs``. The records
stored in the clear are then sealed once, when the store opens (``store/epochs.py``: it needs the
key store and the signing key, which a migration's one connection cannot reach): a new epoch of the
records chain over their sealed form, begun by a signed checkpoint naming the old chain's head.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from socialcredit.store.migrations import no_downgrade

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("records", sa.Column("klass", sa.String(length=16), nullable=True))
    op.add_column("records", sa.Column("sealed", sa.Text(), nullable=True))
    op.create_table(
        "epochs",
        sa.Column("chain", sa.String(length=16), nullable=False),
        sa.Column("epoch", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("count", sa.BigInteger(), nullable=False),
        sa.Column("old_head", sa.String(length=64), nullable=False),
        sa.Column("new_head", sa.String(length=64), nullable=False),
        sa.Column("checkpoint", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("chain", "epoch"),
    )
    # SQLite alters a column by copying the table (Alembic's batch mode)
    with op.batch_alter_table("records") as batch:
        batch.alter_column("subject", type_=sa.String(length=64), existing_nullable=False)


downgrade = no_downgrade  # the schema only moves forward (store.migrations.no_downgrade)
