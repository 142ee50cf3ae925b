"""The registry's chain, subjects and terms sealed under the subjects' registry keys (issue 21
point 1; decision 0074).

Revision 0015, after 0014. Widens ``registry.code`` to hold the subject's keyed pseudonym and adds
``registry.klass``, ``registry.sealed`` and ``registry.own_hash``. ``subjects``, ``tenures`` and
``document_links`` are made again, empty, in their sealed shape: all are folded from the
registry's chain, and the migration has no key to seal with. The first open after it
(``store/registryepochs.py``, with the key store and the signing key at hand) seals the chain's
clear entries as a new epoch and folds the three tables again from it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from socialcredit.store.migrations import no_downgrade

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    have = {c["name"] for c in inspector.get_columns("registry")}
    for name, kind in (
        ("klass", sa.String(length=24)),
        ("sealed", sa.Text()),
        ("own_hash", sa.String(length=64)),
    ):
        if name not in have:
            op.add_column("registry", sa.Column(name, kind, nullable=True))
    # SQLite alters a column by copying the table (Alembic's batch mode)
    with op.batch_alter_table("registry") as batch:
        batch.alter_column("code", type_=sa.String(length=64), existing_nullable=False)
    op.drop_index(op.f("ix_subjects_legal_representative"), table_name="subjects")
    op.drop_table("subjects")
    op.create_table(
        "subjects",
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("legal_representative", sa.String(length=64), nullable=True),
        sa.Column("klass", sa.String(length=24), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("registered_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("subject"),
    )
    op.create_index(
        op.f("ix_subjects_legal_representative"), "subjects", ["legal_representative"], unique=False
    )
    op.drop_index(op.f("ix_tenures_person"), table_name="tenures")
    op.drop_table("tenures")
    op.create_table(
        "tenures",
        sa.Column("organisation", sa.String(length=64), nullable=False),
        sa.Column("opened", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("person", sa.String(length=64), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("closed", sa.BigInteger(), nullable=True),
        sa.Column("klass", sa.String(length=24), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("organisation", "opened"),
    )
    op.create_index(op.f("ix_tenures_person"), "tenures", ["person"], unique=False)
    op.drop_index("ux_document_links_current", table_name="document_links")
    op.drop_index(op.f("ix_document_links_document"), table_name="document_links")
    op.drop_index(op.f("ix_document_links_subject"), table_name="document_links")
    op.drop_table("document_links")
    op.create_table(
        "document_links",
        sa.Column("linked", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("document", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("passport_type", sa.String(length=2), nullable=True),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.Column("klass", sa.String(length=24), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
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
