"""A command run in process closes its store when it ends (cli/common.py ``open_system``).

Typer 0.29 runs on a copy of Click of its own; the installed Click's ``get_current_context``
never saw Typer's context, so the store was never closed and every in-process command left its
connections open: against one PostgreSQL server a run of commands ran out of connections, and on
SQLite the last commits stayed in the write-ahead log of a file still held open."""

from __future__ import annotations

from pathlib import Path

import psutil
from sqlalchemy import create_engine, text

from tests.support.cli import run


def _open_connections(store_url: str, home: Path) -> int:
    """The connections to the test's own databases: on PostgreSQL its database's sessions, on
    SQLite this process's open files under the test's home (the embedded default and its key
    store). Only the test's own: a store an earlier test left to the collector, closed while
    this one runs, once made the count fall (24 then 20) and the test fail by order."""
    if store_url.startswith("postgresql"):
        engine = create_engine(store_url)
        try:
            with engine.connect() as conn:
                return int(
                    conn.execute(
                        text(
                            "SELECT count(*) FROM pg_stat_activity"
                            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                        )
                    ).scalar_one()
                )
        finally:
            engine.dispose()
    me = psutil.Process()
    mine = str(home.resolve())
    return sum(
        1
        for f in me.open_files()
        if f.path.endswith((".db", ".sqlite", ".sqlite3")) and str(Path(f.path).resolve()).startswith(mine)
    )


def test_each_command_closes_its_store(env: Path, store_url: str) -> None:
    assert run("verify").exit_code == 0  # creates the store
    before = _open_connections(store_url, env)
    for _ in range(3):
        result = run("verify")
        assert result.exit_code == 0, result.output
    assert _open_connections(store_url, env) == before
