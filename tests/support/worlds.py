"""A test module's world (subjects, records, keys, cases) built once per test process and copied
into each test's own database before its ``store`` opens it (decisions 0079, 0093).

Why: many modules build the same small world for every test through a fixture on ``system``,
and the inner loop paid for each build again (the access matrix's 53 tests spent 45 s of their
61 s in setup under load, 12.5 s once its world was copied). Built once on a template and copied
(``Prepared.copy``: SQLite's backup API, PostgreSQL's ``CREATE DATABASE ... TEMPLATE``), each
test still starts from its own fresh database and may write to it. The builder runs on a system
of its own, with the shipped registry and a clock at ``NOW``, as the ``system`` and ``clock``
fixtures give; the test's clock is set to where the builder's ended, so the test sees the moment
it would have seen."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

from socialcredit.schemes import shipped_registry
from socialcredit.service import System
from socialcredit.store import Store
from tests.conftest import Clock
from tests.support.prepared import Prepared, sqlite_path

T = TypeVar("T")


def world_store(
    store_url: str, prepared: Prepared, clock: Clock, key: str, build: Callable[[System], T]
) -> tuple[Store, T]:
    """The test's store, opened on a copy of the world ``build`` made (once per process, under
    ``key``), and what ``build`` returned (plain data: the builder's system is closed). A module
    overrides ``store`` with this, so that ``system``, ``client`` and every other fixture on the
    store see the world whatever order a test asks for them in."""
    if store_url.startswith("sqlite") and sqlite_path(store_url).exists():
        raise RuntimeError(f"world {key!r}: the test's database exists before its world was copied in")

    def make(urls: list[str]) -> tuple[T, dt.datetime]:
        own = Clock()
        system = System(Store(urls[0]), shipped_registry(), clock=own)
        try:
            return build(system), own.now
        finally:
            system.store.close()

    built, now = prepared.copy(key, [store_url], make)
    clock.now = now
    return Store(store_url), built
