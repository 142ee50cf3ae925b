"""The HTTP API: every endpoint against every role and no key; the error shape; batches with
exact counts. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from socialcredit.service import System
from tests.conftest import org, person

P, OTHER = person(21), person(22)
ROLES = {
    "operator": "wang.fang",
    "agency": "traffic-police",
    "relying_party": "airlines",
    "subject": P,
    "auditor": None,
}


@pytest.fixture
def tokens(system: System) -> dict[str, str]:
    return {role: system.create_key(role, principal).token for role, principal in ROLES.items()}  # type: ignore[arg-type]


def record(n: int, **kw: Any) -> dict[str, Any]:
    return {
        "subject": P,
        "item": "traffic.minor",
        "source": "traffic-police",
        "source_record_id": f"a-{n}",
        "occurred_on": "2026-06-01",
        **kw,
    }


# (method, path, body, roles allowed -> expected success status)
ENDPOINTS: list[tuple[str, str, Any, dict[str, int]]] = [
    ("POST", "/records", {"records": [record(1)]}, {"operator": 200, "agency": 200}),
    ("GET", f"/subjects/{P}", None, {"operator": 200, "subject": 200}),
    ("GET", f"/subjects/{OTHER}", None, {"operator": 200}),
    (
        "POST",
        "/decisions",
        {"subject": P, "measure": "no-flights", "purpose": "ticket"},
        {"operator": 200, "relying_party": 200},
    ),
    ("POST", "/decisions", {"subject": P, "measure": "no-new-loans", "purpose": "loan"}, {"operator": 200}),
    ("GET", "/audit", None, {"operator": 200, "auditor": 200, "subject": 200}),
    ("GET", "/verify", None, {"operator": 200, "auditor": 200}),
    ("GET", "/keys", None, {"operator": 200}),
    ("POST", "/keys", {"role": "auditor"}, {"operator": 201}),
    ("POST", "/keys/nosuchkey/rotate", None, {"operator": 404}),
    ("GET", "/schemes", None, {r: 200 for r in [*ROLES, "none"]}),
    ("GET", "/schemes/rongcheng", None, {r: 200 for r in [*ROLES, "none"]}),
    ("GET", "/health", None, {r: 200 for r in [*ROLES, "none"]}),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "allowed"), ENDPOINTS, ids=[f"{m} {p}" for m, p, *_ in ENDPOINTS]
)
def test_access_matrix(
    client: TestClient, tokens: dict[str, str], method: str, path: str, body: Any, allowed: dict[str, int]
) -> None:
    for role in [*ROLES, "none"]:
        headers = {} if role == "none" else {"Authorization": f"Bearer {tokens[role]}"}
        r = client.request(method, path, json=body, headers=headers)
        want = allowed.get(role, 401 if role == "none" else 403)
        assert r.status_code == want, (role, r.status_code, r.text)
        if want >= 400:
            data = r.json()
            assert data == {"ok": False, "error": data["error"], "errors": data["errors"], "status": want}
            assert P not in r.text and OTHER not in r.text  # a refusal carries no data


def test_batch_counts_and_reasons(client: TestClient, tokens: dict[str, str]) -> None:
    h = {"X-API-Key": tokens["agency"]}
    rows = [
        record(1),
        record(1),
        record(2, subject="123"),
        record(3, item="charity.donation"),
        record(4, source=None),
        record(5, occurred_on="yesterday"),
    ]
    r = client.post("/records", json={"records": rows}, headers=h)
    assert r.status_code == 200
    body = r.json()
    assert (body["submitted"], body["accepted"], body["duplicate"], body["quarantined"]) == (6, 2, 1, 3)
    reasons = {q["row_number"]: q["reasons"][0] for q in body["quarantine"]}
    assert reasons[3].startswith("subject: invalid length")
    assert reasons[4].startswith("source: 'traffic-police' may not report item 'charity.donation'")
    assert reasons[6].startswith("occurred_on: 'yesterday' is not an ISO date")


def test_decision_reply_is_minimal_and_audited(
    client: TestClient, tokens: dict[str, str], system: System
) -> None:
    client.post(
        "/records",
        headers={"X-API-Key": tokens["operator"]},
        json={
            "records": [
                record(
                    1,
                    item="court.dishonest.able-but-refuses",
                    source="court",
                    occurred_on="2026-09-01",
                    reported_at="2026-09-01T10:00",
                )
            ]
        },
    )
    r = client.post(
        "/decisions",
        headers={"X-API-Key": tokens["relying_party"]},
        json={"subject": P, "measure": "no-flights", "purpose": "ticket MU5101"},
    )
    body = r.json()
    assert body["answer"] == "deny" and body["subject"] != P and "*" in body["subject"]
    assert set(body) == {
        "ok",
        "subject",
        "measure",
        "measure_kind",
        "answer",
        "subject_known",
        "at",
        "reasons",
        "receipt",
    }
    # the receipt names what the answer was computed from (issue 17.6), nothing about anyone
    assert set(body["receipt"]) == {"decision_id", "as_of", "known_at", "positions", "schemes"}
    [reason] = body["reasons"]
    assert (
        reason["list_id"] == "court-dishonest-debtors/dishonest-debtors" and reason["since"] == "2026-09-01"
    )
    assert reason["legal_basis"] and reason["how_to_resolve"]
    audit = client.get("/audit", headers={"X-API-Key": tokens["subject"]}).json()["data"]
    assert [(a["action"], a["purpose"], a["answer"]) for a in audit] == [
        ("decision", "ticket MU5101", "deny"),
        ("key-create", None, None),  # the making of the subject's own key
    ]
    assert audit[0]["detail"]["receipt"]["decision_id"] == body["receipt"]["decision_id"]


def test_the_audit_filter_is_a_checked_code(client: TestClient, tokens: dict[str, str]) -> None:
    """A malformed ``subject`` filter is a 422 naming it, on both backends (PostgreSQL refuses a
    NUL byte in a text parameter: schemathesis found it as a 500)."""
    h = {"X-API-Key": tokens["operator"]}
    for bad in ("\x00", "12345", "X" * 18):
        r = client.get("/audit", params={"subject": bad}, headers=h)
        assert r.status_code == 422, (bad, r.text)
        assert r.json()["error"].startswith("subject: invalid"), r.json()
    assert client.get("/audit", params={"subject": P}, headers=h).status_code == 200


def test_a_nul_character_is_a_422_naming_the_field(client: TestClient, tokens: dict[str, str]) -> None:
    """On both backends: PostgreSQL refuses NUL in text, so a purpose, statement or filter holding
    one must be refused at the door, not fail in the audit log's insert as a 500."""
    h = {"X-API-Key": tokens["operator"]}
    r = client.post("/decisions", headers=h, json={"subject": P, "measure": "no-flights", "purpose": "a\x00"})
    assert r.status_code == 422 and r.json()["error"].startswith("purpose:"), r.text
    r = client.post("/objections", headers=h, json={"subject": P, "record_id": "\x00", "statement": "x"})
    assert r.status_code == 422 and r.json()["error"].startswith("record_id:"), r.text
    r = client.get(f"/subjects/{P}", params={"purpose": "look\x00"}, headers=h)
    assert r.status_code == 422 and r.json()["error"].startswith("query.purpose:"), r.text
    ok = client.post("/decisions", headers=h, json={"subject": P, "measure": "no-flights", "purpose": "a b"})
    assert ok.status_code == 200


def test_subject_view_explains_the_score(client: TestClient, tokens: dict[str, str]) -> None:
    client.post("/records", headers={"X-API-Key": tokens["agency"]}, json={"records": [record(1)]})
    body = client.get(f"/subjects/{P}", headers={"X-API-Key": tokens["subject"]}).json()
    rc = next(s for s in body["scores"] if s["scheme"] == "rongcheng")
    assert rc["score"] == 995 and rc["explanation"][0]["points"] == -5
    past = client.get(
        f"/subjects/{P}", params={"as_of": "2026-05-01T00:00:00"}, headers={"X-API-Key": tokens["subject"]}
    ).json()
    assert next(s for s in past["scores"] if s["scheme"] == "rongcheng")["score"] == 1000


def test_a_capped_score_is_explained_by_a_line_of_its_own(client: TestClient, tokens: dict[str, str]) -> None:
    """Suining's maximum (suining-2010.yaml: "every resident starts at the maximum of 1,000
    points"; ``maximum: 1000``): a model worker's +100 with -50 and -20 sums to 1,030, and the
    explanation says where the other 30 went (issue 16)."""
    rows = [
        record(1, item="honour.model-worker", source="trade-union"),
        record(2, item="traffic.red-light"),
        record(3),
        record(4, item="identity.verified", source="public-security"),  # joins Sesame (a factor model)
    ]
    r = client.post("/records", headers={"X-API-Key": tokens["operator"]}, json={"records": rows})
    assert r.json()["accepted"] == 4, r.text
    body = client.get(f"/subjects/{P}", headers={"X-API-Key": tokens["subject"]}).json()
    su = next(s for s in body["scores"] if s["scheme"] == "suining-2010")
    assert su["score"] == 1000 and su["clamped"] and sum(c["points"] for c in su["explanation"]) == 30
    assert su["adjustments"] == [
        {"kind": "maximum", "points": -30, "bound": 1000, "text": "capped at the maximum of 1,000: -30"}
    ]
    for s in body["scores"]:
        lines = s["explanation"] if s["kind"] == "points" else s["factors"] if s["kind"] == "factor" else None
        if lines is not None:
            total = s["start"] + sum(x["points"] for x in lines) + sum(a["points"] for a in s["adjustments"])
            assert abs(total - s["score"]) < 1e-6, s
    sesame = next(s for s in body["scores"] if s["scheme"] == "sesame")
    assert sesame["start"] == 350 and [a["kind"] for a in sesame["adjustments"]] in ([], ["rounding"])
    rc = next(s for s in body["scores"] if s["scheme"] == "rongcheng")  # no maximum: no line
    assert rc["adjustments"] == [] and not rc["clamped"] and rc["start"] == 1000
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["ScoreOut"]["properties"]["adjustments"]["items"] == {
        "$ref": "#/components/schemas/AdjustmentOut"
    }
    assert schemas["AdjustmentOut"]["properties"]["kind"]["enum"] == ["maximum", "minimum", "rounding"]


def test_bad_requests_name_the_field(client: TestClient, tokens: dict[str, str]) -> None:
    h = {"X-API-Key": tokens["operator"]}
    r = client.post(
        "/decisions",
        headers=h,
        json={"subject": "110105194912310021", "measure": "no-flights", "purpose": "x"},
    )
    assert r.status_code == 422 and r.json()["error"].startswith("subject: invalid checksum")
    r = client.post("/decisions", headers=h, json={"subject": P, "measure": "no-such", "purpose": "x"})
    assert r.status_code == 404 and "measure" in r.json()["error"]
    r = client.post("/decisions", headers=h, json={"subject": P, "measure": "no-flights"})
    assert r.status_code == 422 and r.json()["error"].startswith("purpose")
    r = client.post("/records", headers={**h, "Content-Type": "application/json"}, content=b"{not json")
    assert r.status_code == 400 and r.json()["error"].startswith("body: not valid JSON")
    r = client.post("/records", headers={**h, "Content-Length": str(9 * 1024 * 1024)}, content=b"x")
    assert r.status_code == 413
    r = client.get("/subjects/123", headers=h)
    assert r.status_code == 422 and r.json()["error"].startswith("subject: invalid length")


def test_keys_lifecycle_over_http(client: TestClient, tokens: dict[str, str]) -> None:
    h = {"X-API-Key": tokens["operator"]}
    new = client.post("/keys", headers=h, json={"role": "subject", "principal": org(5)}).json()
    assert client.get(f"/subjects/{org(5)}", headers={"X-API-Key": new["token"]}).status_code == 200
    listed = client.get("/keys", headers=h).json()["data"]
    assert all("token" not in k for k in listed)
    assert client.delete(f"/keys/{new['key_id']}", headers=h).status_code == 200
    r = client.get(f"/subjects/{org(5)}", headers={"X-API-Key": new["token"]})
    assert r.status_code == 401 and "revoked" in r.json()["error"]
    bad = client.post("/keys", headers=h, json={"role": "subject", "principal": "123"})
    assert bad.status_code == 422 and "principal" in bad.json()["error"]
