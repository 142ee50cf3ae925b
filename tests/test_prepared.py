"""The copied databases of tests/support/prepared.py (decision 0079) are what the tests would have
built themselves: a test's ``store`` on SQLite is a copy of an empty store made once per process,
which is only honest while an empty store is the same bytes whoever creates it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from socialcredit.schemes import shipped_registry
from socialcredit.service import System
from socialcredit.store import Store
from tests.support.prepared import Prepared, pg_name, sqlite_path


def dump(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return list(conn.iterdump())


def test_a_copied_empty_store_is_a_newly_created_one(store: Store, tmp_path: Path) -> None:
    if not store.url.startswith("sqlite"):
        pytest.skip("PostgreSQL's stores are created by Store itself (the fixture copies only SQLite)")
    made = tmp_path / "made.db"
    Store(f"sqlite:///{made}").close()
    copied = sqlite_path(store.url)
    store.close()
    assert dump(copied) == dump(made)
    assert any("chain_heads" in line for line in dump(made))


def test_each_copy_is_its_own_and_the_template_is_built_once(tmp_path: Path) -> None:
    prepared = Prepared(tmp_path / "templates", lambda: None)
    (tmp_path / "templates").mkdir()
    built: list[list[str]] = []

    def build(urls: list[str]) -> int:
        built.append(urls)
        system = System(Store(urls[0]), shipped_registry())
        system.store.close()
        return 7

    first, second = (f"sqlite:///{tmp_path / n}" for n in ("a.db", "b.db"))
    assert prepared.copy("city", [first], build) == prepared.copy("city", [second], build) == 7
    assert len(built) == 1
    with sqlite3.connect(sqlite_path(first)) as conn:
        conn.execute("UPDATE chain_heads SET count = 5 WHERE chain = 'records'")
    with sqlite3.connect(sqlite_path(second)) as conn:
        assert conn.execute("SELECT count FROM chain_heads WHERE chain = 'records'").fetchone() == (0,)


def test_a_postgresql_database_is_named_past_its_socket_directory() -> None:
    """pgserver's URLs name the socket's directory after the database, slashes and all."""
    assert pg_name("postgresql+psycopg://postgres:@/t_0a1b?host=/tmp/sc-pg-x1/run") == "t_0a1b"
