"""Keys: rotated (a new token for the same role and principal, the old one dead at once), over
HTTP and from the command line; hashed at rest. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from socialcredit import access
from socialcredit.api import create_app
from socialcredit.cli import app
from socialcredit.service import System
from socialcredit.settings import get_settings
from socialcredit.store import Store, StoredKey
from socialcredit.store import tables as t
from tests.conftest import Clock, person

P = person(61)


def test_rotate_over_http(system: System, clock: Clock) -> None:
    op = system.create_key("operator", "wang.fang").token
    old = system.create_key("subject", P, name="phone app", expires_at=clock.now.replace(year=2027))
    with closing(TestClient(create_app(system))) as client:
        assert client.get(f"/subjects/{P}", headers={"X-API-Key": old.token}).status_code == 200
        r = client.post(f"/keys/{old.key_id}/rotate", headers={"X-API-Key": op})
        assert r.status_code == 201, r.text
        new = r.json()
        assert (new["role"], new["principal"], new["name"]) == ("subject", P, "phone app")
        assert new["expires_at"] == "2027-11-02T10:00:00Z" and new["key_id"] != old.key_id
        gone = client.get(f"/subjects/{P}", headers={"X-API-Key": old.token})
        assert gone.status_code == 401 and "revoked" in gone.json()["error"]
        assert client.get(f"/subjects/{P}", headers={"X-API-Key": new["token"]}).status_code == 200
        # a revoked key cannot be rotated again (that would resurrect a leaked token's access)
        again = client.post(f"/keys/{old.key_id}/rotate", headers={"X-API-Key": op})
        assert again.status_code == 404
        denied = client.post(f"/keys/{new['key_id']}/rotate", headers={"X-API-Key": new["token"]})
        assert denied.status_code == 403


def test_rotating_an_expired_key_needs_a_new_expiry(system: System, clock: Clock) -> None:
    old = system.create_key("auditor", None, expires_at=clock.now.replace(year=2025))
    with pytest.raises(ValueError, match="has expired"):
        system.store.rotate_key(old.key_id, clock.now)
    assert system.store.key(old.key_id).revoked_at is None  # type: ignore[union-attr]
    new = system.store.rotate_key(old.key_id, clock.now, expires_at=clock.now.replace(year=2027))
    assert new is not None and system.authenticate(new.token).role == "auditor"


def test_tokens_are_stored_only_as_hashes(system: System) -> None:
    keys = [
        system.create_key("operator", "wang.fang"),
        system.store.rotate_key(system.create_key("auditor", None).key_id, system.clock()),
    ]
    with system.store.engine.connect() as conn:
        stored = " ".join(str(v) for row in conn.execute(select(t.api_keys)) for v in row)
    for k in keys:
        assert k is not None and k.token not in stored and k.token.split("_", 2)[2] not in stored


@pytest.fixture
def env(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("SOCIALCREDIT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("SOCIALCREDIT_DATABASE_URL", store_url)
    get_settings.cache_clear()
    yield store_url
    get_settings.cache_clear()


def test_rotate_from_the_command_line(env: str) -> None:
    runner = CliRunner()
    made = json.loads(runner.invoke(app, ["keys", "create", "agency", "court", "--json"]).stdout)
    r = runner.invoke(app, ["keys", "rotate", made["key_id"], "--days", "30", "--json"])
    assert r.exit_code == 0, r.output
    new = json.loads(r.stdout)
    assert (new["role"], new["principal"]) == ("agency", "court") and new["key_id"] != made["key_id"]
    store = Store(env)
    try:
        assert store.key(made["key_id"]).revoked_at is not None  # type: ignore[union-attr]
        assert store.key(new["key_id"]).expires_at is not None  # type: ignore[union-attr]
    finally:
        store.close()
    r = runner.invoke(app, ["keys", "rotate", made["key_id"]])
    assert r.exit_code == 2 and "no active key" in r.stderr


def test_operator_keys_name_their_holder(system: System, clock: Clock) -> None:
    """Separation of duties needs to know who decided: an operator key names the person who holds
    it, all keys of one person share that principal, and a key made before that rule (no
    principal) keeps working as a principal of its own, its key id (issue 16, point 3)."""
    with pytest.raises(ValueError, match="must name the person who holds it"):
        system.create_key("operator", None)
    with pytest.raises(ValueError, match="must name the person who holds it"):
        system.create_key("operator", "  ")
    phone = system.authenticate(system.create_key("operator", "wang.fang", name="phone").token)
    desk = system.authenticate(system.create_key("operator", " wang.fang ", name="desk").token)
    assert phone.key_id != desk.key_id and phone.holder == desk.holder == "wang.fang"
    op = system.create_key("operator", "li.na").token
    with closing(TestClient(create_app(system))) as client:
        r = client.post("/keys", json={"role": "operator"}, headers={"X-API-Key": op})
        assert r.status_code == 422 and r.json()["error"].startswith("principal: an operator key must name")
        r = client.post(
            "/keys", json={"role": "operator", "principal": "zhao.lei"}, headers={"X-API-Key": op}
        )
        assert r.status_code == 201 and r.json()["principal"] == "zhao.lei"
    # keys stored before the rule: they authenticate, and each is its own principal
    legacy = []
    for _ in range(2):
        new = access.new_key("auditor", None, now=clock.now)  # a token shape, stored as an operator's
        system.store.add_key(
            StoredKey(new.key_id, new.token_hash, "operator", None, "", clock.now, None, None)
        )
        legacy.append((new.key_id, system.authenticate(new.token)))
    (id_a, a), (id_b, b) = legacy
    assert (a.role, a.holder, b.holder) == ("operator", id_a, id_b) and a.holder != b.holder
    # rotating one names its successor after it, so both keys' decisions are one principal's
    rotated = system.rotate_key(id_a)
    assert rotated is not None and rotated.principal == id_a
    assert system.authenticate(rotated.token).holder == a.holder
