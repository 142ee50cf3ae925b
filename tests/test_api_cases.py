"""Due process and disclosure over HTTP, with the access rules. SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from socialcredit.service import System
from tests.conftest import Clock, person
from tests.support.api import h

P, OTHER = person(71), person(72)
COURT = "court-dishonest-debtors/dishonest-debtors"
OP = "wang.fang"


def seed(client: TestClient, system: System) -> None:
    rows: list[dict[str, Any]] = [
        {
            "subject": P,
            "item": "court.dishonest.able-but-refuses",
            "source": "court",
            "source_record_id": "c-1",
            "occurred_on": "2026-10-01",
            "reported_at": "2026-10-01T09:00:00",
            "details": {"case_number": "(2026) Lu 1082 Zhi 9", "court": "Rongcheng People's Court"},
        }
    ]
    assert (
        client.post("/records", json={"records": rows}, headers=h(system, "operator", OP)).json()["accepted"]
        == 1
    )


def test_objection_flow_over_http(client: TestClient, system: System) -> None:
    seed(client, system)
    me, op, airline = (
        h(system, "subject", P),
        h(system, "operator", OP),
        h(system, "relying_party", "airlines"),
    )
    ask = {"subject": P, "measure": "no-flights", "purpose": "ticket"}
    assert client.post("/decisions", json=ask, headers=airline).json()["answer"] == "deny"
    r = client.post(
        "/objections",
        json={"subject": P, "list_id": COURT, "statement": "paid in full", "evidence": ["receipt 1"]},
        headers=me,
    )
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["status"] == "under review" and case["detail"]["measures_stay"] is True
    # another subject can neither object for P nor see P's cases
    other = h(system, "subject", OTHER)
    assert (
        client.post(
            "/objections", json={"subject": P, "list_id": COURT, "statement": "x"}, headers=other
        ).status_code
        == 403
    )
    assert client.get("/objections", params={"subject": P}, headers=other).status_code == 403
    assert client.get("/objections", headers=airline).status_code == 403
    # only an operator decides
    decision = {"upheld": True, "reason": "receipt verified"}
    assert client.post(f"/objections/{case['id']}/decision", json=decision, headers=me).status_code == 403
    done = client.post(f"/objections/{case['id']}/decision", json=decision, headers=op).json()
    assert done["status"] == "corrected"
    assert client.post("/decisions", json=ask, headers=airline).json()["answer"] == "allow"
    assert client.get("/public/lists/court-dishonest-debtors/dishonest-debtors").json()["data"] == []
    mine = client.get("/objections", headers=me).json()
    assert [c["id"] for c in mine["data"]] == [case["id"]]
    sources = {s["source"]: s for s in client.get("/public/sources").json()["data"]}
    assert sources["court"]["overturned"] == 1
    assert client.get("/public/transparency").json()["objections"]["upheld"] == 1


def test_appeal_decided_by_another_operator_over_http(client: TestClient, system: System) -> None:
    """SPC provisions, Art. 12 (DOMAIN.md): against a rejection, review by the next higher court,
    "so the first decision and the review are made by different bodies". The operator who
    rejected the objection is refused the appeal (403, the one error shape, naming the rule); a
    colleague decides it; every decision names its decider in the case history."""
    seed(client, system)
    me, op, other = h(system, "subject", P), h(system, "operator", OP), h(system, "operator", "li.na")
    case = client.post(
        "/objections", json={"subject": P, "list_id": COURT, "statement": "x"}, headers=me
    ).json()
    reject = {"upheld": False, "reason": "the judgment stands"}
    assert client.post(f"/objections/{case['id']}/decision", json=reject, headers=op).status_code == 200
    appealed = client.post(f"/objections/{case['id']}/appeal", json={"statement": "new receipt"}, headers=me)
    assert appealed.status_code == 200
    again = h(system, "operator", OP)  # another key of the same person
    r = client.post(f"/objections/{case['id']}/decision", json=reject, headers=again)
    body = r.json()
    assert r.status_code == 403 and body["ok"] is False and body["status"] == 403
    assert body["error"].startswith(f"your key may not decide the appeal of objection {case['id']}: {OP}")
    assert "Art. 12" in body["error"]
    r = client.post(f"/objections/{case['id']}/decision", json=reject, headers=other)
    assert r.status_code == 200 and r.json()["status"] == "closed"
    detail = r.json()["detail"]
    assert (detail["decided_by"], detail["appeal_decided_by"]) == (OP, "li.na")
    assert [(s["event"], s["by"]) for s in detail["history"]] == [
        ("filed", None),
        ("decided", OP),
        ("appealed", None),
        ("appeal_decided", "li.na"),
    ]
    mine = client.get("/objections", headers=me).json()["data"][0]["detail"]["history"]
    assert [s["by"] for s in mine if s["by"]] == [OP, "li.na"]  # the subject sees who decided


def test_human_review_over_http(client: TestClient, system: System, clock: Clock) -> None:
    """GDPR (DOMAIN.md): a person may not be subject "to a solely automated decision with
    significant effects without human review". ``POST /reviews`` asks for one of a listing by
    grade; an operator involved in the subject's cases is refused (403, naming the rule), an
    uninvolved one decides within 15 days, and the review is late on ``GET /overdue`` after."""
    rows = [
        {"subject": P, "item": item, "source": source, "source_record_id": f"d-{n}",
         "occurred_on": f"2026-09-{n:02d}", "reported_at": f"2026-09-{n:02d}T09:00:00"}
        for n, (item, source) in enumerate(
            [("court.fraud-conviction", "court")] * 4 + [("traffic.drunk-driving", "traffic-police")] * 2, 1
        )
    ]  # fmt: skip
    op = h(system, "operator", OP)
    assert client.post("/records", json={"records": rows}, headers=op).json()["accepted"] == 6
    me, other = h(system, "subject", P), h(system, "operator", "li.na")
    # OP decides an objection of P's: involved from then on
    rid = client.get(f"/subjects/{P}", headers=me).json()["records"][0]["record_id"]
    obj = client.post(
        "/objections", json={"subject": P, "record_id": rid, "statement": "x"}, headers=me
    ).json()
    assert client.post(
        f"/objections/{obj['id']}/decision", json={"upheld": False, "reason": "r"}, headers=op
    ).is_success
    body = {"subject": P, "list_id": "rongcheng/d-grade", "statement": "a person should look at this"}
    r = client.post("/reviews", json=body, headers=me)
    assert r.status_code == 201, r.text
    review = r.json()
    assert (review["kind"], review["status"], review["detail"]["measures_stay"]) == (
        "review",
        "under review",
        False,
    )
    decision = {"upheld": False, "reason": "the records stand"}
    refused = client.post(f"/reviews/{review['id']}/decision", json=decision, headers=op)
    assert refused.status_code == 403 and refused.json()["status"] == 403
    assert (
        f"{OP} is already involved" in refused.json()["error"] and "GDPR Art. 22" in refused.json()["error"]
    )
    # a review is decided at /reviews, an objection at /objections
    assert (
        client.post(f"/objections/{review['id']}/decision", json=decision, headers=other).status_code == 404
    )
    assert client.post(f"/reviews/{obj['id']}/decision", json=decision, headers=other).status_code == 404
    clock.advance(days=16)
    late = client.get("/overdue", headers=op).json()["data"]
    assert [(x["kind"], x["id"]) for x in late] == [("review", review["id"])]
    assert late[0]["late"] == [f"review was due by {review['detail']['review_due']}"]
    done = client.post(f"/reviews/{review['id']}/decision", json=decision, headers=other).json()
    assert (done["status"], done["detail"]["decided_by"]) == ("rejected", "li.na")
    assert client.get("/overdue", headers=op).json()["count"] == 0
    appealed = client.post(f"/reviews/{review['id']}/appeal", json={"statement": "hospital"}, headers=me)
    assert appealed.status_code == 200 and appealed.json()["status"] == "under appeal"
    again = client.post(f"/reviews/{review['id']}/decision", json=decision, headers=other)
    assert again.status_code == 403 and "li.na decided the review" in again.json()["error"]
    final = client.post(
        f"/reviews/{review['id']}/decision", json=decision, headers=h(system, "operator", "zhao.lei")
    )
    assert final.json()["detail"]["appeal_decided_by"] == "zhao.lei"
    mine = client.get("/objections", headers=me).json()["data"]
    assert {c["kind"] for c in mine} == {"objection", "review"}


def test_public_endpoints_need_no_key_and_publish_only_the_fields(client: TestClient, system: System) -> None:
    seed(client, system)
    data = client.get("/public/lists/court-dishonest-debtors/dishonest-debtors").json()["data"]
    assert len(data) == 1 and set(data[0]) == {
        "name",
        "sex",
        "age",
        "id_number_masked",
        "legal_representative",
        "obligation",
        "performance",
        "conduct",
        "case_number",
        "court",
    }
    assert P not in str(data) and data[0]["case_number"] == "(2026) Lu 1082 Zhi 9"
    r = client.get(f"/public/subjects/{P}")
    assert r.status_code == 403 and P not in r.text
    assert client.get("/public/lists/nope/nothing").status_code == 404


def test_operator_views_and_bad_requests(client: TestClient, system: System) -> None:
    seed(client, system)
    op, me = h(system, "operator", OP), h(system, "subject", P)
    assert client.get("/overdue", headers=op).json() == {"ok": True, "data": [], "count": 0}
    assert client.get("/overdue", headers=me).status_code == 403
    assert client.get("/notices/pending", headers=me).status_code == 403
    assert client.get(f"/subjects/{P}/notices", headers=me).json()["count"] == 0  # the court list needs none
    assert client.get(f"/subjects/{OTHER}/notices", headers=me).status_code == 403
    r = client.post("/objections", json={"subject": P, "statement": "x"}, headers=me)
    assert r.status_code == 422 and r.json()["error"].startswith("record_id: give either")
    r = client.post(
        "/restorations",
        json={
            "subject": P,
            "record_id": "f" * 32,
            "conduct_corrected": "a",
            "obligations_fulfilled": "b",
            "commitment": "c",
        },
        headers=me,
    )
    assert r.status_code == 404 and r.json()["error"].startswith("record_id")
    r = client.post("/objections/obj-x/decision", json={"upheld": True, "reason": "r"}, headers=op)
    assert r.status_code == 404


def test_public_lookup_is_audited_and_codes_are_masked_in_the_audit(
    client: TestClient, system: System
) -> None:
    from socialcredit.store import SubjectRow
    from tests.conftest import org

    company, rep = org(71), person(73)
    system.register(
        [SubjectRow(rep, "person"), SubjectRow(company, "organisation", legal_representative=rep)]
    )
    assert client.get(f"/public/subjects/{company}").status_code == 200
    rep_key = h(system, "subject", rep)
    assert client.get(f"/subjects/{company}", headers=rep_key).status_code == 200  # the representative reads
    org_view = client.get("/audit", params={"subject": company}, headers=h(system, "operator", OP)).json()[
        "data"
    ]
    assert [(a["role"], a["purpose"]) for a in org_view][-1] == ("public", "public lookup")
    auditor = client.get("/audit", headers=h(system, "auditor")).json()["data"]
    assert rep not in str(auditor) and company not in str(auditor)
    assert any(a["principal"] and "*" in a["principal"] for a in auditor if a["role"] == "subject")
