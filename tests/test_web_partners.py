"""The portal for the system's partners: an agency (and the operator) entering records, an
airline asking a decision, an auditor reading the masked trail. Each form does what the service
does, and the subject's page follows at once. Runs on SQLite and PostgreSQL; the pages every role
shares are in ``tests/test_web.py``, the subject's in ``tests/test_web_subject.py``, the staff
desks in ``tests/test_web_staff.py``."""

from __future__ import annotations

from fastapi import FastAPI

from socialcredit import ledger
from socialcredit.service import System
from tests.support import webworld
from tests.support.portal import client_for, post_form
from tests.support.webworld import NAME, OTHER, P

# the shared world (tests/support/webworld.py), bound here by name as pytest finds fixtures
built, store, world = webworld.built, webworld.store, webworld.world
tokens, app = webworld.tokens, webworld.app


def test_agency_enters_a_record(app: FastAPI, world: System, tokens: dict[str, str]) -> None:
    c = client_for(app, tokens["agency"])
    form = c.get("/portal/records/new").text
    assert 'value="traffic.minor"' in form and 'value="court.dishonest.able-but-refuses"' not in form
    data = {
        "subject": P,
        "item": "traffic.red-light",
        "source_record_id": "web-1",
        "occurred_on": "2026-10-20",
        "evidence": "camera 17, photo 2231",
    }
    r = post_form(c, "/portal/records/new", "/portal/records/new", data)
    assert r.status_code == 200 and "Accepted" in r.text
    assert world.store.stored_record_id("traffic-police", "web-1") in r.text
    assert ledger.record_id_for("traffic-police", "web-1") not in r.text  # keyed (decision 0080)
    assert [r.evidence for r in world.view(P).records if r.source_record_id == "web-1"] == [data["evidence"]]
    r = post_form(c, "/portal/records/new", "/portal/records/new", data)
    assert r.status_code == 200 and "Duplicate" in r.text
    r = post_form(
        c,
        "/portal/records/new",
        "/portal/records/new",
        {**data, "source_record_id": "web-2", "subject": "123"},
    )
    assert "Quarantined" in r.text and "subject: invalid length" in r.text
    assert 'value="web-2"' in r.text  # what was typed is kept
    r = post_form(
        c,
        "/portal/records/new",
        "/portal/records/new",
        {**data, "source_record_id": "web-3", "item": "court.dishonest.able-but-refuses"},
    )
    assert "Quarantined" in r.text and "may not report item" in r.text
    # the subject's page follows at once: the red light counts against the score
    page = client_for(app, tokens["subject"]).get(f"/portal/subjects/{P}").text
    assert "Running a red light" in page or "traffic.red-light" in page
    assert "camera 17, photo 2231" in page


def test_operator_enters_a_record_for_any_source(app: FastAPI, world: System, tokens: dict[str, str]) -> None:
    c = client_for(app, tokens["operator"])
    data = {
        "subject": OTHER,
        "item": "court.dishonest.able-but-refuses",
        "source": "court",
        "source_record_id": "op-1",
        "occurred_on": "2026-10-01",
        "details": '{"case_number": "(2026) Lu 1082 Zhi 99"}',
    }
    r = post_form(c, "/portal/records/new", "/portal/records/new", data)
    assert "Accepted" in r.text
    r = post_form(
        c, "/portal/records/new", "/portal/records/new", {**data, "source_record_id": "op-2", "details": "{"}
    )
    assert "Quarantined" in r.text and "details: is not valid JSON" in r.text


def test_relying_party_asks_a_decision(app: FastAPI, world: System, tokens: dict[str, str]) -> None:
    c = client_for(app, tokens["relying_party"])
    form = c.get("/portal/decisions/new").text
    assert 'value="no-flights"' in form and 'value="no-new-loans"' not in form
    data = {"subject": P, "measure": "no-flights", "purpose": "ticket MU5101"}
    r = post_form(c, "/portal/decisions/new", "/portal/decisions/new", data)
    assert r.status_code == 200
    assert 'data-answer="deny">deny<' in r.text
    assert "List of Dishonest Judgment Debtors" in r.text and "How to resolve" in r.text
    answer = r.text[r.text.index('id="answer"') : r.text.index("</section>", r.text.index('id="answer"'))]
    assert P not in answer and NAME not in r.text and "*" in answer  # a masked code only
    r = post_form(c, "/portal/decisions/new", "/portal/decisions/new", {**data, "subject": OTHER})
    assert 'data-answer="allow">allow<' in r.text
    r = post_form(c, "/portal/decisions/new", "/portal/decisions/new", {**data, "measure": "no-new-loans"})
    assert r.status_code == 403 and "ask about measure no-new-loans" in r.text
    r = post_form(c, "/portal/decisions/new", "/portal/decisions/new", {**data, "subject": "123"})
    assert r.status_code == 422 and "subject: invalid length" in r.text
    r = post_form(c, "/portal/decisions/new", "/portal/decisions/new", {**data, "purpose": " "})
    assert r.status_code == 422 and "purpose" in r.text
    # the subject sees who asked, why and what was answered
    page = client_for(app, tokens["subject"]).get(f"/portal/subjects/{P}").text
    watchers = page[page.index('id="watchers"') :]
    assert "relying_party: airlines" in watchers and "ticket MU5101" in watchers
    assert "no-flights" in watchers and 'data-answer="deny">deny' in watchers


def test_auditor_sees_masked_trail_and_verifies(app: FastAPI, world: System, tokens: dict[str, str]) -> None:
    client_for(app, tokens["subject"]).get(f"/portal/subjects/{P}")  # an audited read
    html = client_for(app, tokens["auditor"]).get("/portal/audit?verify=true").text
    assert "portal: subject page" in html and P not in html and "Every chain verifies" in html
    html = client_for(app, tokens["operator"]).get("/portal/audit").text
    assert P in html
