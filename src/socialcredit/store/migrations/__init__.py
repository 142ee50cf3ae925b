"""Versioned schema migrations (Alembic): every database is brought to this release's schema.

Why Alembic, and why at open: an installation's database outlives the release that made it, and
the ledger in it must never be rebuilt (its chains are its evidence). So a schema change ships as a
revision in ``versions/``, and :func:`bring_up_to_date` runs when a store is opened:

- an empty database gets the current schema at once (``metadata.create_all``) and is stamped with
  the newest revision (``tests/test_migrations.py`` checks that replaying every revision from
  nothing gives the same schema);
- a database made before migrations existed (the tables of release 78452da, no
  ``alembic_version``) is stamped with the baseline and upgraded;
- a database at an older revision is upgraded in place, in one transaction;
- a database made by a newer release (a revision this code does not know) is refused, naming both,
  rather than used by code that does not know its shape.

On PostgreSQL the whole step holds an advisory lock, so workers started together upgrade once.
``socialcredit db current`` and ``socialcredit db upgrade`` show and run the same thing by hand
(docs/decisions/0032-schema-migrations.md).
"""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Engine, MetaData, String, Table, inspect, text
from sqlalchemy.engine import Connection

from socialcredit.errors import Conflict
from socialcredit.store import tables as t

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
BASELINE = "0001"
"""The schema of the last release made without migrations (78452da)."""
HEAD = "0018"
"""The newest revision: what this code reads and writes. A test holds it to ``versions/``'s head,
so the cheap check at open (one ``SELECT``) needs no scan of the revision files."""
LOCK_KEY = 0x5C0DE_0001
"""The PostgreSQL advisory lock taken while checking or upgrading (any constant; one per app)."""


class SchemaTooNew(Conflict):
    """The database was made by a newer release than this code."""


class NoDowngrade(Conflict):
    """A downgrade was asked for: the schema only moves forward."""


def no_downgrade() -> None:
    """Every revision's ``downgrade``, on purpose: a ledger is evidence, so an older schema is
    reached by restoring a backup taken before the upgrade (``socialcredit restore``), never by
    dropping the tables and rows a later release wrote."""
    raise NoDowngrade(
        "socialcredit does not downgrade a database: restore a backup taken before the upgrade",
        field="database",
    )


def config(connection: Connection | None = None) -> Config:
    """An Alembic configuration without an ini file, pointing at this package's revisions."""
    cfg = Config()
    cfg.set_main_option("script_location", str(HERE))
    cfg.attributes["connection"] = connection
    return cfg


def revisions() -> list[str]:
    """Every known revision, oldest first."""
    script = ScriptDirectory.from_config(config())
    return [r.revision for r in reversed(list(script.walk_revisions()))]


def current(conn: Connection) -> str | None:
    """The database's revision: ``None`` for an empty database, :data:`BASELINE` for one made
    before migrations existed."""
    return recorded_revision(conn)[0]


def recorded_revision(conn: Connection) -> tuple[str | None, bool]:
    """The revision, and whether the database records it (those of 78452da do not)."""
    names = set(inspect(conn).get_table_names())
    if VERSION.name in names:
        rev = MigrationContext.configure(conn).get_current_revision()
        if rev is not None:
            return rev, True
    return (BASELINE if t.records.name in names else None), False


def bring_up_to_date(engine: Engine) -> str | None:
    """Create or upgrade the schema to :data:`HEAD`; returns the revision found (``None``: empty)."""
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
        found, recorded = recorded_revision(conn)
        if found == HEAD and recorded:
            return found
        if found is None:
            t.metadata.create_all(conn)
            _stamp(conn, HEAD)
            return None
        if found not in revisions():
            raise SchemaTooNew(
                f"the database is at schema revision {found}, made by a newer release than this "
                f"one (which knows up to {HEAD}); upgrade socialcredit to open it",
                field="database",
            )
        if not recorded:
            _stamp(conn, found)
        if found != HEAD:
            log.warning("upgrading the database schema from revision %s to %s", found, HEAD)
            command.upgrade(config(conn), HEAD)
        return found


VERSION = Table("alembic_version", MetaData(), Column("version_num", String(32), primary_key=True))
"""Alembic's own version table, written directly when a new database is stamped: reading the
revision files for that would cost every new store (every test) a few milliseconds."""


def _stamp(conn: Connection, revision: str) -> None:
    VERSION.create(conn, checkfirst=True)
    conn.execute(VERSION.delete())
    conn.execute(VERSION.insert().values(version_num=revision))


def drop_version(engine: Engine) -> None:
    """Forget the revision (with every table dropped, the database is empty again)."""
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
