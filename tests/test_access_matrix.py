"""Access: every operation in the app's OpenAPI document, against every role and no key.

Why a second matrix beside tests/test_api.py's: this one is checked against the OpenAPI document
itself, so an endpoint added without an access rule here fails the suite. An allowed caller gets
the status named (or, for ``REACHES``, any answer from the handler: not 401/403, no server
error); everyone else gets 401 without a key and 403 with one, in the one error shape, with no
data about the subject in the refusal. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from socialcredit.api import create_app
from socialcredit.service import System
from socialcredit.store import Store
from tests.conftest import Clock, org, person
from tests.support.apps import served
from tests.support.prepared import Prepared
from tests.support.worlds import world_store

P, OTHER = person(91), person(92)
ROLES: dict[str, str | None] = {
    "operator": "wang.fang",
    "agency": "traffic-police",
    "relying_party": "airlines",
    "subject": P,
    "auditor": None,
}
CALLERS = [*ROLES, "none"]
REACHES = -1  # the handler answered (any status but 401/403/5xx)
RECORD = "RECORD-ID"
"""Stands for the id of P's record m-1 in paths and bodies: keyed by the test's store (decision
0080), so known only once it is stored (``objection``)."""
EVERYONE = dict.fromkeys(CALLERS, 200)


def rec(n: int) -> dict[str, Any]:
    return {
        "subject": P,
        "item": "traffic.minor",
        "source": "traffic-police",
        "source_record_id": f"m-{n}",
        "occurred_on": "2026-06-01",
    }


# (operation as in the OpenAPI document, concrete path, body, caller -> expected status)
MATRIX: list[tuple[str, str, Any, dict[str, int]]] = [
    ("GET /health", "/health", None, EVERYONE),
    ("POST /records", "/records", {"records": [rec(2)]}, {"operator": 200, "agency": 200}),
    ("GET /subjects/{code}", f"/subjects/{P}", None, {"operator": 200, "subject": 200}),
    ("GET /subjects/{code}/history", f"/subjects/{P}/history", None, {"operator": 200, "subject": 200}),
    ("POST /subjects", "/subjects", {"subjects": [{"code": OTHER}]}, {"operator": 200}),
    (
        "POST /subjects/{code}/documents",
        f"/subjects/{P}/documents",
        {"type": "passport", "issuing_state": "CHN", "number": "E12345678", "evidence": "bureau"},
        {"operator": REACHES},
    ),
    ("GET /subjects/{code}/documents", f"/subjects/{P}/documents", None, {"operator": 200, "subject": 200}),
    (
        "POST /decisions",
        "/decisions",
        {"subject": P, "measure": "no-flights", "purpose": "ticket"},
        {"operator": 200, "relying_party": 200},
    ),
    # a decision no one asked: every key is told it does not exist (its asker, operators and
    # auditors may reproduce one that does: tests/test_knowledge_time.py)
    (
        "GET /decisions/{decision_id}",
        "/decisions/dec-0000000000000000",
        None,
        {c: 404 for c in CALLERS if c != "none"},
    ),
    ("GET /audit", "/audit", None, {"operator": 200, "auditor": 200, "subject": 200}),
    ("GET /audit/export", "/audit/export", None, {"operator": 200, "auditor": 200}),
    ("GET /verify", "/verify", None, {"operator": 200, "auditor": 200}),
    ("POST /keys", "/keys", {"role": "auditor"}, {"operator": 201}),
    ("GET /keys", "/keys", None, {"operator": 200}),
    ("DELETE /keys/{key_id}", "/keys/nosuchkey", None, {"operator": 404}),
    ("POST /keys/{key_id}/rotate", "/keys/nosuchkey/rotate", None, {"operator": 404}),
    ("GET /schemes", "/schemes", None, EVERYONE),
    ("GET /schemes/{scheme_id}", "/schemes/rongcheng", None, EVERYONE),
    (
        "POST /objections",
        "/objections",
        {"subject": P, "record_id": RECORD, "statement": "this was not me"},
        {"operator": REACHES, "subject": REACHES},
    ),
    ("GET /objections", "/objections", None, {"operator": 200, "subject": 200}),
    (
        "POST /objections/{objection_id}/decision",
        "/objections/nosuch/decision",
        {"upheld": True, "reason": "checked"},
        {"operator": 404},
    ),
    (
        "POST /objections/{objection_id}/appeal",
        "/objections/OBJECTION/appeal",
        {"statement": "please look again"},
        {"operator": REACHES, "subject": REACHES},
    ),
    (
        "POST /reviews",
        "/reviews",
        {"subject": P, "list_id": "rongcheng/d-grade", "statement": "a person should look at this"},
        {"operator": REACHES, "subject": REACHES},
    ),
    (
        "POST /reviews/{review_id}/decision",
        "/reviews/nosuch/decision",
        {"upheld": True, "reason": "checked"},
        {"operator": 404},
    ),
    (
        "POST /reviews/{review_id}/appeal",
        "/reviews/nosuch/appeal",
        {"statement": "please look again"},
        {"operator": 404, "subject": 404},
    ),
    (
        "POST /restorations",
        "/restorations",
        {
            "subject": P,
            "record_id": RECORD,
            "conduct_corrected": "yes",
            "obligations_fulfilled": "paid",
            "commitment": "I will keep the rules",
        },
        {"operator": REACHES, "subject": REACHES},
    ),
    (
        "POST /restorations/{case_id}/decision",
        "/restorations/nosuch/decision",
        {"upheld": True, "reason": "checked"},
        {"operator": 404},
    ),
    # a government record that stands is never erased on request: the handler refuses it (422)
    (
        "POST /subjects/{code}/erasure-requests",
        f"/subjects/{P}/erasure-requests",
        {"record_id": RECORD, "statement": "erase it"},
        {"operator": REACHES, "subject": REACHES},
    ),
    (
        "POST /erasure-requests/{case_id}/decision",
        "/erasure-requests/nosuch/decision",
        {"upheld": True, "reason": "checked"},
        {"operator": 404},
    ),
    ("GET /subjects/{code}/notices", f"/subjects/{P}/notices", None, {"operator": 200, "subject": 200}),
    ("GET /subjects/{code}/enrolments", f"/subjects/{P}/enrolments", None, {"operator": 200, "subject": 200}),
    # only the subject leaves; P has not joined Sesame, so its own key meets a 409
    (
        "POST /subjects/{code}/enrolments/{scheme}/withdraw",
        f"/subjects/{P}/enrolments/sesame/withdraw",
        None,
        {"subject": 409},
    ),
    # only the subject applies or consents (issue 19; decision 0042); P has not consented yet
    (
        "POST /subjects/{code}/enrolments/{scheme}/apply",
        f"/subjects/{P}/enrolments/honest-shanghai/apply",
        None,
        {"subject": 200},
    ),
    ("GET /subjects/{code}/consents", f"/subjects/{P}/consents", None, {"operator": 200, "subject": 200}),
    (
        "POST /subjects/{code}/consents/{scheme}/{list_id}/give",
        f"/subjects/{P}/consents/rongcheng/honour-roll/give",
        None,
        {"subject": 200},
    ),
    (
        "POST /subjects/{code}/consents/{scheme}/{list_id}/withdraw",
        f"/subjects/{P}/consents/rongcheng/honour-roll/withdraw",
        None,
        {"subject": 409},
    ),
    ("GET /notices/pending", "/notices/pending", None, {"operator": 200}),
    ("GET /overdue", "/overdue", None, {"operator": 200}),
    (
        "GET /public/lists/{scheme_id}/{list_id}",
        "/public/lists/court-dishonest-debtors/dishonest-debtors",
        None,
        EVERYONE,
    ),
    # a person's record is private under the schemes in force, whoever asks; an organisation's is public
    ("GET /public/subjects/{code}", f"/public/subjects/{P}", None, dict.fromkeys(CALLERS, 403)),
    ("GET /public/subjects/{code}", f"/public/subjects/{org(91)}", None, EVERYONE),
    ("GET /public/transparency", "/public/transparency", None, EVERYONE),
    # the transparency log (issue 22): a record's proof for its subject, operators and auditors;
    # an audit entry's for them (entry 1 is the batch's, about no subject); checkpoints and
    # consistency proofs for anyone
    (
        "GET /records/{record_id}/proof",
        f"/records/{RECORD}/proof",
        None,
        {"operator": 200, "auditor": 200, "subject": 200},
    ),
    ("GET /audit/{seq}/proof", "/audit/1/proof", None, {"operator": 200, "auditor": 200}),
    ("GET /log/{chain}/checkpoint", "/log/records/checkpoint", None, EVERYONE),
    ("GET /log/{chain}/consistency", "/log/records/consistency?from=0&to=1", None, EVERYONE),
    # the newest cosigned checkpoint, for anyone: none cosigned here, so 404 to all (decision 0066)
    (
        "GET /log/{chain}/checkpoint/cosigned",
        "/log/records/checkpoint/cosigned",
        None,
        dict.fromkeys(CALLERS, 404),
    ),
    # its tiles, entries bundles and epoch records for anyone; a cosignature from anyone, refused
    # unless the log signed the checkpoint and knows the witness (decision 0056)
    ("GET /log/{chain}/tile/{level}/{index}", "/log/records/tile/0/000.p/1", None, EVERYONE),
    ("GET /log/{chain}/tile/entries/{index}", "/log/records/tile/entries/000.p/1", None, EVERYONE),
    ("GET /log/{chain}/epochs", "/log/records/epochs", None, EVERYONE),
    (
        "POST /log/{chain}/cosignature",
        "/log/records/cosignature",
        {"note": f"socialcredit.local/records\n1\n{'A' * 43}=\n\n\u2014 w.example AAAAAAAA\n"},
        dict.fromkeys(CALLERS, REACHES),
    ),
    ("GET /public/sources", "/public/sources", None, EVERYONE),
]


def build_world(system: System) -> tuple[dict[str, str], str]:
    """A key for each role, a record of P's and an objection to it, so that appeals have
    something to act on (through the API, as a client would make them)."""
    tokens = {role: system.create_key(role, p).token for role, p in ROLES.items()}  # type: ignore[arg-type]
    client = TestClient(served(system))
    op = {"X-API-Key": tokens["operator"]}
    assert client.post("/records", json={"records": [rec(1)]}, headers=op).json()["accepted"] == 1
    record = system.store.stored_record_id("traffic-police", "m-1")
    r = client.post(
        "/objections", json={"subject": P, "record_id": record, "statement": "not mine"}, headers=op
    )
    assert r.status_code == 201, r.text
    client.close()
    return tokens, str(r.json()["id"])


@pytest.fixture
def world(store_url: str, prepared: Prepared, clock: Clock) -> tuple[Store, tuple[dict[str, str], str]]:
    """The world in the test's own database: built once per test process and copied for each
    test (tests/support/worlds.py, decision 0093), since the tests write to it."""
    return world_store(store_url, prepared, clock, "access-matrix", build_world)


@pytest.fixture
def store(world: tuple[Store, tuple[dict[str, str], str]]) -> Iterator[Store]:
    yield world[0]
    world[0].close()


@pytest.fixture
def tokens(world: tuple[Store, tuple[dict[str, str], str]]) -> dict[str, str]:
    return world[1][0]


@pytest.fixture
def objection(world: tuple[Store, tuple[dict[str, str], str]]) -> str:
    return world[1][1]


def test_the_matrix_covers_every_operation(system: System) -> None:
    documented = {
        f"{method.upper()} {path}"
        for path, ops in create_app(system).openapi()["paths"].items()
        for method in ops
    }
    assert {op for op, *_ in MATRIX} == documented


@pytest.mark.parametrize(("operation", "path", "body", "allowed"), MATRIX, ids=[m[0] for m in MATRIX])
def test_access(
    client: TestClient,
    tokens: dict[str, str],
    objection: str,
    system: System,
    operation: str,
    path: str,
    body: Any,
    allowed: dict[str, int],
) -> None:
    method = operation.split()[0]
    record = system.store.stored_record_id("traffic-police", "m-1")
    path = path.replace(RECORD, record)
    if body is not None:
        body = json.loads(json.dumps(body).replace(RECORD, record))
    for caller in CALLERS:
        headers = {} if caller == "none" else {"Authorization": f"Bearer {tokens[caller]}"}
        r = client.request(method, path.replace("OBJECTION", objection), json=body, headers=headers)
        want = allowed.get(caller, 401 if caller == "none" else 403)
        if want == REACHES:
            assert r.status_code not in (401, 403) and r.status_code < 500, (caller, r.status_code, r.text)
        else:
            assert r.status_code == want, (caller, r.status_code, r.text)
        if r.status_code >= 400:
            data = r.json()
            assert data == {
                "ok": False,
                "error": data["error"],
                "errors": data["errors"],
                "status": r.status_code,
            }
        if r.status_code in (401, 403):
            assert P not in r.text and OTHER not in r.text  # a refusal carries no data
