"""Nothing is erased (issue 17, point 4): a correction, a withdrawal, a restoration or an upheld
objection ends a record's or a listing's effect from the moment it arrives; the subject's history
keeps what was in force before, labelled with what ended it, in the API, the CLI and the portal.

The rules it serves: the Supreme People's Court's provisions, Art. 11 (as ../shared/DOMAIN.md
gives them, a wrongly listed person "may apply for correction", and the court corrects the list);
a correction ends the listing, it does not make it never to have been shown.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fastapi.testclient import TestClient

from socialcredit.service import Question, System
from tests.conftest import Clock, person
from tests.support.apps import served
from tests.support.portal import client_for

P = person(91)
LIST = "court-dishonest-debtors/dishonest-debtors"


def listed(system: System, clock: Clock) -> str:
    """P listed by a court on ground (1) on 2026-03-02; the record's id."""
    clock.now = dt.datetime(2026, 3, 2, 4, 0)
    row: dict[str, Any] = {
        "subject": P,
        "item": "court.dishonest.able-but-refuses",
        "source": "court",
        "source_record_id": "zhi-2026-7",
        "occurred_on": "2026-03-02",
    }
    assert system.ingest([(1, row)], origin="court", principal=system.operator()).accepted == 1
    [record] = system.view(P).records
    return record.record_id


def upheld(system: System, clock: Clock, record_id: str) -> str:
    """An objection to the record, upheld on 2026-04-10 by another official."""
    clock.now = dt.datetime(2026, 4, 1, 2, 0)
    o = system.file_objection(
        principal=system.operator(by="Li Na"),
        subject=P,
        record_id=record_id,
        statement="paid in full in 2025",
    )
    clock.now = dt.datetime(2026, 4, 10, 2, 0)
    system.decide_objection(
        principal=system.operator(by="Wang Fang"), objection_id=o.id, upheld=True, reason="receipt shown"
    )
    return o.id


def test_an_upheld_objection_ends_a_listing_and_the_history_keeps_it(system: System, clock: Clock) -> None:
    rid = listed(system, clock)
    [before] = [e for e in system.view(P).entries if e.qualified_id == LIST]
    assert before.status == "active"
    oid = upheld(system, clock, rid)
    view = system.view(P)
    assert [e for e in view.entries if e.qualified_id == LIST] == []  # no longer in force
    [ended] = view.ended_entries
    assert (ended.qualified_id, ended.since, ended.status) == (LIST, before.since, "ended")
    assert ended.ended_on == dt.date(2026, 4, 10)
    assert ended.end_reason is not None and ended.end_reason.startswith("withdrawn on 2026-04-10 by record ")
    assert f"objection {oid} upheld: receipt shown" in ended.end_reason
    [gone] = view.ended_records
    assert gone.record.record_id == rid and gone.how == "withdrawn" and gone.ended_on == dt.date(2026, 4, 10)
    assert ended.ended_by == gone.by.record_id
    # the past is not rewritten: as of a day before the decision, the listing was in force
    [then] = [e for e in system.view(P, dt.datetime(2026, 4, 9, 4, 0)).entries if e.qualified_id == LIST]
    assert then.status == "active"
    # and the airline's answer follows: denied then, allowed now
    operator = system.operator()
    assert system.check(Question(P, "no-flights", operator, purpose="t")).allowed
    assert not system.check(
        Question(P, "no-flights", operator, purpose="t", at=dt.datetime(2026, 4, 9, 4, 0))
    ).allowed


def test_the_api_and_the_portal_show_what_ended_it(system: System, clock: Clock) -> None:
    rid = listed(system, clock)
    upheld(system, clock, rid)
    token = system.create_key("operator", "zhao.lei", name="desk").token
    client = TestClient(served(system))
    body = client.get(f"/subjects/{P}", headers={"X-API-Key": token}).json()
    [entry] = body["ended_lists"]
    assert entry["status"] == "ended" and entry["ended_on"] == "2026-04-10" and entry["ended_by"]
    [record] = body["ended_records"]
    assert record["record"]["record_id"] == rid and record["how"] == "withdrawn"
    assert record["label"].startswith("withdrawn on 2026-04-10 by record ")
    json.dumps(body)
    # the subject's own page in the portal
    own = system.create_key("subject", P, name="me").token
    page = client_for(served(system), own).get(f"/portal/subjects/{P}")
    assert page.status_code == 200, page.text
    assert "No longer in force" in page.text and "withdrawn on 2026-04-10 by record" in page.text


def test_a_record_never_ended_has_no_history(system: System, clock: Clock) -> None:
    listed(system, clock)
    view = system.view(P)
    assert view.ended_entries == [] and view.ended_records == []
