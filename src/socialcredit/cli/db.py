"""The database's schema: ``db status`` (its revision against this release's) and ``db upgrade``.

Opening a store upgrades it anyway (``store/migrations``); these commands let an operator see and
run that step on purpose, for example once before starting several ``serve`` workers.
"""

from __future__ import annotations

import typer
from pydantic import BaseModel
from sqlalchemy import create_engine

from socialcredit.cli.common import JsonOpt, app, cannot_open, emit, fail, say
from socialcredit.i18n import N_
from socialcredit.settings import get_settings
from socialcredit.store import migrations

db_app = typer.Typer(help="The database's schema revision, and its upgrade in place.", no_args_is_help=True)
app.add_typer(db_app, name="db")


class SchemaOut(BaseModel):
    """A database's schema revision beside the one this release needs."""

    database: str | None
    """``null``: an empty database."""
    release: str
    current: bool


def _status() -> SchemaOut:
    url = get_settings().url()
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            found, recorded = migrations.recorded_revision(conn)
    except Exception as exc:  # a database that cannot be opened is the user's to fix
        cannot_open(url, exc)
    finally:
        engine.dispose()
    return SchemaOut(database=found, release=migrations.HEAD, current=recorded and found == migrations.HEAD)


@db_app.command("status")
def status(as_json: JsonOpt = False) -> None:
    """Show the database's schema revision and this release's. Exit 1 if an upgrade is due."""
    s = _status()
    if as_json:
        emit(s)
    elif s.database is None:
        say(N_("empty database; `socialcredit db upgrade` creates schema {release}", release=s.release))
    elif s.current:
        say(N_("schema {schema}: current", schema=s.database))
    elif s.database == migrations.HEAD:
        say(
            N_(
                "schema {schema}, not yet recorded in the database: run `socialcredit db upgrade`",
                schema=s.database,
            )
        )
    else:
        say(
            N_(
                "schema {schema}; this release needs {release}: run `socialcredit db upgrade`",
                schema=s.database,
                release=s.release,
            )
        )
    raise typer.Exit(0 if s.current else 1)


@db_app.command("upgrade")
def upgrade(as_json: JsonOpt = False) -> None:
    """Create the schema, or upgrade the database's in place to this release's (one transaction)."""
    url = get_settings().url()
    engine = create_engine(url)
    try:
        found = migrations.bring_up_to_date(engine)
    except migrations.SchemaTooNew as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    s = SchemaOut(database=migrations.HEAD, release=migrations.HEAD, current=True)
    if as_json:
        emit(s)
    elif found == migrations.HEAD:
        say(N_("schema {schema}: already current", schema=found))
    else:
        say(N_("schema {schema} upgraded to {head}", schema=found or "none", head=migrations.HEAD))
