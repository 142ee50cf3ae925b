"""The lookups-only retention query reads one index (decision 0094, revision 0017), on SQLite
and PostgreSQL.

Issue 21 point 2: "`socialcredit retention run` ... destroys a key when every record under it has
passed its retention period plus the scheme's archive period". A person only looked up loses
their audit key once their newest entry is past the archive period (decision 0071); finding
them grouped every sealed audit entry by person, which SQLite sorted in a temporary B-tree each
run (decision 0086). Revision 0017 adds a partial index on (person, time); a database of 0016
gets it when opened, and the query's plan reads it.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, create_engine, text

from socialcredit.schemes import shipped_registry
from socialcredit.service import System
from socialcredit.store import migrations
from socialcredit.store.audit import AuditStore
from socialcredit.store.sql import Store
from tests.conftest import Clock, person
from tests.support.records import red_light

INDEX = "ix_audit_person_at"


def plan(conn: Connection, before: dt.datetime) -> str:
    """The database's own plan of the stale-keys query (SQLite's ``EXPLAIN QUERY PLAN``,
    PostgreSQL's ``EXPLAIN``), as one text."""
    compiled = AuditStore.stale_audit_query(before).compile(dialect=conn.dialect)
    if conn.dialect.name == "sqlite":
        params = tuple(str(compiled.params[k]) for k in compiled.positiontup or ())
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + compiled.string, params)
        return "\n".join(str(r[-1]) for r in rows)
    # the test's few rows are cheaper to read whole: ask for the plan an audit log of millions
    # gets, where a sequential scan and a sort of every entry is what the index saves
    conn.exec_driver_sql("SET enable_seqscan = off")
    conn.exec_driver_sql("SET enable_sort = off")
    return "\n".join(str(r[0]) for r in conn.exec_driver_sql("EXPLAIN " + compiled.string, compiled.params))


def index_sql(conn: Connection) -> str:
    """The index's definition as the database keeps it (neither reflects an expression index)."""
    if conn.dialect.name == "sqlite":
        q = "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = :n"
    else:
        q = "SELECT indexdef FROM pg_indexes WHERE indexname = :n"
    return str(conn.execute(text(q), {"n": INDEX}).scalar_one())


def test_a_database_of_0016_gets_the_index_and_the_stale_keys_query_uses_it(store_url: str) -> None:
    clock = Clock(dt.datetime(2026, 3, 2, 10))
    recorded, looked, later = person(94), person(95), person(96)
    store = Store(store_url)
    try:
        system = System(store, shipped_registry(), clock=clock)
        op = system.operator()
        sent = [(1, red_light(recorded, "ix-1", "2026-03-01"))]
        assert system.ingest(sent, origin="t", principal=op).accepted == 1
        for code in (recorded, looked):
            system.read(code, op, purpose="credit check")
        clock.advance(days=400)
        system.read(later, op, purpose="credit check")
        pseudonym = store.sealing.pseudonym
    finally:
        store.close()
    engine = create_engine(store_url)
    with engine.begin() as conn:  # the previous release's schema: 0016, without the index
        conn.execute(text(f"DROP INDEX {INDEX}"))
        conn.execute(text("UPDATE alembic_version SET version_num = '0016'"))
    with engine.connect() as conn:
        old = plan(conn, clock.now)
    engine.dispose()
    assert INDEX not in old
    if store_url.startswith("sqlite"):
        assert "USE TEMP B-TREE FOR GROUP BY" in old, old  # what 0086 measured

    store = Store(store_url)  # opening it upgrades it
    try:
        with store.engine.connect() as conn:
            assert migrations.current(conn) == migrations.HEAD == "0017"
            ddl = index_sql(conn)
            now = plan(conn, clock.now)
        assert INDEX in now, now
        if store_url.startswith("sqlite"):
            assert "TEMP B-TREE" not in now, now  # grouped in the index's order: no sort
            assert f"SCAN audit USING INDEX {INDEX}" in now, now  # one pass in the index's order
        # the same answer as before the index: the one only looked up and past the cut, not the
        # recorded person (their key goes with their records') nor the one looked up since
        stale = store.stale_audit_keys(clock.now - dt.timedelta(days=200))
        assert [p for p, _ in stale] == [pseudonym(looked)]
        assert "coalesce(" in ddl.lower() and "sealed is not null" in ddl.lower(), ddl  # partial
    finally:
        store.close()
