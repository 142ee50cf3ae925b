"""Databases prepared once per test process and copied into each test that needs one (decision
0079).

Why: a test's own installation keeps tests independent of each other's order and of the split
between pytest-xdist workers, but building it again for every test was a large part of the inner
loop: creating an empty store's schema (about twenty tables compiled and created), and for a few
files a whole demo city. A copy of a database built once in the same process is the same bytes
(``tests/test_prepared.py`` holds an empty store's copy to a newly created one), so each test
still starts from a fresh database of its own and may write to it freely.

SQLite databases are copied by SQLite's backup API; PostgreSQL databases are made with
``CREATE DATABASE ... TEMPLATE``. The keys the rows are sealed under come from the process's
master key and home (tests/conftest.py), so a template is only ever used in the process that
built it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any, TypeVar

from socialcredit.store import Store

T = TypeVar("T")


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite:///PATH`` URL."""
    return Path(url.removeprefix("sqlite:///"))


def pg_name(url: str) -> str:
    """The database name of a PostgreSQL URL (``...@/NAME?host=/tmp/...``: the socket's
    directory has slashes of its own)."""
    return url.split("?", 1)[0].rsplit("/", 1)[1]


def copy_sqlite(source: Path, target: Path) -> None:
    """Copy a SQLite database by SQLite's backup API: a consistent copy even when what the
    template's builder committed is still in its write-ahead log."""
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


class Prepared:
    """Templates of this test process, each built at its first use."""

    def __init__(self, root: Path, pg_server: Callable[[], Any]) -> None:
        self.root = root
        self._pg_server = pg_server
        self._built: dict[tuple[str, str], Any] = {}
        self._pg_made: set[str] = set()

    def empty(self, url: str) -> None:
        """Give ``url`` an empty store (the schema, stamped, and the chains' heads), as
        ``Store(url)`` would create it, when there is no database there yet (SQLite only)."""
        target = sqlite_path(url)
        if target.exists():
            return
        self.copy("empty-store", [url], lambda urls: Store(urls[0]).close())

    def copy(self, key: str, urls: Sequence[str], build: Callable[[list[str]], T]) -> T:
        """Fill the databases at ``urls`` with copies of the templates ``key`` names, calling
        ``build`` on the templates' own URLs the first time (it must close what it opened);
        returns what ``build`` returned then. Each URL's database must not be in use yet."""
        backend = "sqlite" if urls[0].startswith("sqlite") else "postgresql"
        templates = [self._template_url(backend, f"{key}-{i}") for i in range(len(urls))]
        if (backend, key) not in self._built:
            self._built[backend, key] = build(templates)
        for template, url in zip(templates, urls, strict=True):
            if backend == "sqlite":
                copy_sqlite(sqlite_path(template), sqlite_path(url))
            else:
                server = self._pg_server()
                name = pg_name(url)
                server.psql(f"DROP DATABASE IF EXISTS {name};")
                server.psql(f"CREATE DATABASE {name} TEMPLATE {pg_name(template)};")
        result: T = self._built[backend, key]
        return result

    def _template_url(self, backend: str, name: str) -> str:
        safe = "".join(c if c.isalnum() else "_" for c in name)
        if backend == "sqlite":
            return f"sqlite:///{self.root / (safe + '.db')}"
        server = self._pg_server()
        db = "tpl_" + safe.lower()
        if db not in self._pg_made:
            server.psql(f"CREATE DATABASE {db};")
            self._pg_made.add(db)
        return "postgresql+psycopg://" + server.get_uri(db).split("://", 1)[1]
