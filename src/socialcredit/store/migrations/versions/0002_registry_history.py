"""The registry becomes a history: a hash chain of registrations, and representatives' terms.

Revision 0002, after 0001. Before it, a new legal representative replaced the old one in
``subjects`` and nothing was kept. What a database of 0001 knows is only the latest state, so the
backfill appends one chain entry per registered subject, as of its ``registered_at`` (oldest
first), and one term per organisation's representative from its ``representative_since`` (or
from as far back as the registry knows). Changes made before the upgrade are not recoverable;
every change after it is kept.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from socialcredit.ledger import GENESIS, chain_hash
from socialcredit.store.migrations import no_downgrade
from socialcredit.subjects import SubjectRow, registry_content

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    registry = op.create_table(
        "registry",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=False, nullable=False
        ),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("code", sa.String(length=18), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("chain_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index(op.f("ix_registry_code"), "registry", ["code"], unique=False)
    tenures = op.create_table(
        "tenures",
        sa.Column("organisation", sa.String(length=18), nullable=False),
        sa.Column("opened", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("person", sa.String(length=18), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=True),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("closed", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("organisation", "opened"),
    )
    op.create_index(op.f("ix_tenures_person"), "tenures", ["person"], unique=False)
    assert registry is not None and tenures is not None
    conn = op.get_bind()
    subjects = sa.table(
        "subjects",
        *(sa.column(c) for c in ("code", "kind", "name", "sex", "district", "legal_representative")),
        sa.column("representative_since", sa.Date()),
        sa.column("registered_at", sa.DateTime()),
    )
    heads = sa.table("chain_heads", sa.column("chain"), sa.column("count"), sa.column("head"))
    seq, head = 0, GENESIS
    entries, terms = [], []
    rows = conn.execute(sa.select(subjects).order_by(subjects.c.registered_at, subjects.c.code)).mappings()
    for m in rows:
        row = SubjectRow(
            m["code"],
            m["kind"],
            m["name"],
            m["sex"],
            m["district"],
            m["legal_representative"],
            m["representative_since"],
        )
        seq += 1
        content = registry_content(row)
        head = chain_hash(head, seq, content, m["registered_at"], "registry")
        entries.append(
            {
                "seq": seq,
                "at": m["registered_at"],
                "code": row.code,
                "kind": row.kind,
                "payload": content,
                "chain_hash": head,
            }
        )
        if row.legal_representative:
            terms.append(
                {
                    "organisation": row.code,
                    "opened": seq,
                    "person": row.legal_representative,
                    "valid_from": row.representative_since,
                    "valid_to": None,
                    "closed": None,
                }
            )
    for i in range(0, len(entries), 5000):
        conn.execute(registry.insert(), entries[i : i + 5000])
    for i in range(0, len(terms), 5000):
        conn.execute(tenures.insert(), terms[i : i + 5000])
    conn.execute(sa.delete(heads).where(heads.c.chain == "registry"))
    conn.execute(heads.insert().values(chain="registry", count=seq, head=head))


downgrade = no_downgrade  # the schema only moves forward (store.migrations.no_downgrade)
