"""The portal's staff pages (issue 18): the operator's desk ordered by deadline, with the decision
an appeal is about; the operator's keys page; the agency's file upload and batch history; the
audit log's filters and CSV export. TestClient pages on SQLite and PostgreSQL; the browser
journeys are in ``tests/test_e2e_staff.py``."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI

from socialcredit.api import create_app
from socialcredit.ledger import record_id_for
from socialcredit.service import System
from socialcredit.store import SubjectRow
from tests.conftest import Clock, person
from tests.support.portal import client_for

P, Q, R = person(71), person(72), person(73)
COURT_LIST = "court-dishonest-debtors/dishonest-debtors"


def row(
    n: int, subject: str, item: str, source: str, srid: str, occurred: str, **kw: Any
) -> tuple[int, dict[str, Any]]:
    return (n, {"subject": subject, "item": item, "source": source, "source_record_id": srid,
                "occurred_on": occurred, **kw})  # fmt: skip


@pytest.fixture
def world(system: System) -> System:
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
    return system


@pytest.fixture
def app(world: System) -> FastAPI:
    return create_app(world)


def _object(world: System, code: str, srid: str | None) -> str:
    """An objection by ``code`` to its traffic record ``srid`` (or, with None, to its listing)."""
    subject = world.authenticate(world.create_key("subject", code).token)
    case = world.file_objection(
        principal=subject,
        subject=code,
        record_id=record_id_for("traffic-police", srid) if srid else None,
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
