"""The transparency report as it stood at a knowledge time (issue 17, point 1: "any answer given at
any moment is reproduced"): every figure from what the system had received or recorded by then,
as the public lists published then already are. Runs on SQLite and PostgreSQL.

Court's list, Art. 1(1) (DOMAIN.md): a debtor "able to perform but refuses" is listed with no fixed
period, and its measures stay while an objection is open; a relying party asked about flights
(Art. 3: no flights) before and after K; an objection filed, a withdrawal dated back and a late
record received after K were not known at K."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from socialcredit.service import System
from socialcredit.service.decisions import Question
from socialcredit.store import SubjectRow
from tests.conftest import Clock, person
from tests.support.cli import jrun, run
from tests.support.dueprocess import feed, key, rec
from tests.support.late import LISTING

P = person(211)
COURT = "court-dishonest-debtors/dishonest-debtors"


@pytest.fixture
def known(system: System, clock: Clock) -> dt.datetime:
    """P listed and refused a flight by K; after it, an objection, a second refusal, then a
    withdrawal dated back and a late traffic record. Returns K."""
    system.register([SubjectRow(P, "person", "Zhao Lei", district="Rongcheng")])
    (listing,) = feed(system, rec(1, P, LISTING, "court", "2026-10-20", reported_at="2026-10-20T02:00:00"))
    system.check(Question(P, "no-flights", system.operator(), purpose="ticket"))
    k = clock()
    clock.advance(days=1)
    system.file_objection(principal=key(system, "subject", P), subject=P, list_id=COURT, statement="paid")
    system.check(Question(P, "no-flights", system.operator(), purpose="ticket"))
    clock.advance(days=29)
    withdrawal = rec(2, P, LISTING, "court", "2026-10-20", reported_at="2026-10-21T02:00:00")
    withdrawal[1].update(action="withdraw", corrects=listing)
    feed(system, withdrawal, rec(3, P, "traffic.minor", "traffic-police", "2026-09-15"))
    return k


def test_the_report_as_it_stood_then_counts_nothing_received_later(
    system: System, known: dt.datetime
) -> None:
    then = system.transparency(known_at=known)
    now = system.transparency()
    assert (then["as_of"], then["known_at"], now["known_at"]) == (known, known, None)
    assert (then["records"], now["records"]) == (1, 3)
    assert then["lists"].get(COURT) == 1 and COURT not in now["lists"]
    assert then["measures_applied"] == {"no-flights": {"deny": 1}}
    assert now["measures_applied"] == {"no-flights": {"deny": 2}}
    assert then["objections"]["filed"] == 0 and now["objections"]["filed"] == 1
    assert {a["source"]: a["records"] for a in then["source_accuracy"]} == {"court": 1}
    assert (
        then["fairness"]["refused"] and then["scores_by_district"]["rongcheng"]["Rongcheng"]["subjects"] == 1
    )


def test_the_api_gives_the_report_as_it_stood_then(
    system: System, client: TestClient, known: dt.datetime
) -> None:
    r = client.get("/public/transparency", params={"known_at": known.isoformat()})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["known_at"].startswith("2026-11-02T10:00") and body["records"] == 1
    assert body["lists"].get(COURT) == 1 and body["objections"]["filed"] == 0
    assert client.get("/public/transparency").json()["known_at"] is None
    bad = client.get("/public/transparency", params={"known_at": "soon"})
    assert bad.status_code == 422 and "known_at" in bad.json()["error"]


def test_the_command_line_gives_the_report_as_it_stood_then(env: Path) -> None:
    f = env / "r.jsonl"
    f.write_text(json.dumps(rec(1, P, "traffic.minor", "traffic-police", "2026-09-15")[1]) + "\n")
    assert jrun("ingest", str(f))["accepted"] == 1
    assert jrun("public", "transparency")["records"] == 1
    then = jrun("public", "transparency", "--known-at", "2020-01-01")  # before anything was received
    assert then["records"] == 0 and then["known_at"].startswith("2020-01-01T15:59:59")
    shown = run("public", "transparency", "--known-at", "2020-01-01")
    assert shown.exit_code == 0 and "as known at 2020-01-01 15:59 UTC" in shown.stdout
    assert run("public", "transparency", "--known-at", "soon").exit_code == 2


LATE = person(212)  # registered only after K


def test_a_subject_registered_after_k_is_not_counted_at_k(
    system: System, client: TestClient, known: dt.datetime, clock: Clock
) -> None:
    """Known at K, the population is who the system knew of then: P (registered and listed before
    K), not a subject whose registration (a registry chain entry, received later) came after K.
    The report, the population summary, the API and the portal count alike."""
    clock.advance(days=1)
    system.register([SubjectRow(LATE, "person", "Qian Yu", district="Rongcheng")])
    later = clock()
    then, after = system.transparency(known_at=known), system.transparency(known_at=later)
    assert (then["subjects"], after["subjects"], system.transparency()["subjects"]) == (1, 2, 2)
    district = "Rongcheng"
    assert then["scores_by_district"]["rongcheng"][district]["subjects"] == 1
    assert after["scores_by_district"]["rongcheng"][district]["subjects"] == 2
    summary = system.population(known_at=known)
    assert (summary.subjects, summary.records, summary.known_at) == (1, 1, known)
    assert sum(summary.grades["rongcheng"].values()) == 1
    assert system.population(known_at=later).subjects == 2 and system.population().subjects == 2
    assert client.get("/public/transparency", params={"known_at": known.isoformat()}).json()["subjects"] == 1
    page = client.get("/portal/transparency", params={"known_at": known.isoformat(), "lang": "en"})
    assert page.status_code == 200 and 'data-testid="known-at"' in page.text
    assert "As of 2026-11-02 10:00 UTC: 1 subjects, 1 records" in page.text
    assert 'data-testid="known-at"' not in client.get("/portal/transparency", params={"lang": "en"}).text
    assert client.get("/portal/transparency", params={"known_at": "soon"}).status_code == 422
