"""The database the previous release left (``tests/data/release-78452da``, written by
``scripts/release_fixture.py`` on that release's checkout), rebuilt in an empty database for the
upgrade tests (tests/test_migrations.py, tests/test_migrations_sealing.py)."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, MetaData, create_engine, text

RELEASE = Path(__file__).parents[1] / "data" / "release-78452da"


def replay_release(url: str) -> dict[str, list[dict[str, Any]]]:
    """Build, in an empty database, what the previous release left: its DDL, then its rows."""
    engine = create_engine(url)
    ddl = (RELEASE / f"schema.{engine.dialect.name}.sql").read_text()
    with gzip.open(RELEASE / "rows.json.gz", "rt") as f:
        rows: dict[str, list[dict[str, Any]]] = json.load(f)
    with engine.begin() as conn:
        for statement in ddl.split(";\n"):
            if statement.strip():
                conn.execute(text(statement))
        old = MetaData()
        old.reflect(conn)
        for name, table_rows in rows.items():
            table = old.tables[name]
            typed = [{k: _typed(table.c[k].type, v) for k, v in r.items()} for r in table_rows]
            if typed:
                conn.execute(table.insert(), typed)
    engine.dispose()
    return rows


def _typed(kind: Any, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(kind, DateTime):
        return dt.datetime.fromisoformat(value)
    if isinstance(kind, Date):
        return dt.date.fromisoformat(value)
    if isinstance(kind, Boolean):
        return bool(value)
    return value
