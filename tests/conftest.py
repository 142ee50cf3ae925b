"""Shared fixtures: every test that touches storage runs on the embedded default and on a real
PostgreSQL server (started from the ``pgserver`` wheel, one per test session, a fresh database per
test). ``SOCIALCREDIT_TEST_BACKENDS=sqlite`` limits a local run to the embedded default; the
PostgreSQL half is marked ``slow``, so ``pytest -m "not slow"`` (the inner loop) leaves it out."""

from __future__ import annotations

import atexit
import datetime as dt
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from stdnum.cn import ric, uscc

from socialcredit import codes
from socialcredit.schemes import shipped_registry
from socialcredit.service import System
from socialcredit.settings import get_settings
from socialcredit.shredding import new_master_text
from socialcredit.store import Store
from tests.support.apps import served
from tests.support.prepared import Prepared

# One master key for the whole test session (the CLI's processes inherit it), so no test writes a
# key file into the user's data directory; tests of the key file give their own path.
os.environ.setdefault("SOCIALCREDIT_MASTER_KEY", new_master_text())
# A data directory of the session's own (one per pytest-xdist worker, each a process of its own),
# so that no test writes the log's signing key into the user's data directory, and two workers
# never both create one there at once (decision 0067); tests of a home give their own.
_HOME = tempfile.mkdtemp(prefix="sc-home-")
os.environ["SOCIALCREDIT_HOME"] = _HOME
atexit.register(shutil.rmtree, _HOME, True)
# A pytest-xdist worker may start with COLUMNS set (80 here), and the CLI's rich consoles,
# made when it is imported (after this file), would keep that width for good, ignoring a test's
# own COLUMNS: without it they read the width when they print, as in the main process.
os.environ.pop("COLUMNS", None)
BACKENDS = os.environ.get("SOCIALCREDIT_TEST_BACKENDS", "sqlite,postgresql").split(",")
# the backends as parameters: PostgreSQL (a server to start, a database per test) is slow
BACKEND_PARAMS = [pytest.param(b, marks=pytest.mark.slow) if b == "postgresql" else b for b in BACKENDS]
NOW = dt.datetime(2026, 11, 2, 10, 0, 0)  # a Monday


def person(n: int, born: str = "19900101", region: str = "371082") -> str:
    """A valid resident ID number, different for each ``n``."""
    body = f"{region}{born}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def org(n: int) -> str:
    """A valid Unified Social Credit Code, different for each ``n`` below a million: its
    organisation code is ``MA`` and ``n`` with their GB 11714 check character."""
    code8 = f"MA{n:06d}"
    body = "91371082" + code8 + codes.organisation_check_character(code8)
    return body + uscc.calc_check_digit(body)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: dt.datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **kw: Any) -> None:
        self.now += dt.timedelta(**kw)


WHOLLY_SLOW = "pytestmark = pytest.mark.slow"
"""The line that marks every test of a module slow (Chromium, benchmarks, load, schemathesis)."""


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Under exactly ``-m "not slow"`` (the inner loop), a module whose every test is marked slow
    by a line of its own is not imported: every test in it would be deselected, and importing it
    cost each worker its libraries (Playwright, schemathesis) and its compile (decision 0093).
    Any other selection, CI's whole run included, collects it as before."""
    if config.option.markexpr.strip() != "not slow" or not collection_path.name.startswith("test_"):
        return None
    if collection_path.suffix != ".py" or not collection_path.is_file():
        return None
    lines = collection_path.read_text(encoding="utf-8").splitlines()
    return True if any(line.startswith(WHOLLY_SLOW) for line in lines) else None


@pytest.fixture(scope="session")
def pg_server() -> Iterator[Any]:
    import pgserver

    root = Path(tempfile.mkdtemp(prefix="sc-pg-"))
    server = pgserver.get_server(root, cleanup_mode="stop")
    try:
        yield server
    finally:
        server.cleanup()
        # "stop" leaves the data directory (a database per test: gigabytes by the end of a run);
        # every session left one behind until /tmp filled up and a CI run failed on it
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=BACKEND_PARAMS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    server = request.getfixturevalue("pg_server")
    name = "t_" + uuid.uuid4().hex[:12]
    server.psql(f"CREATE DATABASE {name};")
    base = server.get_uri(name)  # postgresql://postgres:@/NAME?host=/tmp/...
    yield "postgresql+psycopg://" + base.split("://", 1)[1]


@pytest.fixture
def other_url(request: pytest.FixtureRequest, store_url: str, tmp_path: Path) -> str:
    """A second, empty database on the test's backend (``store_url``'s): where a backup is
    restored while the first, with its key store, lives on."""
    if store_url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / ('other-' + uuid.uuid4().hex[:6] + '.db')}"
    server = request.getfixturevalue("pg_server")
    name = "o_" + uuid.uuid4().hex[:12]
    server.psql(f"CREATE DATABASE {name};")
    return "postgresql+psycopg://" + server.get_uri(name).split("://", 1)[1]


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One real Spark session (local mode, two cores) shared by every engine test
    (tests/test_engines.py, tests/test_engines_models.py): starting one takes about ten seconds.
    Every test that uses it is marked ``slow``."""
    from socialcredit.engines.spark import session

    s = session(master="local[2]", partitions=2, warehouse=tmp_path_factory.mktemp("spark-warehouse"))
    yield s
    s.stop()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="session")
def prepared(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Prepared:
    """Databases built once in this test process and copied into each test that asks
    (tests/support/prepared.py, decision 0079): the empty store of ``store``, the demo city of
    tests/test_public_start.py, the erased pair of tests/test_erasure_contract.py."""
    return Prepared(tmp_path_factory.mktemp("prepared"), lambda: request.getfixturevalue("pg_server"))


@pytest.fixture
def store(store_url: str, prepared: Prepared) -> Iterator[Store]:
    """A fresh store of the test's own: on SQLite a copy of an empty one made once per process
    (the same bytes ``Store`` would write, without compiling the schema again for every test)."""
    if store_url.startswith("sqlite"):
        prepared.empty(store_url)
    s = Store(store_url)
    yield s
    s.close()


@pytest.fixture
def system(store: Store, clock: Clock) -> System:
    return System(store, shipped_registry(), clock=clock)


@pytest.fixture
def client(system: System) -> Iterator[TestClient]:
    """The HTTP API of the test's ``system``, in process. Not entered as a context manager, so
    the app's lifespan (``serving_gc``: a full collection of this process's heap, then freezing
    it) does not run: in a test session that heap is every test's, and collecting it at each
    test's start was most of the fast loop's setup (decision 0067). tests/test_audit_group.py
    serves an app through its lifespan and checks what it does. The app is the process's one,
    serving this test's system with nothing left of another test's requests (``served``,
    decision 0085): its routes' models are built once per process, not at each test's first
    requests."""
    c = TestClient(served(system))
    yield c
    c.close()


@pytest.fixture
def env(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The command line on the test's store: its home under ``tmp_path`` (returned), the embedded
    default there or the PostgreSQL database by ``SOCIALCREDIT_DATABASE_URL``."""
    monkeypatch.setenv("SOCIALCREDIT_HOME", str(tmp_path / "home"))
    if store_url.startswith("postgresql"):
        monkeypatch.setenv("SOCIALCREDIT_DATABASE_URL", store_url)
    else:
        monkeypatch.delenv("SOCIALCREDIT_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()
