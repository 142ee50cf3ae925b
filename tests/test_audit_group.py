"""Group commit of audit entries (store/auditwriter.py): under a concurrent burst every answered
decision has exactly one audit entry and the chain verifies; entries waiting together share a
transaction; one entry the store refuses fails only its own request; and a server killed in the
middle of a burst loses no decision it had answered."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from socialcredit.api import create_app
from socialcredit.api.limits import Limits
from socialcredit.schemes import shipped_registry
from socialcredit.service import Question, System
from socialcredit.store import Store
from socialcredit.store.auditwriter import AuditWriter
from tests.conftest import person
from tests.served import start_server, unlimited_env

SUBJECTS = [person(800 + i) for i in range(20)]


def purposes_logged(store: Store) -> list[str]:
    return [e["purpose"] for e in store.audit_entries(limit=10**6) if e["action"] == "decision"]


def test_a_concurrent_burst_leaves_exactly_one_entry_per_answer(system: System) -> None:
    op = system.operator()

    def ask(n: int) -> str:
        purpose = f"burst {n}"
        system.check(Question(SUBJECTS[n % len(SUBJECTS)], "no-flights", op, purpose=purpose))
        return purpose

    with ThreadPoolExecutor(16) as pool:
        answered = list(pool.map(ask, range(400)))
    logged = purposes_logged(system.store)
    assert sorted(logged) == sorted(answered)  # exactly one each, none extra
    assert system.verify()["audit"] == []


class SlowStore:
    """A store whose first commit takes a while, so entries pile up behind it."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.calls: list[int] = []

    def append_audit(self, entries: list[Mapping[str, Any]], *, durable: bool = False) -> None:
        if not self.calls:
            time.sleep(0.3)
        self.calls.append(len(entries))
        self.store.append_audit(entries, durable=durable)


def entry(purpose: str) -> dict[str, Any]:
    from socialcredit.service import utcnow

    return {"at": utcnow(), "action": "decision", "purpose": purpose, "detail": {}}


def test_entries_waiting_together_share_one_transaction(store: Store) -> None:
    slow = SlowStore(store)
    writer = AuditWriter(slow)
    first = writer.submit(entry("first"))
    time.sleep(0.05)  # the writer is now inside the slow first commit
    rest = [writer.submit(entry(f"e{i}")) for i in range(50)]
    for f in [first, *rest]:
        f.result(timeout=30)
    assert slow.calls == [1, 50]  # one transaction for all fifty that waited
    assert writer.groups == 2 and writer.entries == 51
    assert sorted(purposes_logged(store)) == sorted(["first", *(f"e{i}" for i in range(50))])
    assert store.verify_audit() == []


def test_no_future_completes_before_its_commit(store: Store) -> None:
    slow = SlowStore(store)
    writer = AuditWriter(slow)
    fut = writer.submit(entry("held"))
    time.sleep(0.1)
    assert not fut.done() and purposes_logged(store) == []
    fut.result(timeout=30)
    assert purposes_logged(store) == ["held"]


class PickyStore(SlowStore):
    def append_audit(self, entries: list[Mapping[str, Any]], *, durable: bool = False) -> None:
        if any(e["purpose"] == "refused" for e in entries):
            raise ValueError("refused")
        super().append_audit(entries, durable=durable)


def test_one_refused_entry_fails_only_its_own_request(store: Store) -> None:
    writer = AuditWriter(PickyStore(store))
    blocker = writer.submit(entry("first"))
    time.sleep(0.05)
    good = [writer.submit(entry(f"ok{i}")) for i in range(5)]
    bad = writer.submit(entry("refused"))
    blocker.result(timeout=30)
    for f in good:
        f.result(timeout=30)
    with pytest.raises(ValueError, match="refused"):
        bad.result(timeout=30)
    assert "refused" not in purposes_logged(store) and store.verify_audit() == []


def test_the_writer_thread_ends_when_idle_and_starts_again(store: Store) -> None:
    writer = AuditWriter(store, idle_seconds=0.05)
    writer.append(entry("one"))
    deadline = time.monotonic() + 5
    while writer._thread is not None:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    writer.append(entry("two"))
    assert purposes_logged(store) == ["two", "one"]


def test_concurrent_http_decisions_each_audited_once(system: System) -> None:
    app = create_app(
        system, limits=Limits(key_rate=1e9, key_burst=10**9, address_rate=1e9, address_burst=10**9)
    )
    token = system.create_key("relying_party", "airlines").token

    async def burst() -> list[str]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:

            async def one(n: int) -> str:
                purpose = f"http {n}"
                body = {"subject": SUBJECTS[n % len(SUBJECTS)], "measure": "no-flights", "purpose": purpose}
                r = await client.post("/decisions", json=body, headers={"X-API-Key": token})
                assert r.status_code == 200, r.text
                assert r.json()["answer"] == "allow" and r.json()["subject"].count("*") == 8
                return purpose

            return list(await asyncio.gather(*(one(n) for n in range(200))))

    answered = asyncio.run(burst())
    assert sorted(purposes_logged(system.store)) == sorted(answered)
    assert system.verify()["audit"] == []


@pytest.mark.slow  # a real server, killed
def test_a_killed_server_loses_no_answered_decision(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    setup = System(Store(url), shipped_registry())
    try:
        token = setup.create_key("relying_party", "airlines").token
    finally:
        setup.store.close()
    env = unlimited_env(url, tmp_path / "home")
    base, proc = start_server(env)
    answered: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(w: int) -> None:
        with httpx.Client(base_url=base, timeout=5) as c:
            n = 0
            while not stop.is_set():
                n += 1
                purpose = f"crash {w}-{n}"
                body = {
                    "subject": SUBJECTS[(w + n) % len(SUBJECTS)],
                    "measure": "no-flights",
                    "purpose": purpose,
                }
                try:
                    r = c.post("/decisions", json=body, headers={"X-API-Key": token})
                except httpx.TransportError:
                    return  # the server died with this request in flight: never acknowledged
                if r.status_code == 200:
                    with lock:
                        answered.append(purpose)

    threads = [threading.Thread(target=client, args=(w,)) for w in range(8)]
    try:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 20
        while len(answered) < 200 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)  # mid-burst, no shutdown
        proc.wait(30)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
        if proc.poll() is None:
            proc.kill()
    assert len(answered) >= 200
    store = Store(url)
    try:
        logged = set(purposes_logged(store))
        assert [p for p in answered if p not in logged] == []
        assert store.verify_audit() == []
    finally:
        store.close()


def test_serving_tunes_the_collector_and_puts_it_back(system: System) -> None:
    import gc

    from fastapi.testclient import TestClient

    from socialcredit.api.app import GC_THRESHOLD_SERVING

    before = gc.get_threshold()
    with TestClient(create_app(system)) as client:
        assert client.get("/health").status_code == 200
        assert gc.get_threshold() == GC_THRESHOLD_SERVING and gc.get_freeze_count() > 0
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0


def test_synced_commits_leave_the_wal_checkpoint_to_a_thread_of_their_own(tmp_path: Path) -> None:
    """The audit connection never checkpoints inside a commit a request waits for; its own
    thread does, every ``checkpoint_every`` commits, and ends when idle; past ``max_wal_pages``
    the committing connection completes one, so the WAL stays bounded; every entry committed is
    there, the chain intact."""
    from socialcredit.store.auditsqlite import DurableSqliteAudit

    path = tmp_path / "audit.db"
    store = Store(f"sqlite:///{path}")
    appender = DurableSqliteAudit(store, str(path), checkpoint_every=10)
    try:
        appender.checkpointer.idle_seconds = 0.05
        appender.checkpointer.max_wal_pages = 60
        assert appender._conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        for i in range(9):
            appender.append([entry(f"e{i}")])
        assert appender.checkpointer.runs == 0 and appender.checkpointer._thread is None
        page = appender._conn.execute("PRAGMA page_size").fetchone()[0]
        for i in range(9, 300):
            appender.append([entry(f"e{i}")])
            time.sleep(0.001)  # a paced load: the checkpoints find moments between commits
        deadline = time.monotonic() + 5
        while appender.checkpointer._thread is not None:  # ends when idle
            assert time.monotonic() < deadline
            time.sleep(0.01)
        assert appender.checkpointer.runs >= 20
        # without the checkpoints the WAL would hold every page of the 300 commits (3 or more each)
        # and without the commits completing them at least ~900 (one beside commits seldom does)
        assert os.path.getsize(f"{path}-wal") < 300 * page
        assert purposes_logged(store) == [f"e{i}" for i in reversed(range(300))]
        assert store.verify_audit() == []
    finally:
        appender.close()
        store.close()


def test_closing_the_store_leaves_nothing_only_in_the_write_ahead_log(tmp_path: Path) -> None:
    """A durable audit commit (its own connection, which never checkpoints by itself) and then
    ``Store.close``: the database file alone holds every row, as a copy by file needs."""
    import shutil
    import sqlite3

    from socialcredit.schemes import shipped_registry
    from socialcredit.service import System
    from socialcredit.store.sql import Store

    db = tmp_path / "a.db"
    system = System(Store(f"sqlite:///{db}"), shipped_registry())
    row = {"subject": person(5), "item": "traffic.red-light", "source": "traffic-police",
           "source_record_id": "tp-1", "occurred_on": "2026-05-01"}  # fmt: skip
    assert system.ingest([(1, row)], origin="t", principal=system.operator()).accepted == 1
    system.store.close()
    shutil.copyfile(db, tmp_path / "copy.db")  # the file alone, no -wal beside it
    conn = sqlite3.connect(tmp_path / "copy.db")
    try:
        assert conn.execute("SELECT count(*) FROM records").fetchone() == (1,)
        assert conn.execute("SELECT count(*) FROM audit WHERE action = 'ingest'").fetchone() == (1,)
    finally:
        conn.close()
