"""The portal's test world for the per-user page tests (``tests/test_web*.py``): a subject on the
court's list, another with a record of their own, an organisation with its representative, a key
for each role, and the app they browse; built once per test process and copied into each test's
database (decision 0093). The fixtures are bound in each test module by name (``world =
webworld.world``, ``store`` and ``built`` with it), since a test module never imports another."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from socialcredit.service import System
from socialcredit.store import Store, SubjectRow
from tests.conftest import Clock, org, person
from tests.support.apps import served
from tests.support.portal import ENGLISH
from tests.support.prepared import Prepared
from tests.support.worlds import world_store

P, OTHER, ORG, REP = person(61), person(62), org(61), person(63)
NAME, OTHER_NAME = "Zhang Wei", "Wang Fang"
ROLES: dict[str, str | None] = {
    "operator": "wang.fang",
    "agency": "traffic-police",
    "relying_party": "airlines",
    "subject": P,
    "auditor": None,
}
ALL = [*ROLES, "none"]
OTHER_RECORD = "OTHER-RECORD-ID"
"""Stands for :func:`other_record` in a form's data written before the world exists."""
COURT_LIST = "court-dishonest-debtors/dishonest-debtors"


def row(
    subject: str, item: str, source: str, srid: str, occurred: str, **kw: Any
) -> tuple[int, dict[str, Any]]:
    return (1, {"subject": subject, "item": item, "source": source, "source_record_id": srid,
                "occurred_on": occurred, **kw})  # fmt: skip


def build_world(system: System) -> dict[str, str]:
    """P is on the court's list (a served decision, so immediately) with a minor traffic record;
    OTHER has a record of their own; ORG is a registered organisation with a court record; a key
    for each role (their tokens returned)."""
    system.register(
        [
            SubjectRow(P, "person", NAME, district="Rongcheng"),
            SubjectRow(OTHER, "person", OTHER_NAME, district="Huancui"),
            SubjectRow(REP, "person", "Li Si"),
            SubjectRow(ORG, "organisation", "Weihai Example Ltd", legal_representative=REP),
        ]
    )
    details = {"case_number": "(2026) Lu 1082 Zhi 77", "court": "Rongcheng People's Court"}
    rows = [
        row(P, "court.dishonest.able-but-refuses", "court", "c-1", "2026-09-01",
            reported_at="2026-09-01T10:00", details=details, evidence="enforcement file 77"),
        row(P, "traffic.minor", "traffic-police", "t-1", "2026-06-01", reported_at="2026-06-02T09:00"),
        row(OTHER, "traffic.red-light", "traffic-police", "o-1", "2026-07-01"),
        row(ORG, "court.dishonest.evades-enforcement", "court", "c-2", "2026-08-01", details=details),
    ]  # fmt: skip
    result = system.ingest(
        [(n, r) for n, (_, r) in enumerate(rows, 1)], origin="test", principal=system.operator()
    )
    assert result.accepted == 4, result
    return {role: system.create_key(role, principal).token for role, principal in ROLES.items()}  # type: ignore[arg-type]


@pytest.fixture
def built(store_url: str, prepared: Prepared, clock: Clock) -> tuple[Store, dict[str, str]]:
    """The world in the test's own database: built once per test process and copied for each
    test (tests/support/worlds.py, decision 0093), since the tests write to it."""
    return world_store(store_url, prepared, clock, "webworld", build_world)


@pytest.fixture
def store(built: tuple[Store, dict[str, str]]) -> Iterator[Store]:
    """The test's store, on its copy of the world."""
    yield built[0]
    built[0].close()


@pytest.fixture
def world(system: System) -> System:
    """The test's system on its copy of the world (``build_world``)."""
    return system


@pytest.fixture
def tokens(built: tuple[Store, dict[str, str]]) -> dict[str, str]:
    return built[1]


@pytest.fixture
def app(world: System) -> FastAPI:
    """The process's app serving this test's world (``served``, decision 0085); each client
    below is a separate browser (its own cookies) on it."""
    return served(world)


@pytest.fixture
def app_client(app: FastAPI) -> Iterator[TestClient]:
    c = TestClient(app, headers=ENGLISH)  # not entered: no lifespan, as ``client`` (decision 0067)
    yield c
    c.close()


def court_record(world: System) -> str:
    """The id of P's court record (keyed by the world's store: decision 0080)."""
    return world.store.stored_record_id("court", "c-1")


def other_record(world: System) -> str:
    """The id of OTHER's own record."""
    return world.store.stored_record_id("traffic-police", "o-1")


def case_id_of(html: str) -> str:
    found = re.search(r"(obj|res|rev)-[0-9a-f]{12}", html)
    assert found, "no case id on the page"
    return found.group(0)
