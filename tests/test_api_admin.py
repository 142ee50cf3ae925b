"""Administrative acts over the API (issue #18, point 4): each is in the audit log (keys made,
rotated and revoked, batches of records and subjects, case decisions), naming counts and ids,
never a token; the last operator key cannot be revoked or rotated over the API; and a decision
about a subject the system knows nothing of says so instead of a plain allow."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from socialcredit.service import System
from tests.conftest import person

P, STRANGER = person(41), person(42)


def entries(system: System, action: str) -> list[dict[str, Any]]:
    return [e for e in system.store.audit_entries(limit=1000) if e["action"] == action]


def test_key_acts_are_audited_without_their_tokens(client: TestClient, system: System) -> None:
    op = system.create_key("operator", "wang.fang")
    h = {"X-API-Key": op.token}
    made = client.post("/keys", headers=h, json={"role": "subject", "principal": P}).json()
    rotated = client.post(f"/keys/{made['key_id']}/rotate", headers=h).json()
    assert client.delete(f"/keys/{rotated['key_id']}", headers=h).status_code == 200

    (create,) = [e for e in entries(system, "key-create") if e["detail"]["key_id"] == made["key_id"]]
    assert create["key_id"] == op.key_id and create["principal"] == "wang.fang"
    assert create["subject"] == P and create["detail"] == {
        "key_id": made["key_id"],
        "role": "subject",
        "principal": None,
        "expires_at": None,
    }
    (rotate,) = entries(system, "key-rotate")
    assert rotate["detail"]["key_id"] == made["key_id"] and rotate["detail"]["successor"] == rotated["key_id"]
    (revoke,) = entries(system, "key-revoke")
    assert revoke["detail"]["key_id"] == rotated["key_id"] and revoke["key_id"] == op.key_id
    log = repr(system.store.audit_entries(limit=1000))
    assert made["token"] not in log and rotated["token"] not in log and op.token not in log


def test_the_last_operator_key_stays(client: TestClient, system: System) -> None:
    only = system.create_key("operator", "wang.fang")
    h = {"X-API-Key": only.token}
    for method, path, what in (("DELETE", "", "revoke"), ("POST", "/rotate", "rotate")):
        r = client.request(method, f"/keys/{only.key_id}{path}", headers=h)
        assert r.status_code == 409, r.text
        assert r.json()["error"] == (
            f"key_id: key {only.key_id} is the key you are using and the last active operator key; "
            f"create another operator key before you {what} it"
        )
        zh = client.request(method, f"/keys/{only.key_id}{path}", headers={**h, "Accept-Language": "zh-CN"})
        assert (
            zh.status_code == 409
            and only.key_id in zh.json()["error"]
            and "operator" not in zh.json()["error"]
        )
    second = client.post("/keys", headers=h, json={"role": "operator", "principal": "li.na"}).json()
    assert client.delete(f"/keys/{only.key_id}", headers=h).status_code == 200
    # the command line (the installation's owner) is not held by the rule
    assert system.revoke_key(second["key_id"])


def test_batches_and_case_decisions_are_audited(client: TestClient, system: System) -> None:
    op = {"X-API-Key": system.create_key("operator", "wang.fang").token}
    row = {
        "subject": P,
        "item": "traffic.minor",
        "source": "traffic-police",
        "source_record_id": "adm-1",
        "occurred_on": "2026-06-01",
    }
    sent = client.post("/records", headers=op, json={"records": [row, {**row, "item": "no.such"}]}).json()
    (ingest,) = entries(system, "ingest")
    assert ingest["detail"] == {
        "batch_id": sent["batch_id"],
        "origin": "http",
        "submitted": 2,
        "accepted": 1,
        "duplicate": 0,
        "quarantined": 1,
    }
    client.post("/subjects", headers=op, json={"subjects": [{"code": P, "name": "Zhang San"}]})
    (register,) = entries(system, "subject-register")
    assert register["detail"] == {"submitted": 1, "added": 1, "updated": 0, "unchanged": 0, "quarantined": 0}

    record_id = system.read(P, system.operator(), purpose="test").records[0].record_id
    case = client.post(
        "/objections", headers=op, json={"subject": P, "record_id": record_id, "statement": "x"}
    )
    decider = {"X-API-Key": system.create_key("operator", "li.na").token}
    r = client.post(
        f"/objections/{case.json()['id']}/decision", headers=decider, json={"upheld": False, "reason": "no"}
    )
    assert r.status_code == 200, r.text
    (decided,) = entries(system, "case-decide")
    assert decided["principal"] == "li.na" and decided["subject"] == P and decided["answer"] == "rejected"
    assert decided["detail"] == {"case_id": case.json()["id"], "kind": "objection", "step": "decision"}


def test_a_subject_unknown_to_the_system_is_said_to_be(client: TestClient, system: System) -> None:
    """An unregistered code with no record: still allowed (no ground to deny a punishment), but
    the answer says the subject is unknown, so it is not read as a clean record."""
    airline = {"X-API-Key": system.create_key("relying_party", "airlines").token}
    ask = {"subject": STRANGER, "measure": "no-flights", "purpose": "boarding"}
    r = client.post("/decisions", headers=airline, json=ask).json()
    assert r["answer"] == "allow" and r["subject_known"] is False
    assert r["reasons"][0]["basis"] == "unknown"
    assert r["reasons"][0]["text"] == "unknown to the system: no record and no registration"

    op = {"X-API-Key": system.create_key("operator", "wang.fang").token}
    client.post("/subjects", headers=op, json={"subjects": [{"code": STRANGER, "name": "Li Si"}]})
    r = client.post("/decisions", headers=airline, json=ask).json()
    assert r["answer"] == "allow" and r["subject_known"] is True
    assert all(reason["basis"] != "unknown" for reason in r["reasons"])
