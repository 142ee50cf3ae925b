"""One public rescore per installation, in a process of its own (issue 20 points 3 and 6;
docs/decisions/0087-one-public-rescore.md). ``serve`` starts the rescorer; workers follow the
snapshot it writes, so N workers no longer scan the population N times, and none shares its
interpreter with a scan. Run on SQLite and PostgreSQL: in process (a keeping system and a
following one on one store), and as a real ``serve --workers 2``."""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from socialcredit.schemes import shipped_registry
from socialcredit.service import System
from socialcredit.store import Store, SubjectRow
from socialcredit.store.rescorelock import rescorer_lock
from tests.conftest import Clock, person
from tests.served import cli_env, start_server
from tests.support.prepared import Prepared
from tests.support.publiccity import COURT_LIST, Reads, build_city
from tests.support.workers import connections_per_worker, request, worker_pids

RESCORED = re.compile(r"public rescore: (\d+) subjects as of (\S+)")
"""The line the rescorer logs after each full rescore (``Disclosure._compute``)."""


@pytest.fixture
def city(store_url: str, prepared: Prepared) -> dict[str, Any]:
    """The 300-resident demo city of tests/test_public_start.py, rescored once, in the test's
    own database (the same prepared copy)."""
    return prepared.copy("public-start-city", [store_url], build_city)


def debtor_row(n: int, day: dt.date) -> dict[str, Any]:
    """A record that puts a new debtor on the court's list (SPC Provisions 2017, Art. 1 (1))."""
    return {
        "subject": person(n),
        "item": "court.dishonest.able-but-refuses",
        "source": "court",
        "source_record_id": f"rescorer-{n}",
        "occurred_on": (day - dt.timedelta(days=3)).isoformat(),
        "reported_at": f"{day - dt.timedelta(days=1)}T09:00",
        "details": {"case_number": f"(2026) Lu 1082 Zhi {n}", "court": "Rongcheng People's Court"},
    }


def test_a_follower_serves_the_keepers_snapshots_and_scans_nothing(
    city: dict[str, Any], store_url: str, clock: Clock
) -> None:
    """A worker (``follow``) serves what the rescorer (``keep``) writes: the start's rescore as
    current once it is kept, and a record ingested through the worker within the freshness, with
    no population read in the worker at all."""
    keeper = System(Store(store_url), shipped_registry(), clock=clock)
    worker = System(Store(store_url), shipped_registry(), clock=clock)
    reads = Reads(worker.store)
    stop = threading.Event()
    clock.advance(days=1)  # the city's snapshot is of yesterday: served labelled until rescored
    try:
        worker.disclosure.follow()
        first = worker.transparency()
        assert first["rescore_of"] is not None and first["lists"] == city["report"]["lists"]
        kept_before = worker.store.snapshot_mark("public")
        keeping = threading.Thread(target=keeper.disclosure.keep, args=(stop, 0.05), daemon=True)
        keeping.start()
        deadline = time.monotonic() + 120
        while worker.store.snapshot_mark("public") == kept_before:
            assert time.monotonic() < deadline, "the keeper kept no snapshot"
            time.sleep(0.05)
        live = worker.transparency()
        assert live["rescore_of"] is None and live["lists"] == city["report"]["lists"]
        page = worker.public_page(COURT_LIST, per_page=500)
        assert page.rescore_of is None and page.rows == city["court"]

        worker.register([SubjectRow(person(9101), "person", "Rescorer Debtor")])
        accepted = worker.ingest(
            [(1, debtor_row(9101, clock().date()))], origin="court", principal=worker.operator()
        )
        assert accepted.accepted == 1, accepted
        written = time.monotonic()
        while True:
            page = worker.public_page(COURT_LIST, search="Rescorer Debtor")
            if page.rescore_of is None and page.rows:
                break
            assert time.monotonic() - written < 1.0, "the write was not followed within a second"
            time.sleep(0.02)
        assert [r["name"] for r in page.rows] == ["Rescorer Debtor"]
        court = worker.transparency()["lists"][COURT_LIST]
        assert court == city["report"]["lists"][COURT_LIST] + 1
        assert reads.on_request == [] and reads.in_background == []  # the worker scanned nothing
    finally:
        stop.set()
        keeper.store.close()
        worker.store.close()


def test_one_rescorer_lock_per_database(store: Store) -> None:
    """Two processes' rescorers on one database: the second waits for the first's lock (an
    advisory lock on PostgreSQL, a file lock beside SQLite), and takes it once it is released."""
    first, second = rescorer_lock(store), rescorer_lock(store)  # each its own file or session
    try:
        assert first.try_acquire() and first.try_acquire()  # held: asking again is still held
        assert not second.try_acquire()
        first.release()
        assert second.try_acquire()
        assert not first.try_acquire()
    finally:
        first.release()
        second.release()


class Served:
    """A ``serve --workers 2`` whose log (its stderr, the rescorer's too) is kept in a file."""

    def __init__(self, store_url: str, home: Path) -> None:
        setup = System(Store(store_url), shipped_registry())
        try:
            self.court = setup.create_key("agency", "court").token
        finally:
            setup.store.close()
        self.log = home.parent / "serve.log"
        self.base, self.proc = start_server(
            cli_env(store_url, home), 180, args=("--workers", "2"), log=self.log
        )
        self.port = int(self.base.rsplit(":", 1)[1])
        self.pids = worker_pids(self.proc.pid)
        assert len(self.pids) == 2, self.pids
        conns = connections_per_worker(self.port, self.pids)
        self.a, self.b = (conns[pid][0] for pid in self.pids)

    def rescores(self) -> list[tuple[int, str]]:
        """Each full rescore logged so far: (subjects, as of)."""
        return [(int(n), at) for n, at in RESCORED.findall(self.log.read_text())]

    def wait_for_rescores(self, n: int, timeout: float = 240) -> list[tuple[int, str]]:
        deadline = time.monotonic() + timeout
        while len(done := self.rescores()) < n:
            assert time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.2)
        return done

    def rescorers(self) -> list[int]:
        """The rescorer processes among the server's children (started by a thread of it, so
        not among its main thread's children: looked up by parent in every process's stat)."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
                cmdline = (stat.parent / "cmdline").read_bytes()
            except (OSError, IndexError, ValueError):  # ended meanwhile
                continue
            if ppid == self.proc.pid and b"socialcredit.cli.rescorer" in cmdline:
                found.append(int(stat.parent.name))
        return found

    def stop(self) -> None:
        self.a.close()
        self.b.close()
        self.proc.terminate()
        self.proc.wait(60)


@pytest.fixture
def served(city: dict[str, Any], store_url: str, tmp_path: Path) -> Iterator[Served]:
    s = Served(store_url, tmp_path / "home")
    try:
        yield s
    finally:
        s.stop()


@pytest.mark.slow  # a real server's processes
def test_two_workers_share_one_rescore_and_both_serve_it(
    served: Served, city: dict[str, Any], store_url: str
) -> None:
    [(subjects, _at)] = served.wait_for_rescores(1)
    assert subjects == city["report"]["subjects"]
    assert len(served.rescorers()) == 1
    for conn in (served.a, served.b):  # each worker follows the snapshot written
        deadline = time.monotonic() + 2
        while (report := request(conn, "GET", "/public/transparency")[1])["rescore_of"] is not None:
            assert time.monotonic() < deadline, report["rescore_of"]
            time.sleep(0.05)
        assert report["lists"] == city["report"]["lists"]
    # a record through worker a is on worker b's list within the freshness
    row = {k: v for k, v in debtor_row(9102, dt.date.today()).items() if k != "source"}  # the key's
    status, body = request(served.a, "POST", "/records", {"records": [row]}, served.court)
    assert status == 200 and body["accepted"] == 1, body
    written = time.monotonic()
    while True:
        page = request(served.b, "GET", f"/public/lists/{COURT_LIST}?per_page=500")[1]
        if page["total"] == len(city["court"]) + 1 and page["rescore_of"] is None:
            break
        assert time.monotonic() - written < 1.5, page["total"]
        time.sleep(0.02)
    time.sleep(1)
    assert len(served.rescores()) == 1  # no worker rescored: one full rescore after the start


@pytest.mark.slow  # a real server's processes
def test_a_killed_rescorer_leaves_the_pages_served_and_is_started_again(
    served: Served, city: dict[str, Any]
) -> None:
    served.wait_for_rescores(1)
    [rescorer] = served.rescorers()
    os.kill(rescorer, signal.SIGKILL)
    for conn in (served.a, served.b):  # answered from the last snapshot meanwhile
        status, report = request(conn, "GET", "/public/transparency")
        assert status == 200 and report["lists"] == city["report"]["lists"]
    second = served.wait_for_rescores(2)  # started again: its start rescores the population
    assert second[1][1] > second[0][1]
    [again] = served.rescorers()
    assert again != rescorer
