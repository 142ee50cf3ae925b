"""One exception root (``socialcredit.errors``): every deliberate refusal derives from it and keeps
its 4xx, naming the field, in the API's one error shape and on the portal's error page; any other
exception is a bug, logged and answered 500, never a 422. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from socialcredit import access, backup, checkpoints, codes, errors, formats, ledger, service
from socialcredit.api.errors import SERVER_ERROR
from socialcredit.rules.fields import SchemeRefused
from socialcredit.schemes.categories import CategoryError
from socialcredit.schemes.loader import SchemeError
from socialcredit.schemes.safeguards import SafeguardsFailed
from socialcredit.service import System
from socialcredit.service.integrity import Integrity
from tests.conftest import Clock, person
from tests.support.api import h
from tests.support.cli import run

P = person(81)
COURT = "court-dishonest-debtors/dishonest-debtors"


def refused(r: Any, status: int, starts: str) -> None:
    body = r.json()
    assert r.status_code == status, r.text
    assert body == {"ok": False, "error": body["error"], "errors": [body["error"]], "status": status}
    assert body["error"].startswith(starts), body["error"]


@pytest.mark.parametrize(
    ("cls", "status"),
    [
        (errors.Refused, 422),
        (errors.Conflict, 409),
        (errors.NotFound, 404),
        (errors.Unauthenticated, 401),
        (errors.AccessDenied, 403),
        (codes.InvalidChecksum, 422),
        (ledger.RowError, 422),
        (SchemeError, 422),
        (CategoryError, 422),
        (SafeguardsFailed, 422),
        (SchemeRefused, 422),
        (formats.FileRefused, 422),
        (backup.BackupError, 422),
        (checkpoints.CheckpointError, 422),
    ],
)
def test_every_refusal_has_one_root(cls: type[errors.SocialCreditError], status: int) -> None:
    assert issubclass(cls, errors.SocialCreditError) and cls.status == status


def test_the_old_names_are_the_root_classes() -> None:
    """Callers importing a refusal from where it used to live get the same class."""
    assert service.NotFound is errors.NotFound and service.Unauthenticated is errors.Unauthenticated
    assert access.AccessDenied is errors.AccessDenied
    # a refusal of a value is still a ValueError, a missing thing a LookupError; a plain
    # ValueError is not a refusal
    assert issubclass(errors.Refused, ValueError) and issubclass(errors.NotFound, LookupError)
    assert not issubclass(ValueError, errors.SocialCreditError)
    e = errors.Refused("must be 1 to 4000 characters", field="statement")
    assert (str(e), e.field, e.message) == ("statement: must be 1 to 4000 characters", "statement", e.message)


def test_a_bug_is_a_logged_500_never_a_422(
    client: TestClient,  # noqa: F811
    system: System,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A ``ValueError`` raised by a bug in a service method used to be answered 422, as if the
    caller had sent something wrong; now it is a 500 in the one error shape, logged with its
    traceback, telling the caller nothing about it."""
    op = h(system, "operator", "wang.fang")

    def bug(*_a: Any, **_k: Any) -> Any:
        raise ValueError("invalid literal for int() with base 10: 'secret'")

    monkeypatch.setattr(system, "read", bug)
    with caplog.at_level(logging.ERROR, logger="socialcredit.api"):
        r = client.get(f"/subjects/{P}", headers=op)
    assert r.status_code == 500
    assert r.json() == {"ok": False, "error": SERVER_ERROR, "errors": [SERVER_ERROR], "status": 500}
    assert "secret" not in r.text
    [logged] = [x for x in caplog.records if x.name == "socialcredit.api"]
    assert logged.exc_info is not None and logged.exc_info[0] is ValueError
    assert f"GET /subjects/{P}" in logged.getMessage()


def test_a_bug_on_the_hot_path_is_a_logged_500(
    client: TestClient,  # noqa: F811
    system: System,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``POST /decisions`` is answered ahead of the router (api/hotpath.py): a bug there is
    answered the same way."""
    op = h(system, "operator", "wang.fang")

    async def bug(*_a: Any, **_k: Any) -> Any:
        raise KeyError("no-flights")

    monkeypatch.setattr(system, "check_async", bug)
    with caplog.at_level(logging.ERROR, logger="socialcredit.api"):
        r = client.post(
            "/decisions", json={"subject": P, "measure": "no-flights", "purpose": "x"}, headers=op
        )
    assert r.status_code == 500 and r.json()["status"] == 500
    assert any(x.exc_info and x.exc_info[0] is KeyError for x in caplog.records)


def test_a_bug_on_a_portal_page_is_the_500_page(
    client: TestClient,  # noqa: F811
    system: System,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def bug(*_a: Any, **_k: Any) -> Any:
        raise ValueError("math domain error")

    monkeypatch.setattr(system, "transparency", bug)
    with caplog.at_level(logging.ERROR, logger="socialcredit.web"):
        r = client.get("/portal/transparency", headers={"Accept-Language": "en"})
    assert r.status_code == 500 and r.headers["content-type"].startswith("text/html")
    assert "Something went wrong" in r.text and "fault is ours" in r.text and "math domain" not in r.text
    assert any(x.name == "socialcredit.web" and x.exc_info for x in caplog.records)
    # a refusal on the portal keeps its status and its words
    r = client.get("/portal/lists/nope/nothing", headers={"Accept-Language": "en"})
    assert r.status_code == 404 and "list_id: no list" in r.text


def test_refusals_keep_their_status_and_name_the_field(
    client: TestClient,  # noqa: F811
    system: System,
    clock: Clock,
) -> None:
    op, me = h(system, "operator", "wang.fang"), h(system, "subject", P)
    row = {"subject": P, "item": "court.dishonest.able-but-refuses", "source": "court",
           "source_record_id": "c-1", "occurred_on": "2026-10-01"}  # fmt: skip
    assert client.post("/records", json={"records": [row]}, headers=op).json()["accepted"] == 1
    objection = {"subject": P, "list_id": COURT, "statement": "paid"}
    # a field the service refuses after the model accepted it (only spaces)
    refused(
        client.post("/objections", json={**objection, "statement": "   "}, headers=me), 422, "statement: "
    )
    # a state that refuses the step: the same objection twice, a decision on a decided case
    first = client.post("/objections", json=objection, headers=me).json()
    refused(client.post("/objections", json=objection, headers=me), 409, "list_id: objection ")
    decision = {"upheld": False, "reason": "no receipt"}
    assert client.post(f"/objections/{first['id']}/decision", json=decision, headers=op).status_code == 200
    refused(
        client.post(f"/objections/{first['id']}/decision", json=decision, headers=op), 409, "objection_id: "
    )
    refused(
        client.post(f"/objections/{first['id']}/appeal", json={"statement": " "}, headers=me),
        422,
        "statement",
    )
    # missing things, keys that may not, codes, key bindings
    ask = {"subject": P, "measure": "nope", "purpose": "x"}
    refused(client.post("/decisions", json=ask, headers=op), 404, "measure: no measure")
    refused(client.get(f"/subjects/{P}", headers=h(system, "auditor")), 403, "your key may not")
    refused(client.get("/subjects/12345", headers=op), 422, "subject: invalid length")
    refused(client.post("/keys", json={"role": "operator"}, headers=op), 422, "principal: an operator key")
    refused(client.get("/subjects/x", headers={"X-API-Key": "sck_nope"}), 401, "unknown API key")
    # a key that has expired keeps its expiry on rotation only if that is still to come
    old = system.create_key("auditor", None, expires_at=clock.now.replace(year=2025))
    refused(
        client.post(f"/keys/{old.key_id}/rotate", headers=op), 409, f"key_id: key {old.key_id} has expired"
    )


def test_the_command_line_words_a_refusal_and_shows_a_bug(
    env: Path,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A refusal no command words itself is one line and exit status 2 (the command group's
    ``Refusals``); a bug is not dressed up as the user's mistake: it raises, with its traceback."""

    def conflict(*_a: Any, **_k: Any) -> Any:
        raise errors.Conflict("the chain is being repaired", field="records")

    monkeypatch.setattr(Integrity, "verify", conflict)
    result = run("verify")
    assert result.exit_code == 2 and "records: the chain is being repaired" in result.stderr

    def bug(*_a: Any, **_k: Any) -> Any:
        raise ValueError("unpacking went wrong")

    monkeypatch.setattr(Integrity, "verify", bug)
    result = run("verify")
    assert result.exit_code == 1 and isinstance(result.exception, ValueError)


def test_a_master_key_not_given_is_a_logged_500_not_the_callers_fault(
    store_url: str, clock: Clock, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A server started without the master key its data keys are wrapped by (found by the
    decision bench: its servers answered every decision 422 "master_key: ... not configured",
    as if each request were wrong). The installation is at fault, not the caller: the API logs it
    and answers its one 500, naming no key; the command line's line still names what to fix."""
    from socialcredit.api import create_app
    from socialcredit.schemes.loader import shipped_registry
    from socialcredit.settings import get_settings
    from socialcredit.shredding import new_master_text
    from socialcredit.store import Store
    from tests.support.records import feed, rec

    first = Store(store_url)
    try:
        feed(
            System(first, shipped_registry(), clock=clock),
            rec(1, P, "traffic.red-light", "traffic-police", "2025-06-01"),
        )
    finally:
        first.close()
    monkeypatch.setenv("SOCIALCREDIT_MASTER_KEY", new_master_text())  # another installation's key
    get_settings.cache_clear()
    store = Store(store_url)
    try:
        system = System(store, shipped_registry(), clock=clock)
        with (
            TestClient(create_app(system)) as client,
            caplog.at_level(logging.ERROR, logger="socialcredit.api"),
        ):
            r = client.get(f"/subjects/{P}", headers=h(system, "operator", "wang.fang"))
        assert r.status_code == 500, r.text
        assert r.json()["error"] == SERVER_ERROR and "master" not in r.text
        assert any("not configured" in x.getMessage() for x in caplog.records if x.name == "socialcredit.api")
        with pytest.raises(errors.Unavailable) as raised:
            system.read(P, system.operator(), purpose="an operator checks the record")
        assert raised.value.field == "master_key" and raised.value.status == 500
    finally:
        store.close()
        get_settings.cache_clear()
