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

from sqlalchemy import Connection, create_engine, select, text

from socialcredit import access
from socialcredit.schemes import shipped_registry
from socialcredit.service import System
from socialcredit.store import migrations
from socialcredit.store import tables as t
from socialcredit.store.audit import AuditStore, about
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
            assert migrations.current(conn) == migrations.HEAD
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


def index_names(conn: Connection) -> set[str]:
    """The audit table's indexes by name (SQLAlchemy does not reflect an expression index)."""
    if conn.dialect.name == "sqlite":
        q = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit'"
    else:
        q = "SELECT indexname FROM pg_indexes WHERE tablename = 'audit'"
    return {str(r[0]) for r in conn.execute(text(q))}


def subject_plan(conn: Connection, pseudonym: str) -> str:
    """The plan of a subject's entries as "who asked about me" reads them (``audit.about``)."""
    q = select(t.audit.c.seq).where(about(pseudonym), t.audit.c.at <= dt.datetime(2030, 1, 1))
    compiled = q.compile(dialect=conn.dialect)
    if conn.dialect.name == "sqlite":
        params = tuple(compiled.params[k] for k in compiled.positiontup or ())
        rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + compiled.string, params)
        return "\n".join(str(r[-1]) for r in rows)
    conn.exec_driver_sql("SET enable_seqscan = off")
    return "\n".join(str(r[0]) for r in conn.exec_driver_sql("EXPLAIN " + compiled.string, compiled.params))


def test_a_database_of_0017_loses_the_subject_index_and_the_person_index_serves_subjects(
    store_url: str,
) -> None:
    """Revision 0018 (decision 0100): a decision writes two random index keys, not three; every
    query by subject still reads an index (the person index) and answers as before."""
    clock = Clock(dt.datetime(2026, 3, 2, 10))
    looked, self_reader = person(97), person(98)
    store = Store(store_url)
    try:
        system = System(store, shipped_registry(), clock=clock)
        op = system.operator()
        system.read(looked, op, purpose="credit check")
        clock.advance(days=1)
        system.read(looked, op, purpose="again")
        system.read(self_reader, access.Principal("k-s", "subject", self_reader), purpose="my page")
        before = system.looks_about(access.Principal("k-l", "subject", looked), looked)
        pseudonym = store.sealing.pseudonym(looked)
    finally:
        store.close()
    engine = create_engine(store_url)
    with engine.begin() as conn:  # 0017's schema: the (subject, at) index of the baseline
        conn.execute(text("CREATE INDEX ix_audit_subject_at ON audit (subject, at)"))
        conn.execute(text("UPDATE alembic_version SET version_num = '0017'"))
    engine.dispose()
    store = Store(store_url)  # opening it upgrades it
    try:
        with store.engine.connect() as conn:
            assert migrations.current(conn) == migrations.HEAD
            names = index_names(conn)
            assert "ix_audit_subject_at" not in names and "ix_audit_decision_id" in names
            used = subject_plan(conn, pseudonym)
        assert INDEX in used, used
        system = System(store, shipped_registry(), clock=clock)
        after = system.looks_about(access.Principal("k-l", "subject", looked), looked)
        assert after == before
        assert [e["purpose"] for e in after[0]] == ["again", "credit check"]
        assert store.looks_after(looked, dt.datetime(2026, 3, 2, 12)) == 1
        assert [e["subject"] for e in store.audit_entries(subject=looked)] == [looked, looked]
        assert [e["subject"] for e in store.audit_entries(subject=self_reader)] == [self_reader]
        assert system.verify()["audit"] == []
    finally:
        store.close()
