"""Write a database made by this release, as a test fixture for the next release's migrations.

Run on a release's checkout (before its schema changes), e.g. ``python scripts/release_fixture.py
tests/data/release-0f579c7``: it builds a small demo city on SQLite with a key, audited decisions
and a decided objection, then writes ``schema.<dialect>.sql`` (the DDL this release creates on
SQLite and on PostgreSQL) and ``rows.json.gz`` (every row of every table). ``tests/test_migrations.py``
replays them into an empty SQLite file and an empty PostgreSQL database and opens the result with
the current code, which must upgrade it in place and find every chain intact.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import sys
import tempfile
from pathlib import Path

from sqlalchemy import create_engine, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateIndex, CreateTable

from socialcredit.demo import run_demo
from socialcredit.schemes import shipped_registry
from socialcredit.service import Question, System
from socialcredit.store import tables as t
from socialcredit.store.sql import Store


def ddl(dialect: object) -> str:
    out = []
    for table in t.metadata.sorted_tables:
        out.append(str(CreateTable(table).compile(dialect=dialect)).strip() + ";")  # type: ignore[arg-type]
        for index in sorted(table.indexes, key=lambda i: str(i.name)):
            out.append(str(CreateIndex(index).compile(dialect=dialect)).strip() + ";")  # type: ignore[arg-type]
    return "\n\n".join(out) + "\n"


def main(target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/release.db"
        now = dt.datetime(2025, 7, 1, 4, 0)
        store = Store(url)
        system = System(store, shipped_registry(), clock=lambda: now)
        city = run_demo(system, residents=40, seed=7).city
        airline = system.create_key("relying_party", "airlines", name="China Eastern desk")
        principal = system.authenticate(airline.token)
        people = [s.code for s in city.subjects if s.kind == "person"]
        for code in people[:5]:
            system.check(Question(code, "no-flights", principal, purpose="ticket sale"))
        subject = next(c for c in people if store.records_for(c))
        record = store.records_for(subject)[0]
        objection = system.file_objection(
            principal=system.operator(by="Li Na"),
            subject=subject,
            record_id=record.record_id,
            statement="not me: the fine was paid",
        )
        system.decide_objection(
            principal=system.operator(by="Wang Fang"),
            objection_id=objection.id,
            upheld=True,
            reason="receipt shown",
        )
        store.close()
        engine = create_engine(url)
        rows: dict[str, list[dict[str, object]]] = {}
        with engine.connect() as conn:
            for table in t.metadata.sorted_tables:
                rows[table.name] = [
                    {k: (v.isoformat() if isinstance(v, (dt.date, dt.datetime)) else v) for k, v in m.items()}
                    for m in conn.execute(select(table).order_by(*table.primary_key.columns)).mappings()
                ]
            sqlite_ddl = [
                s
                for (s,) in conn.execute(
                    text("select sql from sqlite_master where sql is not null order by rowid")
                )
            ]
        engine.dispose()
    (target / "schema.sqlite.sql").write_text(";\n\n".join(sqlite_ddl) + ";\n")
    (target / "schema.postgresql.sql").write_text(ddl(postgresql.dialect()))
    with gzip.open(target / "rows.json.gz", "wt") as f:
        json.dump(rows, f, sort_keys=True)
    sys.stdout.write(json.dumps({k: len(v) for k, v in rows.items()}) + "\n")  # what was written


if __name__ == "__main__":
    main(Path(sys.argv[1]))
