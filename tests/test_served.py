"""The process's shared app (tests/support/apps.py, decision 0085) serves each test as a new
``create_app`` would: the test's own system, full rate-limit buckets, a new CSRF secret, the same
operations. Were any of these carried over, tests would depend on their order and split."""

from __future__ import annotations

from contextlib import closing
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from socialcredit.api import create_app
from socialcredit.schemes import shipped_registry
from socialcredit.service import System
from socialcredit.store import Store
from tests.conftest import person
from tests.support.apps import served

P = person(52)
ASK = {"subject": P, "measure": "no-flights", "purpose": "ticket"}


def test_the_rate_limits_start_full_for_each_test(system: System, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIALCREDIT_BURST_PER_ADDRESS", "2")
    monkeypatch.setenv("SOCIALCREDIT_RATE_PER_ADDRESS", "0.01")
    key = {"X-API-Key": system.create_key("relying_party", "airlines").token}
    with closing(TestClient(served(system))) as c:
        assert [c.post("/decisions", json=ASK, headers=key).status_code for _ in range(3)] == [200, 200, 429]
    # the next test's app: the address's bucket is full again, read from the environment now
    with closing(TestClient(served(system))) as c:
        assert [c.post("/decisions", json=ASK, headers=key).status_code for _ in range(3)] == [200, 200, 429]
    monkeypatch.delenv("SOCIALCREDIT_BURST_PER_ADDRESS")
    with closing(TestClient(served(system))) as c:
        assert [c.post("/decisions", json=ASK, headers=key).status_code for _ in range(3)] == [200] * 3


def test_it_serves_the_tests_own_system_and_secret(system: System, tmp_path: Path) -> None:
    token = system.create_key("operator", "wang.fang").token
    app = served(system)
    secret = app.state.portal_secret
    with closing(TestClient(app)) as c:
        assert c.get("/audit", headers={"X-API-Key": token}).status_code == 200
        assert c.get("/portal/login").status_code == 200
    other = System(Store(f"sqlite:///{tmp_path / 'other.db'}"), shipped_registry())
    try:
        with closing(TestClient(served(other))) as c:
            assert c.get("/audit", headers={"X-API-Key": token}).status_code == 401  # not this system's
        assert app.state.portal_secret != secret  # an earlier test's forms are not this one's
    finally:
        other.store.close()


def test_it_has_the_operations_and_document_of_a_new_app(system: System) -> None:
    with closing(TestClient(served(system))) as c:
        shared = c.get("/openapi.json").json()
    assert shared == create_app(system).openapi()
