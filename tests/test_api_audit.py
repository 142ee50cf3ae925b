"""The audit log over the API (issue 18): filters by kind, principal, key, subject and days, the
CSV export of what they select, and the export itself audited. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io

from fastapi.testclient import TestClient

from socialcredit.service import System
from tests.conftest import Clock, person

P, Q = person(81), person(82)


def _world(client: TestClient, system: System, clock: Clock) -> tuple[dict[str, str], dict[str, str]]:
    """An operator and an auditor; two batches a day apart, an airline's decision, a new key."""
    op = system.create_key("operator", "wang.fang")
    auditor = {"X-API-Key": system.create_key("auditor", None).token}
    h = {"X-API-Key": op.token}
    row = {"subject": P, "item": "traffic.minor", "source": "traffic-police", "occurred_on": "2026-06-01"}
    assert (
        client.post("/records", headers=h, json={"records": [{**row, "source_record_id": "a-1"}]}).status_code
        == 200
    )
    clock.advance(days=1)
    assert (
        client.post(
            "/records", headers=h, json={"records": [{**row, "subject": Q, "source_record_id": "a-2"}]}
        ).status_code
        == 200
    )
    airline = client.post("/keys", headers=h, json={"role": "relying_party", "principal": "airlines"}).json()
    r = client.post(
        "/decisions",
        headers={"X-API-Key": airline["token"]},
        json={"subject": P, "measure": "no-flights", "purpose": "=cmd|' /C calc'!A0"},
    )
    assert r.status_code == 200, r.text
    return h, auditor


def test_filters(client: TestClient, system: System, clock: Clock) -> None:
    h, auditor = _world(client, system, clock)
    day1 = (clock.now - dt.timedelta(days=1)).date().isoformat()
    day2 = clock.now.date().isoformat()

    def seen(**params: str) -> list[dict[str, object]]:
        r = client.get("/audit", headers=auditor, params=params)
        assert r.status_code == 200, r.text
        return r.json()["data"]  # type: ignore[no-any-return]

    assert {e["action"] for e in seen(action="ingest")} == {"ingest"} and len(seen(action="ingest")) == 2
    assert [e["detail"]["submitted"] for e in seen(action="ingest", since=day2)] == [1]
    assert len(seen(action="ingest", until=day1)) == 1
    assert {e["action"] for e in seen(principal="airlines")} == {"decision"}
    (made,) = seen(action="key-create", principal="wang.fang")
    assert made["detail"]["principal"] == "airlines"
    by_key = seen(key=made["key_id"])
    assert by_key and all(e["key_id"] == made["key_id"] for e in by_key)
    (about_p,) = seen(subject=P)
    assert about_p["action"] == "decision" and about_p["subject"] != P  # masked for an auditor
    assert seen(subject=Q) == []
    (whole,) = client.get("/audit", headers=h, params={"subject": P}).json()["data"]
    assert whole["subject"] == P  # an operator sees it whole
    # refusals name the field
    assert seen(since=day2, until=day1) == []  # a backwards range selects nothing (schema-valid)
    r = client.get("/audit", headers=auditor, params={"action": "DROP TABLE"})
    assert r.status_code == 422 and "action" in r.json()["error"]
    # a day is YYYY-MM-DD: not a number read as a Unix time, not 20260105, not 30 February;
    # an empty subject is no code (schemathesis found each accepted)
    for params in ({"since": "-1.1e-238"}, {"until": "20260105"}, {"since": "2026-02-30"}, {"subject": ""}):
        r = client.get("/audit", headers=auditor, params=params)
        assert r.status_code == 422 and next(iter(params)) in r.json()["error"], (params, r.text)


def test_csv_export_is_filtered_and_audited(client: TestClient, system: System, clock: Clock) -> None:
    h, auditor = _world(client, system, clock)
    r = client.get("/audit/export", headers=auditor, params={"action": "decision"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [x["action"] for x in rows] == ["decision"]
    assert rows[0]["subject"] != P and rows[0]["subject"].endswith(P[-4:])  # masked for an auditor
    assert rows[0]["purpose"].startswith("'=")  # a spreadsheet shows it, never runs it
    assert rows[0]["detail"].startswith("{")
    everything = list(csv.DictReader(io.StringIO(client.get("/audit/export", headers=h).text)))
    assert len(everything) == len(system.store.audit_entries(limit=10_000))
    assert everything[0]["subject"] in ("", P, Q) or len(everything[0]["subject"]) == 18
    exports = [e for e in system.store.audit_entries(limit=100) if e["action"] == "audit-export"]
    assert [e["detail"]["filters"] for e in exports] == [{}, {"action": "decision"}]
    assert exports[1]["role"] == "auditor" and exports[0]["role"] == "operator"
    # only auditors and operators export
    airline = system.create_key("relying_party", "airlines").token
    assert client.get("/audit/export", headers={"X-API-Key": airline}).status_code == 403
    assert client.get("/audit/export").status_code == 401
