"""Leaving an opt-in scheme (issue 19, point 1): a member's withdrawal stops the score at once and
ends the scheme's use of every record known by then, on every evaluator (the subject's view, a
decision, the API, the portal and the relational engines), even after the member joins again;
Honest Shanghai (point 2) rates only those who applied. PIPL Art. 15: "individuals have the right to
withdraw their consent"; Art. 47(1)(4): the handler shall delete personal information where "the
individual withdraws consent"."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fastapi.testclient import TestClient

from socialcredit.engines.duck import DuckDBEngine
from socialcredit.engines.export import export_ledger
from socialcredit.scoring import score
from socialcredit.service import Question, System
from tests.conftest import Clock, person
from tests.support.api import h
from tests.support.portal import client_for, post_form
from tests.support.records import feed, rec

P, Q = person(51), person(52)


def _member(system: System) -> None:
    feed(
        system,
        rec(1, P, "identity.verified", "public-security", "2026-06-01"),
        rec(2, P, "utility.unpaid-bill", "power-grid", "2026-06-10"),
        rec(3, P, "consumption.video-game-hours", "online-platforms", "2026-06-20"),
        rec(4, Q, "identity.verified", "public-security", "2026-06-01"),
    )


def test_withdrawal_over_the_api_stops_the_score_and_ends_the_use_of_the_data(
    system: System, client: TestClient, clock: Clock
) -> None:
    _member(system)
    mine = h(system, "subject", P)
    before = client.get(f"/subjects/{P}", headers=mine).json()
    assert "sesame" in {s["scheme"] for s in before["scores"]}
    listing = client.get(f"/subjects/{P}/enrolments", headers=mine).json()
    standing = {e["scheme"]: e["status"] for e in listing["data"]}
    assert standing == {"sesame": "member", "honest-shanghai": "not a member"}
    # nobody else may leave for P: another subject, an operator, an agency
    for other in (h(system, "subject", Q), h(system, "operator", "wang.fang"), h(system, "agency", "banks")):
        assert client.post(f"/subjects/{P}/enrolments/sesame/withdraw", headers=other).status_code == 403
    left = client.post(f"/subjects/{P}/enrolments/sesame/withdraw", headers=mine)
    assert left.status_code == 200, left.text
    assert left.json()["status"] == "left"
    after = client.get(f"/subjects/{P}", headers=mine).json()
    assert "sesame" not in {s["scheme"] for s in after["scores"]}
    assert any(r["item"] == "sesame.left" and r["source"] == "self" for r in after["records"])
    decision = system.check(Question(P, "sesame-cash-loan", system.operator(), purpose="loan"))
    assert not decision.allowed and "no score" in decision.reasons[0].text
    # leaving twice, a scheme one cannot leave, an unknown scheme: named refusals
    again = client.post(f"/subjects/{P}/enrolments/sesame/withdraw", headers=mine)
    assert again.status_code == 409 and "not a member" in again.json()["error"]
    assert client.post(f"/subjects/{P}/enrolments/rongcheng/withdraw", headers=mine).status_code == 422
    assert client.post(f"/subjects/{P}/enrolments/nope/withdraw", headers=mine).status_code == 404
    # joining again starts afresh: the unpaid bill and the video games known at leaving are never read
    clock.advance(days=1)
    feed(system, rec(5, P, "identity.verified", "public-security", "2026-11-03", "2026-11-03T09:00:00"))
    again_member = system.view(P).scores["sesame"]
    assert {c.item for c in again_member.contributions} == {"identity.verified"}
    fresh = score(P, [r for r in system.view(P).records if r.source_record_id == "public-security-5"],
                  system.registry.scheme("sesame"), system.view(P).as_of)  # fmt: skip
    assert again_member.score == fresh.score
    # the past is reproduced as it was answered then (while a member)
    was = system.view(P, dt.datetime(2026, 10, 1, 12)).scores["sesame"]
    assert {"utility.unpaid-bill", "consumption.video-game-hours"} <= {c.item for c in was.contributions}


def test_the_portal_has_a_leave_button(system: System) -> None:
    from socialcredit.api.app import create_app

    _member(system)
    c = client_for(create_app(system), system.create_key("subject", P).token)
    page = c.get(f"/portal/subjects/{P}").text
    assert 'data-testid="enrolment-sesame">member<' in page and "Leave Sesame Credit" in page
    assert 'data-testid="score-sesame"' in page
    r = post_form(c, f"/portal/subjects/{P}", f"/portal/subjects/{P}/enrolments/sesame/withdraw", {})
    assert r.status_code == 303, r.text
    page = c.get(f"/portal/subjects/{P}").text
    assert 'data-testid="enrolment-sesame">left<' in page
    assert 'data-testid="score-sesame"' not in page and "Leave Sesame Credit" not in page


def test_honest_shanghai_rates_only_those_who_applied(system: System) -> None:
    feed(
        system,
        rec(1, P, "traffic.red-light", "traffic-police", "2026-06-01"),
        rec(2, Q, "traffic.red-light", "traffic-police", "2026-06-01"),
        rec(3, Q, "honest-shanghai.applied", "self", "2026-07-01"),
    )
    assert "honest-shanghai" not in system.view(P).scores
    assert system.view(Q).scores["honest-shanghai"].grade == "good"
    assert "rongcheng" in system.view(P).scores  # a public scheme still rates everyone


def test_engines_follow_the_withdrawal(system: System, clock: Clock, tmp_path: Path) -> None:
    """DuckDB's population scores equal the service's view before leaving, after it and after
    joining again."""
    _member(system)
    feed(system, rec(6, Q, "honest-shanghai.applied", "self", "2026-06-02"))
    clock.now = dt.datetime(2026, 10, 1, 3)
    system.withdraw(P, "sesame", system.authenticate(system.create_key("subject", P).token))
    system.withdraw(Q, "honest-shanghai", system.authenticate(system.create_key("subject", Q).token))
    clock.now = dt.datetime(2026, 10, 6, 3)
    feed(system, rec(7, P, "identity.verified", "public-security", "2026-10-05", "2026-10-05T09:00:00"))
    export_ledger(system.store, tmp_path / "export")
    schemes = [system.registry.scheme("sesame"), system.registry.scheme("honest-shanghai")]
    engine = DuckDBEngine()
    try:
        for at in (dt.datetime(2026, 9, 1), dt.datetime(2026, 10, 2), dt.datetime(2026, 10, 31)):
            rows = engine.to_arrow(engine.population_scores(tmp_path / "export", schemes, at)).to_pylist()
            got = {(r["subject"], r["scheme"]): int(r["score"]) for r in rows if r["subject"] in (P, Q)}
            want = {
                (code, sid): s.score
                for code in (P, Q)
                for sid, s in system.view(code, at).scores.items()
                if sid in ("sesame", "honest-shanghai")
            }
            assert got == want, at
        assert (P, "sesame") in got and (Q, "honest-shanghai") not in got
        # P's score after joining again reads only the new identity record
        assert got[(P, "sesame")] == system.view(P, at).scores["sesame"].score
    finally:
        engine.close()
