"""Two time axes (issue 17.1) and decision receipts (17.6): an answer for valid time T as known
at K reads only what the system had received by K (``received_at``, never a date the source
supplies), and every decision carries a receipt naming the chain positions and scheme files it
was computed from. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from socialcredit.rules import days
from socialcredit.schemes import shipped_registry
from socialcredit.schemes.loader import Registry, parse_scheme
from socialcredit.service import Question, System
from tests.conftest import NOW, Clock, person
from tests.support.api import h
from tests.support.cli import jrun, run

P = person(171)
LISTING = "court.dishonest.able-but-refuses"  # Art. 1(1): no fixed period, listed until removed


def row(n: int, day: str, reported: str, **kw: Any) -> tuple[int, dict[str, Any]]:
    return n, {
        "subject": P,
        "item": LISTING,
        "source": "court",
        "source_record_id": f"kt-{n}",
        "occurred_on": day,
        "reported_at": reported,
        **kw,
    }


def feed(system: System, *rows: tuple[int, dict[str, Any]]) -> None:
    result = system.ingest(list(rows), origin="test", principal=system.operator())
    assert result.accepted == len(rows), result.quarantine


def listed_then_withdrawn(system: System, clock: Clock) -> dt.datetime:
    """P listed (received at NOW, unless already); 30 days later a withdrawal arrives that the
    court dates back to 21 October. Returns the moment before the withdrawal was received."""
    if not system.store.records_for(P):
        feed(system, row(1, "2026-10-20", "2026-10-20T02:00:00"))
    before = clock()
    clock.advance(days=30)
    withdrawal = row(2, "2026-10-20", "2026-10-21T02:00:00", action="withdraw")
    withdrawal[1]["corrects_source_record_id"] = "kt-1"
    feed(system, withdrawal)
    return before


def test_a_correction_received_later_is_not_known_before_it_arrived(system: System, clock: Clock) -> None:
    op = system.operator()
    feed(system, row(1, "2026-10-20", "2026-10-20T02:00:00"))
    first = system.check(Question(P, "no-flights", op, purpose="t"))
    assert first.answer == "deny" and first.receipt is not None
    before = listed_then_withdrawn(system, clock)
    # the withdrawal says it was reported on 21 October, but the system received it today: as
    # known on 2 November the subject was listed; as known now, it never was from 21 October
    then = system.check(Question(P, "no-flights", op, purpose="t", at=before, known_at=before))
    now = system.check(Question(P, "no-flights", op, purpose="t", at=before))
    assert (then.answer, now.answer) == ("deny", "allow")
    assert then.receipt is not None and then.receipt.known_at == before
    view = system.view(P, before, known_at=before)
    assert [e.qualified_id for e in view.entries] == ["court-dishonest-debtors/dishonest-debtors"]
    assert system.view(P, before).entries == []


def test_every_decision_carries_a_receipt_kept_in_its_audit_entry(system: System, clock: Clock) -> None:
    feed(system, row(1, "2026-10-20", "2026-10-20T02:00:00"))
    d = system.check(Question(P, "no-flights", system.operator(), purpose="t"))
    r = d.receipt
    assert r is not None and r.decision_id.startswith("dec-")
    assert (r.records, r.registry, r.cases) == (1, 0, 0)
    assert r.schemes == {s.id: s.content_hash for s in system.registry.schemes.values()}
    again = system.check(Question(P, "no-flights", system.operator(), purpose="t"))  # from the cache
    assert again.receipt is not None and again.receipt.decision_id != r.decision_id
    entries = system.audit_log(system.operator(), subject=P, limit=2)
    assert [e["detail"]["receipt"]["decision_id"] for e in entries] == [
        again.receipt.decision_id,
        r.decision_id,
    ]
    assert entries[1]["detail"]["receipt"]["positions"] == {"records": 1, "registry": 0, "cases": 0}


def test_a_bare_date_means_the_end_of_that_day_in_china() -> None:
    # 23:00 on 2 November in Beijing is 15:00 UTC: "as of 2 November" includes it
    assert days.moment("2026-11-02") == dt.datetime(2026, 11, 2, 15, 59, 59, 999999)
    assert days.moment("2026-11-02T12:00:00+08:00") == dt.datetime(2026, 11, 2, 4, 0)
    assert days.moment("2026-11-02T12:00:00") == dt.datetime(2026, 11, 2, 12, 0)


def test_the_api_answers_for_a_valid_time_as_known_at_another(
    system: System, clock: Clock, client: TestClient
) -> None:
    listed_then_withdrawn(system, clock)
    rp = h(system, "relying_party", "airlines")
    ask = {"subject": P, "measure": "no-flights", "purpose": "t"}
    # a record received at 02:00 UTC on 2 November: known "as of 2 November" (end of that day)
    then = client.post(
        "/decisions", json={**ask, "as_of": "2026-11-02", "known_at": "2026-11-02"}, headers=rp
    )
    now = client.post("/decisions", json={**ask, "as_of": "2026-11-02"}, headers=rp)
    assert then.status_code == 200, then.text
    assert (then.json()["answer"], now.json()["answer"]) == ("deny", "allow")
    receipt = then.json()["receipt"]
    assert receipt["known_at"] == "2026-11-02T15:59:59.999999Z"
    assert receipt["positions"] == {"records": 2, "registry": 0, "cases": 0}
    bad = client.post("/decisions", json={**ask, "known_at": "yesterday"}, headers=rp)
    assert bad.status_code == 422 and "known_at" in bad.text
    assert clock() > NOW


def test_a_past_decision_is_reproduced_from_its_receipt_beside_the_answer_now(
    system: System, clock: Clock, client: TestClient
) -> None:
    feed(system, row(1, "2026-10-20", "2026-10-20T02:00:00"))
    rp = h(system, "relying_party", "airlines")
    asked = client.post(
        "/decisions", json={"subject": P, "measure": "no-flights", "purpose": "t"}, headers=rp
    )
    decision_id = asked.json()["receipt"]["decision_id"]
    listed_then_withdrawn(system, clock)
    got = client.get(f"/decisions/{decision_id}", headers=rp)
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["answered"]["answer"] == body["reproduced"]["answer"] == "deny" and body["exact"]
    assert body["reproduced"]["reasons"] == asked.json()["reasons"]
    assert body["current"]["answer"] == "allow"
    assert body["changed"] == "answered DENY on 2026-11-02; a correction on 2026-12-02 makes it ALLOW"
    other = h(system, "relying_party", "airlines")  # another key of the same party: not its question
    assert client.get(f"/decisions/{decision_id}", headers=other).status_code == 403
    assert client.get("/decisions/dec-0000000000000000", headers=h(system, "auditor")).status_code == 404
    bad = client.get("/decisions/nonsense", headers=rp)
    assert bad.status_code == 422 and "decision_id" in bad.text


def test_an_answer_is_reproduced_under_the_scheme_version_it_used(store: Any, clock: Clock) -> None:
    """A scheme revised after a decision: the receipt names the old file by its hash, and the
    answer is computed again under it (the old version kept in ``scheme_versions``)."""
    registry = shipped_registry()
    memo = registry.schemes["joint-memorandum-2016"]
    old = System(store, registry, clock=clock)
    feed(old, row(1, "2026-10-20", "2026-10-20T02:00:00"))
    d = old.check(Question(P, "no-flights", old.operator(), purpose="t"))
    assert d.answer == "deny" and d.receipt is not None
    # the revision: the measure no longer applies to persons
    text = (memo.text or "").replace("applies_to: [person]", "applies_to: [organisation]", 1)
    assert text != memo.text
    revised = Registry.of([*(s for s in registry.schemes.values() if s.id != memo.id), parse_scheme(text)])
    clock.advance(days=1)
    new = System(store, revised, clock=clock)
    assert new.check(Question(P, "no-flights", new.operator(), purpose="t")).answer == "allow"
    r = new.reproduce(d.receipt.decision_id, new.operator())
    assert r.exact and r.again.answer == "deny" and r.current.answer == "allow"
    assert r.changed == "answered DENY on 2026-11-02; a revision of the schemes makes it ALLOW"
    kept = {v.content_hash: v.yaml for v in store.scheme_versions()}
    assert kept[memo.content_hash] == memo.text and parse_scheme(text).content_hash in kept


def test_the_command_line_answers_as_known_then_and_reproduces_a_decision(env: Path) -> None:
    def ingest(n: int, **kw: Any) -> None:
        f = env / f"r{n}.jsonl"
        f.write_text(json.dumps(row(n, "2026-10-20", "2026-10-21T02:00:00", **kw)[1]) + "\n")
        assert jrun("ingest", str(f))["accepted"] == 1

    ingest(1)
    asked = jrun("check", P, "no-flights")
    assert asked["answer"] == "deny"
    time.sleep(1.1)  # received_at is kept to the second
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    time.sleep(1.1)
    ingest(2, action="withdraw", corrects_source_record_id="kt-1")
    assert run("check", P, "no-flights", "--at", before, "--known-at", before).exit_code == 1  # deny
    assert run("check", P, "no-flights", "--at", before).exit_code == 0  # allow
    then = jrun("score", P, "--at", before, "--known-at", before)
    assert [e["list_id"] for e in then["lists"]] == ["court-dishonest-debtors/dishonest-debtors"]
    assert jrun("score", P, "--at", before)["lists"] == []
    decision_id = asked["receipt"]["decision_id"]
    again = run("check", P, "no-flights", "--receipt", decision_id)
    assert again.exit_code == 0, again.output  # computed again exactly
    assert "the same, exactly" in again.stdout and "makes it ALLOW" in again.stdout
    body = jrun("check", P, "no-flights", "--receipt", decision_id)
    assert (body["reproduced"]["answer"], body["current"]["answer"], body["exact"]) == ("deny", "allow", True)
    assert run("check", P, "no-flights", "--known-at", "soon").exit_code == 2


def test_the_public_list_as_published_then_reads_only_what_was_known(
    system: System, clock: Clock, client: TestClient
) -> None:
    """Court's list, Art. 1(1): listed until a removal ground. The withdrawal, dated back but
    received 30 days later, was not known then: the list published then named the debtor."""
    from socialcredit.store import SubjectRow

    system.register([SubjectRow(P, "person", "Zhou Min")])
    before = listed_then_withdrawn(system, clock)
    court = "court-dishonest-debtors/dishonest-debtors"
    then = system.public_list(court, before, before)
    assert [r["name"] for r in then] == ["Zhou Min"]
    assert system.public_list(court, before) == [] and system.public_list(court) == []
    url = f"/public/lists/{court}"
    r = client.get(url, params={"as_of": before.isoformat(), "known_at": before.isoformat()})
    assert r.status_code == 200 and [x["name"] for x in r.json()["data"]] == ["Zhou Min"]
    assert client.get(url, params={"as_of": before.isoformat()}).json()["count"] == 0
    bad = client.get(url, params={"known_at": "soon"})
    assert bad.status_code == 422 and "known_at" in bad.json()["error"]
