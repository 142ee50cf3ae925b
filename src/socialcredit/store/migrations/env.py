"""Alembic's environment: runs revisions on the connection the store hands over.

There is no ini file and no URL here: :func:`socialcredit.store.migrations.bring_up_to_date`
(or ``socialcredit db upgrade``) opens the database as the store does and passes its connection
in ``config.attributes``, so a migration runs inside that connection's transaction.
"""

from __future__ import annotations

from alembic import context

from socialcredit.store import tables as t

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable from the alembic command line
    raise SystemExit("run migrations with `socialcredit db upgrade`, which opens the database")
context.configure(
    connection=connection,
    target_metadata=t.metadata,
    # SQLite cannot ALTER most things; batch mode copies the table instead (same on PostgreSQL
    # as a plain ALTER).
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
