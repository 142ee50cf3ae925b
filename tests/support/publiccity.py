"""The public pages' test city and the count of population reads made by request threads,
shared by tests/test_public_start.py and tests/test_public_rescorer.py (decisions 0049, 0087)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from socialcredit.demo import run_demo
from socialcredit.schemes import shipped_registry
from socialcredit.service import System
from socialcredit.store import Store
from tests.conftest import Clock

COURT_LIST = "court-dishonest-debtors/dishonest-debtors"
POPULATION_READS = ("iter_by_subject", "subject_rows")
"""The store's reads of the whole population: what a scan is made of."""


class Reads:
    """Counts the store's population reads made by request threads (not the background
    rescore's): wraps the real methods of one store, which still do the reading."""

    def __init__(self, store: Store) -> None:
        self.on_request: list[str] = []
        self.in_background: list[str] = []
        for name in POPULATION_READS:
            setattr(store, name, self._counted(name, getattr(store, name)))

    def _counted(self, name: str, read: Callable[..., Any]) -> Callable[..., Any]:
        def counted(*args: Any, **kwargs: Any) -> Any:
            background = threading.current_thread().name == "public-rescore"
            (self.in_background if background else self.on_request).append(name)
            return read(*args, **kwargs)

        return counted


def build_city(urls: list[str]) -> dict[str, Any]:
    """A 200-resident demo city, rescored once by a command (as ``socialcredit demo`` or
    ``public rescore`` leave it); what its pages showed then. 200: each test rescores it again
    in the background, and the demo's seeded city of 150 has nobody on the court's list."""
    store = Store(urls[0])
    system = System(store, shipped_registry(), clock=Clock())
    run_demo(system, residents=200)
    system.disclosure.rescore()
    shown = {"report": system.transparency(), "court": system.public_list(COURT_LIST)}
    store.close()
    assert shown["court"], "the city has someone on the court's list"
    return shown
