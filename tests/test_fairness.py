"""Group fairness in the transparency report (issue 18, point 5), held to scipy's own interval
methods (Wilson's score interval; the log method of a relative risk) and to the four-fifths rule of
the US Uniform Guidelines on Employee Selection Procedures, 29 CFR 1607.4(D): "A selection rate for
any race, sex, or ethnic group which is less than four-fifths (4/5) (or eighty percent) of the rate
for the group with the highest rate will generally be regarded ... as evidence of adverse impact".
"""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient

from socialcredit import fairness
from socialcredit.api import create_app
from socialcredit.service import Question, System
from socialcredit.subjects import SubjectRow
from tests.conftest import Clock, person


@pytest.mark.parametrize(("k", "n"), [(0, 1), (0, 50), (1, 50), (7, 40), (40, 40), (500, 100_000)])
def test_wilson_is_scipys(k: int, n: int) -> None:
    from scipy.stats import binomtest  # here, not at the top: a second of import (decision 0099)

    ci = binomtest(k, n).proportion_ci(method="wilson")
    assert fairness.wilson(k, n) == pytest.approx((ci.low, ci.high), abs=1e-12)


@pytest.mark.parametrize(("k1", "n1", "k2", "n2"), [(20, 100, 10, 100), (3, 40, 9, 300), (90, 95, 50, 60)])
def test_ratio_interval_is_scipys_relative_risk(k1: int, n1: int, k2: int, n2: int) -> None:
    from scipy.stats.contingency import relative_risk

    rr = relative_risk(k1, n1, k2, n2)
    ci = rr.confidence_interval()
    assert fairness.ratio_interval(k1, n1, k2, n2) == pytest.approx((rr.relative_risk, ci.low, ci.high))


def test_four_fifths_against_the_best_off_group() -> None:
    rows = {r.group: r for r in fairness.group_rates({"a": (100, 5), "b": (100, 30), "c": (10, 9)})}
    assert rows["a"].best and rows["a"].impact_ratio == pytest.approx(1.0)
    # b's favourable rate 0.70 over a's 0.95 = 0.737 < 0.8: flagged
    assert rows["b"].impact_ratio == pytest.approx(0.70 / 0.95) and rows["b"].four_fifths
    assert rows["b"].relative_risk == pytest.approx(6.0)
    # a group under 30 gets its rate, not a judgement
    assert (
        rows["c"].rate == pytest.approx(0.9) and rows["c"].impact_ratio is None and not rows["c"].four_fifths
    )


def test_the_transparency_report_shows_a_district_listed_far_more_often(system: System, clock: Clock) -> None:
    clock.now = dt.datetime(2026, 3, 2, 4, 0)
    east = [person(n, region="371082") for n in range(100, 140)]
    west = [person(n, region="371002") for n in range(200, 240)]
    system.register(
        [SubjectRow(c, "person", district="East") for c in east]
        + [SubjectRow(c, "person", district="West") for c in west]
    )
    rows = [
        (i, {"subject": c, "item": "court.dishonest.able-but-refuses", "source": "court",
             "source_record_id": f"z-{i}", "occurred_on": "2026-03-02"})
        for i, c in enumerate(east[:20], start=1)
    ]  # fmt: skip
    assert system.ingest(rows, origin="court", principal=system.operator()).accepted == 20
    op = system.operator()
    for c in [*east[:10], *west[:10]]:
        system.check(Question(c, "no-flights", op, purpose="ticket"))
    report = system.transparency()
    listed = {r["group"]: r for r in report["fairness"]["listed"]["district"]}
    assert (listed["East"]["n"], listed["East"]["events"]) == (40, 20)
    assert listed["West"]["best"] and listed["West"]["events"] == 0
    assert listed["East"]["four_fifths"] and listed["East"]["impact_ratio"] == pytest.approx(0.5, rel=0.02)
    refused = {r["group"]: r for r in report["fairness"]["refused"]["district"]}
    assert (refused["East"]["n"], refused["East"]["events"]) == (10, 10)
    assert refused["East"]["impact_ratio"] is None  # 10 decisions: too few to judge
    assert set(report["fairness"]["listed"]) == {"district", "age_band", "sex"}
    body = TestClient(create_app(system)).get("/public/transparency").json()
    assert body["fairness"]["listed"]["district"][0]["group"] == "East"
