"""The factor model (Sesame): bounded score from weighted factors, exact reason codes, decay, the
relationships factor off and flagged, privileges by threshold through System.check, and the
points-only paths (engines, compiled rules) refusing it clearly."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from socialcredit.cli import app
from socialcredit.schemes import lint
from socialcredit.schemes.loader import parse_scheme, shipped_scheme
from socialcredit.scoring import score, timeline
from socialcredit.service import Question, System
from socialcredit.settings import get_settings
from tests.conftest import person
from tests.support.records import at, feed, r, rec

P, Q = person(41), person(42)
SESAME = shipped_scheme("sesame")


def test_no_record_scores_650_and_the_bounds_hold() -> None:
    s = score(P, [], SESAME, at("2026-01-01"))
    assert (s.kind, s.score, s.grade, s.base) == ("factor", 650, "very-good", 650)
    assert [f.factor for f in s.factors] == [
        "credit-history", "fulfilment-capacity", "identity", "behaviour", "relationships",
    ]  # fmt: skip
    assert not s.factors[-1].enabled and s.factors[-1].points == 0
    assert s.reasons == []
    worst = [
        r(code, "2025-12-01")
        for code in SESAME.item_index
        if SESAME.item_index[code].points < 0
        for _ in range(4)
    ]
    # every factor at the bottom of its map; identity has no negative item, so it stays at 0.5
    assert score(P, worst, SESAME, at("2026-01-01")).score == 350 + round(600 * 0.5 * 15 / 95)
    best = [
        r(code, "2025-12-01")
        for code in SESAME.item_index
        if SESAME.item_index[code].points > 0
        for _ in range(13)
    ]
    # behaviour and preferences reads only what is reported against a member (hours of video
    # games): with no such record it stays at 0.5, so the top is 350 + 600 * 82.5 / 95, not 950
    assert score(P, best, SESAME, at("2026-01-01")).score == 350 + round(600 * (35 + 20 + 15 + 12.5) / 95)


def test_reason_codes_are_each_records_exact_effect() -> None:
    recs = [
        r("identity.verified", "2025-06-01"),
        r("utility.unpaid-bill", "2025-09-01"),
        r("consumption.video-game-hours", "2025-10-01"),
    ]
    s = score(P, recs, SESAME, at("2026-01-01"))
    assert s.score == 666  # 650 + identity 47.4 - unpaid bill 7.4 - video games 23.7, rounded half up
    assert len(s.reasons) == 3 and abs(s.reasons[0].effect) >= abs(s.reasons[-1].effect)
    for reason in s.reasons:
        without = [x for x in recs if x.record_id != reason.record_id]
        raw = s.score - score(P, without, SESAME, at("2026-01-01")).score
        assert abs(raw - reason.effect) < 1.0, reason
    assert "lowered the score by 7 points" in next(
        x.text for x in s.reasons if x.item == "utility.unpaid-bill"
    )


def test_decay_and_retention_apply_to_factors() -> None:
    loan = [r("finance.loan-overdue", "2024-01-01")]
    fresh = score(P, loan, SESAME, at("2024-01-01")).score
    a_year = score(P, loan, SESAME, at("2024-12-31")).score  # -40 halves to -20 after 365 days
    assert fresh < a_year < 650
    assert score(P, loan, SESAME, at("2029-01-01")).score == 650  # counts for 1825 days
    history = timeline(P, loan, SESAME, at("2029-06-30"))
    assert history[0] == (dt.date(2024, 1, 1), fresh, score(P, loan, SESAME, at("2024-01-01")).grade)
    assert history[-1][1] == 650 and len(history) > 3
    for day, value, _grade in history:
        assert score(P, loan, SESAME, dt.datetime.combine(day, dt.time.max)).score == value


def _with_relationships(weight: float, enabled: bool) -> Any:
    data = SESAME.model_dump(mode="json", exclude_none=True)
    data["model"]["factors"][-1].update(weight=weight, enabled=enabled)
    return parse_scheme(yaml.safe_dump(data))


def test_the_relationships_factor_is_off_and_flagged_when_on() -> None:
    assert [f.rule for f in lint(SESAME) if f.level == "error"] == []
    on = _with_relationships(5, True)
    assert [f.rule for f in lint(on) if f.level == "error"] == ["relationships-factor"]
    assert [f.rule for f in lint(_with_relationships(0, True)) if f.level == "error"] == []
    # on, a subject's score falls for whom it knows; off, contacts change nothing
    assert score(P, [], on, at("2026-01-01"), contacts=[400, 420]).score < 650
    assert score(P, [], SESAME, at("2026-01-01"), contacts=[400, 420]).score == 650
    low = score(P, [], on, at("2026-01-01"), contacts=[400])
    assert low.reasons and "declared contacts" in low.reasons[0].text


def test_privileges_by_threshold_through_check(system: System) -> None:
    op = system.operator()
    feed(
        system,
        rec(1, P, "identity.verified", "public-security", "2026-06-01"),
        rec(2, P, "utility.unpaid-bill", "power-grid", "2026-09-01"),
        rec(3, Q, "identity.verified", "public-security", "2026-06-01"),
        rec(4, Q, "finance.bill-paid-on-time", "banks", "2026-09-01"),
    )
    assert system.view(P).scores["sesame"].score == 690
    assert system.view(Q).scores["sesame"].score == 707
    denied = system.check(Question(P, "sesame-singapore-visa", op, purpose="visa application"))
    assert not denied.allowed
    [why] = denied.reasons
    assert "at least 700" in why.text and "sesame: 690" in why.text
    assert any("Electricity or water bill" in e and "lowered" in e for e in why.explanation)
    assert why.grounds and why.how_to_resolve
    allowed = system.check(Question(Q, "sesame-singapore-visa", op, purpose="visa application"))
    assert allowed.allowed and allowed.reasons[0].basis == "score" and allowed.reasons[0].explanation
    assert system.check(Question(P, "sesame-cash-loan", op, purpose="loan")).allowed  # 690 >= 666
    assert not system.check(Question(Q, "sesame-schengen-visa", op, purpose="visa")).allowed  # 707 < 750


def test_cli_score_shows_reasons(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIALCREDIT_HOME", str(tmp_path))
    monkeypatch.delenv("SOCIALCREDIT_DATABASE_URL", raising=False)
    # settings are cached: without this the command line used whatever home an earlier test left
    # cached (the user's data directory, holding another installation's database and keys)
    get_settings.cache_clear()
    runner = CliRunner()
    rows = tmp_path / "r.jsonl"
    rows.write_text(
        json.dumps({"subject": P, "item": "utility.unpaid-bill", "source": "power-grid",
                    "source_record_id": "pg-1", "occurred_on": "2026-09-01",
                    "reported_at": "2026-09-02T08:00:00"}) + "\n"
        + json.dumps({"subject": P, "item": "identity.verified", "source": "public-security",
                      "source_record_id": "ps-1", "occurred_on": "2026-06-01",
                      "reported_at": "2026-06-01T08:00:00"}) + "\n"
    )  # fmt: skip
    assert runner.invoke(app, ["ingest", str(rows)]).exit_code == 0
    done = runner.invoke(app, ["score", P, "--at", "2026-10-01", "--json"])
    assert done.exit_code == 0, done.output
    by = {s["scheme"]: s for s in json.loads(done.stdout)["scores"]}
    assert by["sesame"]["kind"] == "factor" and any(x["effect"] < 0 for x in by["sesame"]["reasons"])
    assert "honest-shanghai" not in by  # rates only those who applied (issue 19)
    assert by["rongcheng"]["reasons"][0]["effect"] == -5
    text = runner.invoke(app, ["score", P, "--at", "2026-10-01", "--scheme", "sesame"]).stdout
    joined = " ".join(text.split())
    assert "reason: Electricity or water" in joined and "counted under credit history" in joined


def test_an_opt_in_scheme_scores_only_those_who_joined(system: System) -> None:
    op = system.operator()
    feed(system, rec(1, P, "finance.bill-paid-on-time", "banks", "2026-09-01"))
    assert "sesame" not in system.view(P).scores  # never joined: no Sesame score at all
    assert "rongcheng" in system.view(P).scores
    refused = system.check(Question(P, "sesame-cash-loan", op, purpose="loan"))
    assert not refused.allowed and "no score" in refused.reasons[0].text
    feed(system, rec(2, P, "identity.verified", "public-security", "2026-10-01"))
    assert system.view(P).scores["sesame"].score > 650
    assert "sesame" not in system.view(P, at("2026-09-15")).scores  # not before joining
