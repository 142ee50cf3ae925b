"""Faults: real processes killed with SIGKILL mid-work, on SQLite and on a real PostgreSQL.

Why real processes and real signals: the promise is about what survives a crash (power cut, OOM
killer, an operator's kill -9), which no in-process exception can imitate. An ingest killed
mid-file must leave the ledger at a committed chunk boundary, so that re-running the same file
completes it with nothing lost and nothing doubled; an answered decision must already be in the
audit log when its answer leaves, so that killing the server cannot erase it.
"""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, func, select

from socialcredit.schemes import shipped_registry
from socialcredit.service import System
from socialcredit.store import Store
from socialcredit.store import tables as t
from tests.conftest import person
from tests.served import SOCIALCREDIT, cli_env, start_server

# real processes started and killed: out of the inner loop (pytest -m "not slow"), in CI
pytestmark = pytest.mark.slow

ROWS = 16_000
CHUNK = 250
KILL_AFTER = 3_000  # records committed before the kill lands


def committed(url: str) -> int:
    """Records committed so far, read on a connection of our own (no write lock taken)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(t.records)).scalar_one())
    finally:
        engine.dispose()


def big_file(path: Path) -> dict[str, Any]:
    """A JSON Lines agency file with valid rows, invalid rows and repeated lines, and what its
    complete ingestion must give."""
    lines: list[str] = []
    valid: set[str] = set()
    invalid = repeats = 0
    for i in range(ROWS):
        row: dict[str, Any] = {
            "subject": person(i),
            "item": "traffic.minor",
            "source": "traffic-police",
            "source_record_id": f"tp-{i}",
            "occurred_on": "2026-01-05",
        }
        if i % 7:  # every seventh row leaves reported_at to the time of receipt
            row["reported_at"] = "2026-01-06T08:00:00"
        if i % 97 == 0:
            row["subject"] = "12345"
            invalid += 1
        else:
            valid.add(row["source_record_id"])
        lines.append(json.dumps(row))
        if i % 53 == 1 and i % 97:  # the same valid row twice in the file
            lines.append(json.dumps(row))
            repeats += 1
    path.write_text("\n".join(lines) + "\n")
    return {"lines": len(lines), "valid": valid, "invalid": invalid, "repeats": repeats}


def test_ingest_killed_mid_file_then_rerun_loses_and_doubles_nothing(store_url: str, tmp_path: Path) -> None:
    Store(store_url).close()  # the tables exist before the poller looks
    f = tmp_path / "big.jsonl"
    want = big_file(f)
    env = cli_env(store_url, tmp_path / "home")
    cmd = [SOCIALCREDIT, "ingest", str(f), "--chunk-size", str(CHUNK), "--json"]

    first = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while committed(store_url) < KILL_AFTER:
        assert first.poll() is None, "the first ingest ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    assert first.wait(30) == -signal.SIGKILL
    assert first.stdout is not None and first.stdout.read() == b""  # it never got to report
    first.stdout.close()
    survived = committed(store_url)
    assert KILL_AFTER <= survived < len(want["valid"]), "the kill must land mid-file"

    store = Store(store_url)
    try:
        # the killed batch's counts were committed with its chunks: they match its records
        [killed] = [b for bs in store.batches_by_origin().values() for b in bs]
        assert killed["accepted"] == survived
        assert killed["submitted"] == killed["accepted"] + killed["duplicate"] + killed["quarantined"]
        assert store.verify_records() == []

        second = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
        assert second.returncode == 0, second.stderr
        out = json.loads(second.stdout)
        assert out["submitted"] == want["lines"]
        assert out["accepted"] == len(want["valid"]) - survived
        assert out["duplicate"] == survived + want["repeats"]
        assert out["quarantined"] == want["invalid"]

        # the agency's reference is sealed with the record (decision 0075): read opened
        opened = [r for page in store.iter_records() for r in page]
        ids = [r.source_record_id for r in opened]
        seqs = sorted(r.seq for r in opened)
        assert len(ids) == len(set(ids)) == len(want["valid"])  # none doubled
        assert set(ids) == want["valid"]  # none lost
        assert seqs == list(range(1, len(ids) + 1))
        assert store.head("records")[0] == len(ids)
        assert store.verify_records() == [] and store.verify_audit() == []
    finally:
        store.close()
    check = subprocess.run([SOCIALCREDIT, "verify", "--json"], env=env, capture_output=True, text=True)
    assert check.returncode == 0 and json.loads(check.stdout)["records"] == len(want["valid"])


@pytest.fixture
def served(store_url: str, tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A ``socialcredit serve`` subprocess on loopback over the test's store."""
    base, proc = start_server(cli_env(store_url, tmp_path / "home"))
    yield base, proc
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)


def test_answered_decisions_survive_a_killed_server(
    store_url: str, served: tuple[str, subprocess.Popen[bytes]]
) -> None:
    base, proc = served
    p = person(7)
    setup = System(Store(store_url), shipped_registry())
    try:
        setup.ingest(
            [
                (
                    1,
                    {
                        "subject": p,
                        "item": "court.dishonest.able-but-refuses",
                        "source": "court",
                        "source_record_id": "c-1",
                        "occurred_on": "2026-01-05",
                    },
                )
            ],
            origin="test",
            principal=setup.operator(),
        )
        token = setup.create_key("relying_party", "airlines").token
    finally:
        setup.store.close()

    answered: dict[str, str] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def ask(worker: int) -> None:
        with httpx.Client(base_url=base, headers={"X-API-Key": token}, timeout=10) as client:
            n = 0
            while not stop.is_set():
                n += 1
                purpose = f"ticket {worker}-{n}"
                body = {"subject": p if n % 2 else person(8), "measure": "no-flights", "purpose": purpose}
                try:
                    r = client.post("/decisions", json=body)
                except httpx.TransportError:
                    return  # the server died under us
                assert r.status_code == 200, r.text
                with lock:
                    answered[purpose] = r.json()["answer"]

    workers = [threading.Thread(target=ask, args=(w,)) for w in range(4)]
    for w in workers:
        w.start()
    deadline = time.monotonic() + 60
    while len(answered) < 150 and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)  # while requests are in flight
    assert proc.wait(10) == -signal.SIGKILL
    stop.set()
    for w in workers:
        w.join(30)
    assert len(answered) >= 150
    assert set(answered.values()) == {"allow", "deny"}

    store = Store(store_url)
    try:
        logged = {e["purpose"]: e["answer"] for e in store.audit_entries(limit=100_000)}
        assert store.verify_audit() == []
    finally:
        store.close()
    missing = [purpose for purpose in answered if purpose not in logged]
    assert missing == [], f"{len(missing)} answered decisions are not in the audit log"
    assert all(logged[purpose] == answer for purpose, answer in answered.items())
