"""The portal's staff pages (issue 18): the operator's desk ordered by deadline, with the decision
an appeal is about; the operator's keys page; the agency's file upload and batch history; the
audit log's filters and CSV export. TestClient pages on SQLite and PostgreSQL; the browser
journeys are in ``tests/test_e2e_staff.py``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI

from socialcredit.service import Question, System
from socialcredit.store import AuditQuery, Store, SubjectRow
from tests.conftest import Clock, person
from tests.support.apps import served
from tests.support.portal import client_for, post_form
from tests.support.prepared import Prepared
from tests.support.worlds import world_store

P, Q, R = person(71), person(72), person(73)
COURT_LIST = "court-dishonest-debtors/dishonest-debtors"


def row(
    n: int, subject: str, item: str, source: str, srid: str, occurred: str, **kw: Any
) -> tuple[int, dict[str, Any]]:
    return (n, {"subject": subject, "item": item, "source": source, "source_record_id": srid,
                "occurred_on": occurred, **kw})  # fmt: skip


def build_world(system: System) -> None:
    """Three people each with a traffic record, one of them also on the court's list."""
    system.register([SubjectRow(c, "person", f"Person {c[-4:]}") for c in (P, Q, R)])
    details = {"case_number": "(2026) Lu 1082 Zhi 9", "court": "Rongcheng People's Court"}
    rows = [
        row(1, P, "traffic.minor", "traffic-police", "t-1", "2026-06-01"),
        row(2, Q, "traffic.minor", "traffic-police", "t-2", "2026-06-01"),
        row(3, R, "traffic.minor", "traffic-police", "t-3", "2026-06-01"),
        row(4, P, "court.dishonest.able-but-refuses", "court", "c-1", "2026-09-01",
            reported_at="2026-09-01T10:00", details=details),
    ]  # fmt: skip
    assert system.ingest(rows, origin="test", principal=system.operator()).accepted == 4


@pytest.fixture
def store(store_url: str, prepared: Prepared, clock: Clock) -> Iterator[Store]:
    """Every test here starts from the world: built once per test process and copied into the
    test's own database (tests/support/worlds.py, decision 0093), since the tests write to it."""
    s, _ = world_store(store_url, prepared, clock, "web-staff", build_world)
    yield s
    s.close()


@pytest.fixture
def world(system: System) -> System:
    """Three people each with a traffic record, one of them also on the court's list."""
    return system


@pytest.fixture
def app(world: System) -> FastAPI:
    return served(world)  # the process's app, serving this test's system (decision 0085)


def _object(world: System, code: str, srid: str | None) -> str:
    """An objection by ``code`` to its traffic record ``srid`` (or, with None, to its listing)."""
    subject = world.authenticate(world.create_key("subject", code).token)
    case = world.file_objection(
        principal=subject,
        subject=code,
        record_id=world.store.stored_record_id("traffic-police", srid) if srid else None,
        list_id=None if srid else COURT_LIST,
        statement=f"not me ({srid})",
    )
    return case.id


def test_desk_orders_cases_by_deadline_and_marks_the_overdue(
    app: FastAPI, world: System, clock: Clock
) -> None:
    # filed on three different days: the earliest filed is due first (DOMAIN: Art. 12, review
    # within 15 days), and after its deadline passes it is marked overdue
    first = _object(world, R, "t-3")
    clock.advance(days=3)
    second = _object(world, P, "t-1")
    clock.advance(days=3)
    third = _object(world, Q, "t-2")
    clock.advance(days=30)
    fourth = _object(world, P, None)  # filed now: due last, not overdue
    operator = client_for(app, world.create_key("operator", "wang.fang").token)
    for lang in ("en", "zh-CN"):
        desk = operator.get(f"/portal/operator?lang={lang}").text
        places = [desk.index(f'id="case-{c}"') for c in (first, second, third, fourth)]
        assert places == sorted(places), (places, lang)
        assert f'class="due overdue" data-testid="due-{first}"' in desk
        assert f'class="due overdue" data-testid="due-{third}"' in desk
        assert f'class="due" data-testid="due-{fourth}"' in desk
    assert "Overdue" in operator.get("/portal/operator?lang=en").text
    assert "逾期" in operator.get("/portal/operator?lang=zh-CN").text


def test_appeal_shows_the_decision_appealed_against(app: FastAPI, world: System) -> None:
    case_id = _object(world, P, "t-1")
    first = world.authenticate(world.create_key("operator", "wang.fang").token)
    world.decide_objection(principal=first, objection_id=case_id, upheld=False, reason="the plate is yours")
    subject = world.authenticate(world.create_key("subject", P).token)
    world.appeal(principal=subject, objection_id=case_id, statement="the plate was cloned")
    colleague = client_for(app, world.create_key("operator", "li.na").token)
    for lang, heading in (("en", "The decision appealed against:"), ("zh-CN", "被申诉的决定：")):
        desk = colleague.get(f"/portal/operator?lang={lang}").text
        start = desk.index(f'data-testid="first-decision-{case_id}"')
        shown = desk[start : desk.index("</p>", start)]
        assert heading in shown
        assert '<span class="decider">wang.fang</span>' in shown and "the plate is yours" in shown
        assert "the plate was cloned" in desk


@pytest.mark.parametrize("role", ["agency", "relying_party", "subject", "auditor", None])
def test_keys_page_is_the_operators(app: FastAPI, world: System, role: str | None) -> None:
    principal = {"agency": "traffic-police", "relying_party": "airlines", "subject": P}.get(role or "")
    c = client_for(app, world.create_key(role, principal).token if role else None)  # type: ignore[arg-type]
    r = c.get("/portal/keys")
    assert r.status_code == (403 if role else 401)
    assert "keys-table" not in r.text and 'id="keys"' not in r.text


def test_operator_makes_rotates_and_revokes_keys(app: FastAPI, world: System) -> None:
    mine = world.create_key("operator", "wang.fang")
    c = client_for(app, mine.token)
    page = c.get("/portal/keys").text
    assert f'id="key-{mine.key_id}"' in page and "(yours)" in page
    # a new agency key: its token shown once, and it works
    r = post_form(
        c, "/portal/keys", "/portal/keys", {"role": "agency", "principal": "court", "name": "desk 3"}
    )
    assert r.status_code == 200, r.text
    token = r.text.split('data-testid="new-token">')[1].split("<")[0]
    made = world.authenticate(token)
    assert (made.role, made.principal, made.name) == ("agency", "court", "desk 3")
    assert token not in c.get("/portal/keys").text  # never shown again
    # a bad binding names the field, and keeps what was typed
    r = post_form(c, "/portal/keys", "/portal/keys", {"role": "subject", "principal": "123", "name": "x"})
    assert r.status_code == 422 and 'id="key-error"' in r.text and "principal:" in r.text
    # rotate: a new token, the old one revoked at once
    r = post_form(c, "/portal/keys", f"/portal/keys/{made.key_id}/rotate", {})
    assert r.status_code == 200 and f"It replaces key {made.key_id}" in r.text
    rotated = world.authenticate(r.text.split('data-testid="new-token">')[1].split("<")[0])
    assert rotated.principal == "court"
    with pytest.raises(Exception, match="revoked"):
        world.authenticate(token)
    # revoke
    r = post_form(c, "/portal/keys", f"/portal/keys/{rotated.key_id}/revoke", {})
    assert r.status_code == 303 and r.headers["location"] == f"/portal/keys?revoked={rotated.key_id}"
    assert f"Key {rotated.key_id} is revoked" in c.get(r.headers["location"]).text
    actions = [e["action"] for e in world.store.audit_entries(limit=20) if e["key_id"] == mine.key_id]
    assert {"key-create", "key-rotate", "key-revoke"} <= set(actions)


def test_operator_cannot_lock_itself_out_from_the_portal(app: FastAPI, world: System) -> None:
    mine = world.create_key("operator", "wang.fang")
    for lang, words in (
        ("en", "is the key you are using and the last active operator key"),
        ("zh-CN", "您正在使用"),
    ):
        c = client_for(app, mine.token, lang=lang)
        for action in ("revoke", "rotate"):
            r = post_form(c, "/portal/keys", f"/portal/keys/{mine.key_id}/{action}", {})
            assert r.status_code == 409 and words in r.text, (lang, action)
    assert world.authenticate(mine.token).key_id == mine.key_id
    # with a colleague's key active, one's own may go: the portal logs out
    world.create_key("operator", "li.na")
    c = client_for(app, mine.token)
    r = post_form(c, "/portal/keys", f"/portal/keys/{mine.key_id}/revoke", {})
    assert r.status_code == 303 and r.headers["location"] == "/portal/"
    assert c.get("/portal/keys").status_code == 401


def test_audit_page_filters_and_exports(app: FastAPI, world: System, clock: Clock) -> None:
    auditor = world.create_key("auditor", None)
    made = world.create_key(
        "agency", "court", by=world.authenticate(world.create_key("operator", "li.na").token)
    )
    clock.advance(days=2)
    world.check(
        Question(
            P,
            "no-flights",
            principal=world.authenticate(world.create_key("relying_party", "airlines").token),
            purpose="ticket",
        )
    )
    for lang in ("en", "zh-CN"):
        c = client_for(app, auditor.token, lang=lang)
        page = c.get("/portal/audit", params={"action": "key-create", "principal": "li.na"}).text
        log = page[page.index('id="audit-log"') :]
        assert made.key_id in log and "decision" not in log.split("</caption>")[1]
        assert 'value="li.na"' in page  # the form keeps the filters
        assert 'href="/portal/audit.csv?action=key-create&amp;principal=li.na"' in page
        day = clock.now.date().isoformat()
        page = c.get("/portal/audit", params={"since": day, "action": "", "subject": P}).text
        rows = page[page.index('id="audit-log"') :].split("<tbody>")[1].split("</tbody>")[0]
        assert rows.count("<tr>") == 1 and "decision" in rows and P not in rows  # masked
        r = c.get("/portal/audit", params={"since": "yesterday"})
        assert r.status_code == 422 and "since:" in r.text
    r = client_for(app, auditor.token).get("/portal/audit.csv", params={"action": "decision"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = r.text.strip().splitlines()
    assert lines[0].startswith("seq,at,key_id") and len(lines) == 2 and ",decision," in lines[1]
    (export,) = world.store.audit_entries(query=AuditQuery(action="audit-export"))
    assert export["key_id"] == auditor.key_id and export["detail"] == {"filters": {"action": "decision"}}
    # the portal's other users have no audit log to export
    agency = client_for(app, world.create_key("agency", "court").token)
    assert agency.get("/portal/audit.csv").status_code == 403


CSV = (
    "subject,item,source_record_id,occurred_on,evidence\n"
    f"{P},traffic.minor,up-1,2026-06-02,ticket 1\n"
    f"{Q},traffic.minor,up-2,2099-01-01,ticket 2\n"
    f"{R},no.such.item,up-3,2026-06-02,ticket 3\n"
    f"{P},traffic.minor,t-1,2026-06-01,\n"
)


def _upload(c: Any, name: str, body: bytes) -> Any:
    from tests.support.portal import csrf_of

    token = csrf_of(c.get("/portal/batches").text)
    return c.post("/portal/batches", data={"csrf_token": token}, files={"file": (name, body)})


def test_agency_uploads_a_file_and_sees_its_batches(app: FastAPI, world: System) -> None:
    police = world.create_key("agency", "traffic-police")
    c = client_for(app, police.token)
    r = _upload(c, "june.csv", CSV.encode())
    assert r.status_code == 200, r.text
    counts = {
        k: int(r.text.split(f'data-testid="{k}">')[1].split("<")[0])
        for k in ("accepted", "duplicate", "quarantined")
    }
    # up-1 accepted; t-1 was already received (duplicate); a future date and an unknown item quarantined
    assert counts == {"accepted": 1, "duplicate": 1, "quarantined": 2}
    outcome = r.text.split('id="outcome-quarantine"')[1].split("</ul>")[0]
    assert "row 3: occurred_on" in outcome and "row 4: item" in outcome  # reasons name the field
    (mine,) = [b for b in world.batches(world.authenticate(police.token)) if b["origin"] == "portal:june.csv"]
    assert (mine["submitted"], mine["source"]) == (4, "traffic-police")
    # the history: this batch with its counts, and its quarantined rows with their reasons
    history = c.get("/portal/batches").text
    assert f'id="batch-{mine["batch_id"]}"' in history and "portal:june.csv" in history
    detail = c.get(f"/portal/batches/{mine['batch_id']}").text
    assert detail.count('<tr><td class="num">') == 2 and "no.such.item" in detail
    rows = c.get(f"/portal/batches/{mine['batch_id']}/quarantine.csv").text.splitlines()
    assert rows[0] == "row_number,reasons,row" and len(rows) == 3 and rows[1].startswith("3,occurred_on")
    # JSON Lines too, and a file refused whole adds nothing
    line = {"subject": R, "item": "traffic.minor", "source_record_id": "up-9", "occurred_on": "2026-06-03"}
    jsonl = json.dumps(line) + "\n"
    r = _upload(c, "more.jsonl", jsonl.encode())
    assert r.status_code == 200 and 'data-testid="accepted">1<' in r.text
    before = len(world.batches(world.operator(), limit=1000))
    r = _upload(c, "notes.txt", b"hello")
    assert r.status_code == 422 and "file:" in r.text
    r = _upload(c, "utf16.csv", CSV.encode("utf-16"))
    assert r.status_code == 422 and "UTF-16" in r.text
    assert len(world.batches(world.operator(), limit=1000)) == before


def test_batches_are_the_agencys_own(app: FastAPI, world: System) -> None:
    police = client_for(app, world.create_key("agency", "traffic-police").token)
    court = client_for(app, world.create_key("agency", "court").token)
    assert _upload(police, "june.csv", CSV.encode()).status_code == 200
    (batch,) = [b for b in world.batches(world.operator()) if b["origin"] == "portal:june.csv"]
    assert batch["batch_id"] not in court.get("/portal/batches").text
    assert court.get(f"/portal/batches/{batch['batch_id']}").status_code == 404
    assert court.get(f"/portal/batches/{batch['batch_id']}/quarantine.csv").status_code == 404
    operator = client_for(app, world.create_key("operator", "wang.fang").token)
    assert batch["batch_id"] in operator.get("/portal/batches").text
    assert operator.get(f"/portal/batches/{batch['batch_id']}").status_code == 200
    for role, principal in (("auditor", None), ("relying_party", "airlines"), ("subject", P)):
        other = client_for(app, world.create_key(role, principal).token)  # type: ignore[arg-type]
        assert other.get("/portal/batches").status_code == 403
    assert client_for(app, None).get("/portal/batches").status_code == 401


def test_an_upload_may_be_larger_than_an_ordinary_request(app: FastAPI, world: System) -> None:
    """The portal's batches take a file up to the bulk body limit (8 MiB), not the 1 MiB of
    other requests: a 2 MiB file is read, and its counts add up."""
    c = client_for(app, world.create_key("agency", "traffic-police").token)
    lines = ["subject,item,source_record_id,occurred_on,evidence"]
    lines += [f"{P},traffic.minor,big-{n},2026-06-02,{'x' * 2200}" for n in range(1000)]
    body = "\n".join(lines).encode()
    assert len(body) > 2 * 1024 * 1024
    r = _upload(c, "big.csv", body)
    assert r.status_code == 200, r.text[:500]
    counts = [
        int(r.text.split(f'data-testid="{k}">')[1].split("<")[0])
        for k in ("accepted", "duplicate", "quarantined")
    ]
    assert sum(counts) == 1000
