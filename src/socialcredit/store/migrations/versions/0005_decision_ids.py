"""Decision ids indexed: ``GET /decisions/{id}`` and ``check --receipt`` find a decision's audit
entry by an index instead of scanning every decision's detail.

Revision 0005, after 0004. Adds ``audit.decision_id`` (nullable: only decisions have one) and its
index, and backfills it from the receipts already kept in the decisions' details (decisions made
since receipts existed; older ones have none). The column is derived from the chained detail and
is not part of any entry's hash, so filling it alters no chain (docs/decisions/0041-...). The
receipts are read here with ``json`` rather than through the store's code, so this revision keeps
meaning what it meant when written.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from socialcredit.store.migrations import no_downgrade

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

BATCH = 1000


def upgrade() -> None:
    op.add_column("audit", sa.Column("decision_id", sa.String(length=24), nullable=True))
    op.create_index("ix_audit_decision_id", "audit", ["decision_id"], unique=False)
    audit = sa.table(
        "audit",
        sa.column("seq", sa.BigInteger()),
        sa.column("action", sa.String()),
        sa.column("detail", sa.Text()),
        sa.column("decision_id", sa.String()),
    )
    conn = op.get_bind()
    found: list[dict[str, object]] = []
    rows = conn.execute(
        sa.select(audit.c.seq, audit.c.detail)
        .where(audit.c.action == "decision", audit.c.detail.like('%"decision_id"%'))
        .order_by(audit.c.seq)
    ).all()
    for seq, detail in rows:
        receipt = json.loads(detail).get("receipt")
        ident = receipt.get("decision_id") if isinstance(receipt, dict) else None
        if isinstance(ident, str):
            found.append({"s": seq, "d": ident})
    update = audit.update().where(audit.c.seq == sa.bindparam("s")).values(decision_id=sa.bindparam("d"))
    for start in range(0, len(found), BATCH):
        conn.execute(update, found[start : start + BATCH])


downgrade = no_downgrade  # the schema only moves forward (store.migrations.no_downgrade)
