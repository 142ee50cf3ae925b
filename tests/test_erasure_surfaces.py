"""Erasure on request through each surface (issue 21 point 3, decision 0054): the HTTP API, the
portal (the subject's form, the operator desk, the erased lines) and the command line; SQLite and
PostgreSQL. The issue: erased records "read as 'erased on D under rule R': they are still counted
by verify, no longer readable"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from socialcredit.api import create_app
from socialcredit.service import System
from tests.conftest import Clock, person
from tests.support.api import h
from tests.support.cli import jrun, run
from tests.support.portal import client_for, post_form
from tests.support.recordids import cli_record_id

P = person(73)
OP = "chen.jing"
ROWS: list[dict[str, Any]] = [
    {"subject": P, "item": "identity.verified", "source": "public-security", "source_record_id": "v-73",
     "occurred_on": "2026-01-05", "reported_at": "2026-01-05T09:00:00"},
    {"subject": P, "item": "consumption.video-game-hours", "source": "online-platforms",
     "source_record_id": "g-73", "occurred_on": "2026-02-01", "reported_at": "2026-02-01T09:00:00",
     "evidence": "orders 4471-4490"},
]  # fmt: skip


def test_erasure_over_http(client: TestClient, system: System, clock: Clock) -> None:
    op, me = h(system, "operator", OP), h(system, "subject", P)
    assert client.post("/records", json={"records": ROWS}, headers=op).json()["accepted"] == 2
    joined, games = (system.store.stored_record_id(r["source"], r["source_record_id"]) for r in ROWS)
    asked = {"record_id": games, "statement": "I left Sesame Credit."}
    assert client.post(f"/subjects/{person(74)}/erasure-requests", json=asked, headers=me).status_code == 403
    r = client.post(f"/subjects/{P}/erasure-requests", json=asked, headers=me)
    assert r.status_code == 201, r.text
    case = r.json()
    assert (case["kind"], case["status"], case["open"]) == ("erasure", "under review", True)
    assert set(case["detail"]["record_ids"]) == {joined, games}
    assert case["detail"]["decision_due"] == "2026-11-17"
    listed = client.get("/objections", params={"subject": P}, headers=me).json()["data"]
    assert [c["id"] for c in listed] == [case["id"]]
    wrong = client.post(
        f"/subjects/{P}/erasure-requests", json={"record_id": "0" * 32, "statement": "x"}, headers=me
    )
    assert wrong.status_code == 404 and wrong.json()["error"].startswith("record_id:"), wrong.text
    decided = f"/erasure-requests/{case['id']}/decision"
    assert client.post(decided, json={"upheld": True, "reason": "x"}, headers=me).status_code == 403
    r = client.post(decided, json={"upheld": True, "reason": "PIPL Art. 47"}, headers=op)
    assert r.status_code == 200, r.text
    assert r.json()["detail"]["rule"] == f"erasure on request, case {case['id']}"
    seen = client.get(f"/subjects/{P}", headers=me).json()
    assert seen["records"] == []
    assert [(e["record_id"], e["erased_on"], e["rule"]) for e in seen["erased_records"]] == [
        (joined, "2026-11-02", f"erasure on request, case {case['id']}"),
        (games, "2026-11-02", f"erasure on request, case {case['id']}"),
    ]
    assert seen["erased_records"][0]["label"] == (
        f"erased on 2026-11-02 under rule erasure on request, case {case['id']}"
    )
    again = client.post(decided, json={"upheld": False, "reason": "again"}, headers=op)
    assert again.status_code == 409


def test_erasure_in_the_portal(system: System) -> None:
    system.ingest(list(enumerate(ROWS, 1)), origin="t", principal=system.operator())
    games = system.store.stored_record_id("online-platforms", "g-73")
    app = create_app(system)
    member = client_for(app, system.create_key("subject", P).token)
    desk = client_for(app, system.create_key("operator", OP).token)
    page = f"/portal/subjects/{P}"
    shown = member.get(page).text
    assert 'id="erasure-form"' in shown and f'value="{games}"' in shown
    r = post_form(member, page, f"{page}/erasure-requests", {"record_id": games, "statement": ""})
    assert r.status_code == 422 and 'id="erasure-error"' in r.text  # the error beside the form
    r = post_form(member, page, f"{page}/erasure-requests", {"record_id": games, "statement": "I left."})
    assert r.status_code == 303, r.text
    case = next(c for c in system.cases(principal=system.operator(), subject=P))
    assert "erase record" in member.get(r.headers["location"]).text
    board = desk.get("/portal/operator").text
    assert f'id="case-{case.id}"' in board and "Erasure request" in board and "2026-11-17" in board
    r = post_form(
        desk, "/portal/operator", f"/portal/cases/{case.id}/decision", {"outcome": "grant", "reason": "ok"}
    )
    assert r.status_code == 303, r.text
    after = member.get(page).text
    assert f'data-testid="erased-{games}"' in after and "orders 4471-4490" not in after
    assert f"erasure on request, case {case.id}" in after
    chinese = client_for(app, system.create_key("subject", P).token, lang="zh-CN").get(page).text
    assert f"依申请删除，案件 {case.id}" in chinese and "已删除" in chinese


def test_erasure_from_the_command_line(env: Path) -> None:
    f = env / "r.jsonl"
    f.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    assert jrun("ingest", str(f))["accepted"] == 2
    joined, games = (cli_record_id(r["source"], r["source_record_id"]) for r in ROWS)
    refused = run("cases", "erase", P, "0" * 32, "--statement", "x")
    assert refused.exit_code != 0 and "record_id" in refused.output.lower()
    case = jrun("cases", "erase", P, games, "--statement", "asked on paper")
    assert case["kind"] == "erasure" and set(case["detail"]["record_ids"]) == {joined, games}
    shown = run("cases", "list", P)
    assert f"erasure {case['id']} of {games}" in shown.output and "2 records of 2026" in shown.output
    done = jrun("cases", "decide", case["id"], "--uphold", "--reason", "left Sesame", "--by", OP)
    assert done["status"] == "granted" and done["detail"]["decided_by"] == OP
    view = jrun("score", P)
    assert view["records"] == [] and {e["record_id"] for e in view["erased_records"]} == {joined, games}
    text = run("score", P).output
    assert f"record {games}: erased on " in text and f"erasure on request, case {case['id']}" in text
