"""The audit log's (subject, at) index dropped: the person index serves it (decision 0100).

Revision 0018, after 0017. Every audit entry naming a subject is sealed (decision 0060; those
stored before 0011 are sealed when the store opens), so the partial index of 0017 on
(``coalesce(subject, principal)``, ``at``) over the sealed entries holds every entry a query by
subject reads, in the same order; ``AuditStore`` states its condition in those terms. Each
decision's entry then writes two random index keys instead of three, which was about a third of
a group commit's SQLite work. No row changes, so nothing a chain covers moves.
"""

from __future__ import annotations

from alembic import op

from socialcredit.store.migrations import no_downgrade

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # IF EXISTS: a database rebuilt from a later one's tables (as the tests of the earlier
    # revisions make theirs) has none
    op.execute("DROP INDEX IF EXISTS ix_audit_subject_at")


downgrade = no_downgrade  # the schema only moves forward (store.migrations.no_downgrade)
