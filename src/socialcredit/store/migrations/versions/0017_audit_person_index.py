"""An index on the audit log's person and time for the lookups-only retention query (decision 0094).

Revision 0017, after 0016. ``retention run`` finds each person only looked up whose newest sealed
audit entry is past the archive period (``AuditStore.stale_audit_keys``, decision 0071) by
grouping the sealed entries by person, ``coalesce(subject, principal)``. With no index on that
expression SQLite sorted every sealed entry in a temporary B-tree each run (decision 0086). This
adds a partial expression index on (person, ``at``) over the sealed entries, on SQLite and
PostgreSQL alike; no row changes, so nothing a chain covers moves.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from socialcredit.store.migrations import no_downgrade

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    columns: list[sa.ColumnClause[object]] = [
        sa.column(name) for name in ("subject", "principal", "at", "sealed")
    ]
    audit = sa.table("audit", *columns)
    op.create_index(
        "ix_audit_person_at",
        "audit",
        [sa.func.coalesce(audit.c.subject, audit.c.principal), audit.c.at],
        sqlite_where=audit.c.sealed.is_not(None),
        postgresql_where=audit.c.sealed.is_not(None),
    )


downgrade = no_downgrade  # the schema only moves forward (store.migrations.no_downgrade)
