"""One contract for every dialect (``store/dialect.py``): each backend runs the same assertions.

The ``store`` fixture is parametrised over SQLite and a real PostgreSQL (``tests/conftest.py``),
so every test of :class:`TestDialectContract` runs once per backend, as eventsourcing subclasses
one abstract recorder test per database; nothing here asks which backend it is on. Storage
tests run on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from socialcredit.dueprocess.cases import CaseEvent
from socialcredit.service import System
from socialcredit.store import Store
from socialcredit.store import tables as t
from socialcredit.store.dialect import MERGE_BY_COPY, PostgresDialect, SqliteDialect, dialect_for
from tests.conftest import person

AT = dt.datetime(2026, 11, 2, 10, 0, 0, 123456)


def _ingest(system: System, n: int = 3) -> list[str]:
    rows = [
        (
            i + 1,
            {
                "subject": person(i),
                "item": "traffic.minor",
                "source": "traffic-police",
                "source_record_id": f"tp-{i}",
                "occurred_on": "2026-05-01",
            },
        )
        for i in range(n)
    ]
    assert system.ingest(rows, origin="t", principal=system.operator()).accepted == n
    return [system.store.stored_record_id("traffic-police", f"tp-{i}") for i in range(n)]


def _case_event(n: int) -> CaseEvent:
    return CaseEvent(f"case-{n}", "objection", "filed", AT, person(n), None, "subject", {}, 0)


class TestDialectContract:
    def test_a_time_bound_through_the_dialect_reads_back_as_sqlalchemy_stored_it(self, store: Store) -> None:
        d = store.dialect
        with store.engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO batches (batch_id, origin, received_at, submitted, accepted, duplicate, "
                f"quarantined) VALUES ({', '.join([d.mark] * 7)})",
                ("b1", "test", d.ts(AT), 0, 0, 0, 0),
            )
        batch = store.batch("b1")
        assert batch is not None and batch["received_at"] == AT
        with d.raw_read(store.reader) as cur:
            cur.execute(f"SELECT received_at FROM batches WHERE batch_id = {d.mark}", ("b1",))
            (raw,) = cur.fetchone()
        assert isinstance(raw, str) == d.driver_gives_text
        assert d.read_ts(raw) == AT and d.read_ts(None) is None and d.read_date(None) is None

    def test_stored_rows_read_back_through_the_driver_as_the_records_were(self, system: System) -> None:
        store = system.store
        d = store.dialect
        (rid,) = _ingest(system, 1)
        record = store.record(rid)
        assert record is not None
        with d.raw_read(store.reader) as cur:
            cur.execute(
                f"SELECT occurred_on, reported_at, reported_given, received_at FROM records "
                f"WHERE record_id = {d.mark}",
                (rid,),
            )
            occurred, reported, given, received = cur.fetchone()
        assert (type(given) is int) == d.driver_gives_text  # 0 or 1, or a bool
        assert d.read_date(occurred) == record.occurred_on
        assert d.read_ts(reported) == record.reported_at and d.read_ts(received) == record.received_at
        assert bool(given) == record.reported_given
        assert store.verify_records() == []

    def test_one_list_parameter_finds_exactly_the_ids_given(self, system: System) -> None:
        store = system.store
        d = store.dialect
        ids = _ingest(system, 3)
        sql = f"SELECT record_id FROM records WHERE {d.in_list('record_id')}"
        with store.reader.connect() as conn:
            found = {r for (r,) in conn.exec_driver_sql(sql, (d.in_list_param([ids[0], ids[2], "none"]),))}
            nothing = list(conn.exec_driver_sql(sql, (d.in_list_param(["none"]),)))
        assert found == {ids[0], ids[2]} and nothing == []

    def test_a_chain_head_locked_for_update_holds_back_a_second_writer(self, store: Store) -> None:
        done = threading.Event()

        def second() -> None:
            store.append_case_event(_case_event(2))
            done.set()

        with store.engine.begin() as conn:
            count, _ = conn.execute(
                store.dialect.for_update(
                    select(t.chain_heads.c.count, t.chain_heads.c.head).where(
                        t.chain_heads.c.chain == "cases"
                    )
                )
            ).one()
            writer = threading.Thread(target=second)
            writer.start()
            assert not done.wait(0.5)  # waiting for this transaction's lock
            store.dialect.lock_table(conn, "subject_numbers")  # another lock, in the same transaction
        writer.join(30)
        assert done.is_set() and count == 0
        assert store.head("cases")[0] == 1 and store.verify_cases() == []

    def test_a_snapshot_sees_one_moment_while_a_writer_runs(self, store: Store) -> None:
        def count(conn: Any) -> int:
            return int(conn.execute(select(func.count()).select_from(t.case_events)).scalar_one())

        store.append_case_event(_case_event(1))
        writer = threading.Thread(target=store.append_case_event, args=(_case_event(2),))
        conn = store.dialect.snapshot(store.engine.connect())
        try:
            conn.begin()
            first = count(conn)
            writer.start()
            time.sleep(0.3)  # the writer commits (or waits for the snapshot to end)
            assert count(conn) == first == 1
        finally:
            conn.rollback()
            conn.close()
        writer.join(30)
        assert store.head("cases")[0] == 2

    def test_a_raw_read_ends_its_transaction(self, store: Store) -> None:
        d = store.dialect
        for expected in (0, 1):
            with d.raw_read(store.reader) as cur:
                cur.execute("SELECT count(*) FROM case_events")
                assert cur.fetchone()[0] == expected
            store.append_case_event(_case_event(expected))  # not held back by the read

    def test_rows_loaded_with_their_ids_leave_ordinary_inserts_working(self, store: Store) -> None:
        with store.engine.begin() as conn:
            conn.execute(
                t.quarantine.insert(),
                [
                    {"id": i, "batch_id": "b", "row_number": i, "raw": "{}", "reasons": "[]"}
                    for i in (1, 2, 3)
                ],
            )
            store.dialect.after_load(conn, [t.quarantine, t.records])
            new = conn.execute(
                t.quarantine.insert().values(batch_id="b", row_number=4, raw="{}", reasons="[]")
            ).inserted_primary_key
        assert new is not None and new[0] == 4

    @pytest.mark.parametrize("n", [3, MERGE_BY_COPY + 5])  # executemany, and COPY on PostgreSQL
    def test_a_merge_inserts_new_keys_and_updates_or_keeps_existing_rows(self, store: Store, n: int) -> None:
        d = store.dialect
        tomb = "epoch = decision_state.epoch + 1, payload = NULL"
        first = [(f"s{i:04d}", 1, "kept") for i in range(n)]
        cols = ("subject", "epoch", "payload")
        with store.engine.begin() as conn:
            assert d.merge_rows(conn, "decision_state", cols, first, key=("subject",), update=tomb) == n
        # half of them again and as many new, twice in one transaction (the scratch table is
        # made again), then again leaving what is there
        again = [(f"s{i:04d}", 1, "new") for i in range(n // 2, n + n // 2)]
        with store.engine.begin() as conn:
            assert d.merge_rows(conn, "decision_state", cols, again, key=("subject",), update=tomb) == n
            assert d.merge_rows(conn, "decision_state", cols, again[::-1], key=("subject",), update=tomb) == n
            assert d.merge_rows(conn, "decision_state", cols, again + again, key=("subject",)) == 0
        with store.reader.connect() as conn:
            got = dict(conn.execute(select(t.decision_state.c.subject, t.decision_state.c.epoch)).all())
            payloads = dict(
                conn.execute(select(t.decision_state.c.subject, t.decision_state.c.payload)).all()
            )
        assert got == {f"s{i:04d}": (1 if i < n // 2 else 3 if i < n else 2) for i in range(n + n // 2)}
        assert payloads == {f"s{i:04d}": ("kept" if i < n // 2 else None) for i in range(n + n // 2)}

    def test_a_failed_merge_leaves_nothing(self, store: Store) -> None:
        d = store.dialect
        rows = [(f"s{i:04d}", 1) for i in range(MERGE_BY_COPY + 1)] + [("last", None)]  # no epoch
        # the driver's own error on PostgreSQL's COPY path, SQLAlchemy's on the others
        with pytest.raises(Exception, match="(?i)null"), store.engine.begin() as conn:
            d.merge_rows(conn, "decision_state", ("subject", "epoch"), rows, key=("subject",))
        with store.reader.connect() as conn:
            assert conn.execute(select(func.count()).select_from(t.decision_state)).scalar_one() == 0

    def test_a_durable_audit_append_is_on_the_chain(self, store: Store) -> None:
        appender = store.dialect.durable_audit(store)
        assert (appender is None) == (store.dialect.file is None)
        entry = {"at": AT, "action": "decision", "purpose": "durable", "detail": {"a": 1}}
        store.append_audit([entry, {**entry, "purpose": "again"}], durable=True)
        assert [e["purpose"] for e in store.audit_entries()] == ["again", "durable"]
        assert store.head("audit")[0] == 2 and store.verify_audit() == []

    def test_the_database_file_is_the_one_the_store_writes(self, store: Store) -> None:
        path = store.dialect.file
        if path is None:
            return  # a server: nothing beside the pool may open it
        store.append_case_event(_case_event(1))
        with sqlite3.connect(path) as conn:
            assert conn.execute("SELECT count FROM chain_heads WHERE chain = 'cases'").fetchone() == (1,)


@pytest.mark.parametrize(
    "url, file",
    [
        ("sqlite:///{tmp}/a.db", "{tmp}/a.db"),
        ("sqlite:///:memory:", None),
        ("sqlite://", None),
        ("sqlite:///{tmp}/a.db?mode=ro", None),
        ("postgresql+psycopg://u@/db?host=/tmp", None),
    ],
)
def test_which_database_file_a_url_names(url: str, file: str | None, tmp_path: Path) -> None:
    d = dialect_for(url.format(tmp=tmp_path))
    assert d.file == (file.format(tmp=tmp_path) if file else None)
    assert isinstance(d, SqliteDialect if url.startswith("sqlite") else PostgresDialect)
