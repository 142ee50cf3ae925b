"""``--json`` is the API's answer: each command prints the pydantic model the API answers the same
request with (``socialcredit.api.models``), so the two shapes cannot drift. For a few commands
the printed JSON is held to the model and to the API's very answer over HTTP for the same request,
on the same database. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import BaseModel

from socialcredit.api import create_app
from socialcredit.api.casemodels import CasesOut, PublicListOut, SourcesOut, TransparencyOut
from socialcredit.api.decisionmodels import DecisionOut
from socialcredit.api.keymodels import KeysOut
from socialcredit.api.models import IngestOut, SubjectOut, VerifyOut
from socialcredit.api.reports import LintOut
from socialcredit.schemes import shipped_registry
from socialcredit.service import System
from socialcredit.settings import get_settings
from socialcredit.store import Store
from tests.conftest import person
from tests.support.cli import run

P = person(91)
COURT = "court-dishonest-debtors/dishonest-debtors"


@pytest.fixture
def api(env: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:  # noqa: F811
    """The API over the database the command line uses, with an operator's key."""
    system = System(Store(get_settings().url()), shipped_registry())
    headers = {"X-API-Key": system.create_key("operator", "wang.fang").token}
    client = TestClient(create_app(system))  # not entered: no lifespan (decision 0067)
    yield client, headers
    client.close()
    system.store.close()


def printed(model: type[BaseModel], *args: str) -> dict[str, Any]:
    """What ``socialcredit ARGS --json`` prints, checked against ``model``."""
    result = run(*args, "--json")
    assert result.exit_code in (0, 1), result.output
    data: dict[str, Any] = json.loads(result.stdout)
    assert model.model_validate(data).model_dump(mode="json") == data
    return data


def test_json_is_the_apis_answer(env: Path, api: tuple[TestClient, dict[str, str]]) -> None:  # noqa: F811
    client, op = api
    f = env / "r.jsonl"
    rows = [
        {"subject": P, "item": "court.dishonest.able-but-refuses", "source": "court",
         "source_record_id": "c-1", "occurred_on": "2026-09-01", "reported_at": "2026-09-02T09:00:00",
         "details": {"case_number": "(2026) Lu 1082 Zhi 7", "court": "Rongcheng"}},
        {"subject": P, "item": "traffic.minor", "source": "traffic-police", "source_record_id": "t-1",
         "occurred_on": "2026-09-03", "reported_at": "2026-09-03T10:00:00"},
        {"subject": "12345", "item": "traffic.minor", "source": "traffic-police", "source_record_id": "t-2",
         "occurred_on": "2026-09-03"},
    ]  # fmt: skip
    f.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ingested = printed(IngestOut, "ingest", str(f))
    assert (ingested["accepted"], ingested["quarantine"][0]["row_number"]) == (2, 3)

    # the same request, the same answer
    score = printed(SubjectOut, "score", P, "--at", "2026-10-01")
    assert score == client.get(f"/subjects/{P}", params={"as_of": "2026-10-01"}, headers=op).json()
    assert score["lists"][0]["list_id"] == COURT and len(score["records"]) == 2
    assert printed(KeysOut, "keys", "list") == client.get("/keys", headers=op).json()
    assert printed(PublicListOut, "public", "list", COURT) == client.get(f"/public/lists/{COURT}").json()
    case = run("cases", "object", P, "--list", COURT, "--statement", "paid", "--json")
    assert case.exit_code == 0, case.output
    cases = printed(CasesOut, "cases", "list")
    assert cases == client.get("/objections", headers=op).json() and cases["count"] == 1
    assert printed(SourcesOut, "public", "sources") == client.get("/public/sources").json()
    assert printed(VerifyOut, "verify") == client.get("/verify", headers=op).json()

    # the same model, at another moment
    decided = printed(DecisionOut, "check", P, "no-flights")
    asked = client.post(
        "/decisions", json={"subject": P, "measure": "no-flights", "purpose": "x"}, headers=op
    )

    def timeless(d: dict[str, Any]) -> dict[str, Any]:  # a decision's id and times are its own
        receipt = {k: v for k, v in d["receipt"].items() if k not in ("decision_id", "as_of", "known_at")}
        return {**d, "at": None, "receipt": receipt}

    assert timeless(decided) == timeless(asked.json()) and decided["answer"] == "deny"
    report = printed(TransparencyOut, "public", "transparency")
    assert report["objections"]["filed"] == 1 and report["as_of"].endswith("Z")
    assert printed(LintOut, "lint")["ok"] is True
