"""The API as an HTTP citizen (issue #18): documentation that works offline, the key's security
schemes declared, bodies that are not JSON or not sent as JSON told so plainly, 403 before 422,
405 with ``Allow``, identity codes described by the schema. Each test is one defect reported."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from socialcredit import codes
from socialcredit.api.errors import RESPONSES, ErrorOut
from socialcredit.service import System
from tests.conftest import org, person
from tests.support.api import h

P = person(31)


def test_docs_and_redoc_load_nothing_from_another_host(client: TestClient) -> None:
    for page in ("/docs", "/redoc"):
        r = client.get(page)
        assert r.status_code == 200, page
        sources = re.findall(r'(?:src|href)="([^"]+)"', r.text)
        assert sources and all(s.startswith("/") for s in sources), (page, sources)
        assert "cdn" not in r.text.lower() and "fonts.googleapis" not in r.text
        for source in sources:
            got = client.get(source)
            assert got.status_code == 200 and len(got.content) > 1000, source


def test_the_openapi_document_declares_how_the_key_is_sent(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "API key",
        "description": "Authorization: Bearer <API key>",
    }
    assert schemes["apiKey"]["in"] == "header" and schemes["apiKey"]["name"] == "X-API-Key"
    both = [{"bearer": []}, {"apiKey": []}]
    for path, method in (("/records", "post"), ("/decisions", "post"), ("/keys", "get"), ("/audit", "get")):
        assert doc["paths"][path][method]["security"] == both, (method, path)
    assert "security" not in doc["paths"]["/public/transparency"]["get"]


def test_malformed_json_is_400_saying_where(client: TestClient, system: System) -> None:
    for path in ("/records", "/decisions"):
        r = client.post(
            path,
            headers={**h(system, "operator", "wang.fang"), "Content-Type": "application/json"},
            content=b'{"records": [1,\n  oops]}',
        )
        assert r.status_code == 400, path
        assert r.json()["error"] == "body: not valid JSON: Expecting value (line 2, column 3)", path


def test_a_body_not_sent_as_json_is_415(client: TestClient, system: System) -> None:
    key = h(system, "operator", "wang.fang")
    body = b'{"records": []}'
    for path in ("/records", "/decisions", "/keys"):
        r = client.post(path, headers={**key, "Content-Type": "text/plain"}, content=body)
        assert r.status_code == 415, path
        assert r.json() == {
            "ok": False,
            "error": "Content-Type: the body must be sent as application/json, not as 'text/plain'",
            "errors": ["Content-Type: the body must be sent as application/json, not as 'text/plain'"],
            "status": 415,
        }
        r = client.post(path, headers=key, content=body)  # no Content-Type at all
        assert r.status_code == 415 and "no Content-Type" in r.json()["error"], path
    r = client.post(
        "/records", headers={**key, "Content-Type": "application/json; charset=utf-8"}, content=body
    )
    assert r.status_code == 200


def test_a_query_parameter_given_twice_is_400_naming_it(client: TestClient, system: System) -> None:
    """Every query parameter is one value; FastAPI would quietly take the last of two, answering
    a request the schema does not allow (schemathesis: ``/audit/export?key=a&key=b``)."""
    auditor = h(system, "auditor", "audit-office")
    r = client.get("/audit?key=abc&key=def", headers=auditor)
    assert r.status_code == 400 and r.json()["error"].startswith("key: a query parameter may be given once")
    assert client.get("/audit?key=abc", headers=auditor).status_code == 200
    # the portal's forms are left alone (a form may repeat a field by design)
    assert client.get("/portal/lists?x=1&x=2").status_code != 400


def test_a_subject_posting_records_is_told_who_may(client: TestClient, system: System) -> None:
    r = client.post("/records", headers=h(system, "subject", P), json={"records": []})
    assert r.status_code == 403
    assert r.json()["error"] == "your key may not submit records: only agencies and operators do"


def test_a_forbidden_role_is_403_before_its_body_is_judged(client: TestClient, system: System) -> None:
    """The body is invalid in each request; the key may not call the route at all."""
    subject, agency = h(system, "subject", P), h(system, "agency", "traffic-police")
    for headers, path, body in (
        (subject, "/records", {"rows": "not a list"}),
        (subject, "/keys", {"role": "emperor"}),
        (agency, "/subjects", {}),
        (agency, "/decisions", {"subject": 5}),
        (agency, "/objections/x/decision", {"upheld": "perhaps"}),
        (subject, "/restorations/x/decision", {}),
    ):
        r = client.post(path, headers=headers, json=body)
        assert r.status_code == 403, (path, r.text)


def test_405_says_which_methods_are_allowed(client: TestClient, system: System) -> None:
    key = h(system, "operator", "wang.fang")
    for method, path, allowed in (
        ("PUT", "/records", "POST"),
        ("GET", "/decisions", "POST"),
        ("PATCH", "/keys", "GET, POST"),
        ("GET", "/keys/abc/rotate", "POST"),
    ):
        r = client.request(method, path, headers=key)
        assert r.status_code == 405, (method, path)
        assert r.headers["allow"] == allowed, (method, path)
        assert r.json()["error"] == f"method: {method} is not allowed on {path}; allowed: {allowed}"


def test_the_schema_states_what_an_identity_code_looks_like(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    body = doc["paths"]["/decisions"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    [decision] = [b for b in body["properties"]["subject"]["anyOf"] if b["type"] == "string"]  # or a document
    assert decision["pattern"] == codes.PATTERN and decision["format"] == "identity-code"
    path = doc["paths"]["/subjects/{code}"]["get"]["parameters"][0]["schema"]
    assert path["pattern"] == codes.PATTERN
    for code in (P, org(3), "11010519491231002X"):
        assert re.fullmatch(codes.PATTERN, code)
    for code in ("11010519491231002x", "1101051949123100", "91110000600037341I"):
        assert not re.fullmatch(codes.PATTERN, code)
    # a rule across fields, stated: a subject's key is bound to an identity code
    key_rules = doc["components"]["schemas"]["KeyIn"]["allOf"]
    assert key_rules[0]["then"] == {
        "required": ["principal"],
        "properties": {"principal": {"type": "string", "format": "identity-code", "pattern": codes.PATTERN}},
    }


def test_a_time_in_a_query_is_an_iso_date_time(client: TestClient, system: System) -> None:
    """``as_of=3.04e-127`` was read as seconds since 1970 (schemathesis, negative data)."""
    key = h(system, "operator", "wang.fang")
    r = client.get(f"/subjects/{P}", params={"as_of": "3.04e-127"}, headers=key)
    assert r.status_code == 422
    assert r.json()["error"] == "as_of: '3.04e-127' is not an ISO date or date-time like 2025-06-30"
    assert (
        client.get(f"/subjects/{P}", params={"as_of": "2026-11-01T00:00:00Z"}, headers=key).status_code == 200
    )


def test_every_operation_documents_the_error_shape_as_fastapi_would_from_the_model(
    client: TestClient,
) -> None:
    """The error responses name ``ErrorOut``'s schema instead of giving FastAPI the model, which
    built a TypeAdapter per status, route and app (decision 0085). The document must say what the
    model said: FastAPI's own rendering of the model, on an app of one route, is the reference."""
    reference = FastAPI()

    @reference.get("/x", responses={s: {**r, "model": ErrorOut} for s, r in RESPONSES.items()})
    def x() -> dict[str, int]:
        return {}

    ref = reference.openapi()
    doc = client.get("/openapi.json").json()
    assert doc["components"]["schemas"]["ErrorOut"] == ref["components"]["schemas"]["ErrorOut"]
    expected = {k: v for k, v in ref["paths"]["/x"]["get"]["responses"].items() if k != "200"}
    assert len(expected) == len(RESPONSES) == 11
    operations = [op for item in doc["paths"].values() for op in item.values()]
    assert len(operations) > 50
    for op in operations:
        assert {k: v for k, v in op["responses"].items() if k in expected} == expected, op["operationId"]
