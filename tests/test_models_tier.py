"""The tier model (Honest Shanghai, the enterprise rating): rules over records, reasons in plain
words, history equal to the rating on every day, lists and decisions through the one dispatch."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from socialcredit.rules import days
from socialcredit.schemes import SchemeError, lint, shipped_registry
from socialcredit.schemes.loader import parse_scheme, shipped_scheme
from socialcredit.scoring import score, scores_for, timeline
from socialcredit.service import Question, System
from socialcredit.store import SubjectRow
from tests.conftest import org, person
from tests.support.records import at, feed, r, rec

P, Q, ORG = person(31), person(32), org(31)
HS = shipped_scheme("honest-shanghai")
ENT = shipped_scheme("enterprise-credit")


def test_no_record_is_the_default_tier_with_a_reason() -> None:
    s = score(P, [], HS, at("2026-01-01"))
    assert (s.kind, s.grade, s.score, s.base) == ("tier", "good", 1, 1)
    assert "default good" in s.reasons[0].text
    assert any("very-good needs at least 2 positive record" in x.text for x in s.reasons)


def test_a_serious_record_rates_bad_for_two_years_and_names_the_record() -> None:
    fraud = r("court.fraud-conviction", "2024-03-01")
    bad = score(P, [fraud], HS, at("2025-01-01"))
    assert bad.grade == "bad" and bad.score == 0
    assert bad.reasons[0].record_id == fraud.record_id and bad.reasons[0].effect == -1
    assert "Convicted" in bad.reasons[0].text or "2024-03-01" in bad.reasons[0].text
    # 730 days later the rule no longer reads it; it still counts (1825 days), so no "very good"
    later = score(P, [fraud], HS, at("2026-03-01"))
    assert later.grade == "good"
    blocking = [x for x in later.reasons if x.record_id == fraud.record_id]
    assert blocking and "stands in the way of very-good" in blocking[0].text


def test_very_good_needs_a_clean_record_and_two_positive_ones() -> None:
    gifts = [r("charity.donation", "2025-05-01"), r("volunteer.service", "2025-06-01")]
    assert score(P, gifts[:1], HS, at("2025-07-01")).grade == "good"
    vg = score(P, gifts, HS, at("2025-07-01"))
    assert vg.grade == "very-good" and vg.score == 2
    assert {x.record_id for x in vg.reasons if x.record_id} == {g.record_id for g in gifts}
    minor = r("traffic.minor", "2025-06-15")
    assert score(P, [*gifts, minor], HS, at("2025-07-01")).grade == "good"
    # three general negative records in two years: bad, before the very-good rule is tried
    general = [r("tax.arrears", f"2025-0{m}-01") for m in (1, 2, 3)]
    assert score(P, [*gifts, *general], HS, at("2025-07-01")).grade == "bad"
    # a record not yet reported does not count
    late = r("court.fraud-conviction", "2025-06-01", reported="2025-08-01T09:00:00")
    assert score(P, [*gifts, late], HS, at("2025-07-01")).grade == "very-good"
    assert score(P, [*gifts, late], HS, at("2025-08-01")).grade == "bad"


@pytest.mark.parametrize("scheme", [HS, ENT], ids=lambda s: s.id)
def test_the_timeline_is_the_rating_of_every_day(scheme: Any) -> None:
    """:func:`timeline` evaluates the model only on the days it can change; on every other day the
    rating must equal the one of the last change."""
    subject = ORG if scheme is ENT else P
    recs = [
        r("charity.donation", "2023-01-10", subject=subject),
        r("tax.a-grade-taxpayer", "2023-02-01", subject=subject),
        r("volunteer.service", "2023-03-05", subject=subject),
        r("utility.unpaid-bill", "2023-09-01", "2023-10-20T08:00:00", subject=subject),
        r("utility.unpaid-bill", "2023-11-01", subject=subject),
        r("tax.arrears", "2024-02-01", subject=subject),
        r("court.fraud-conviction", "2024-08-01", subject=subject),
        r("inspection.passed", "2026-01-01", subject=subject),
    ]
    recs = [x for x in recs if scheme.item(x.item) is not None]
    until = at("2027-06-30")
    changes = timeline(subject, recs, scheme, until)
    assert len({g for _d, _s, g in changes}) >= 2
    day, current = dt.date(2022, 12, 1), scheme.model.base
    steps = dict((d, v) for d, v, _g in changes)
    while day <= days.day_of(until):
        current = steps.get(day, current)
        end = min(until, days.end_of(day))  # the end of the day in China
        assert score(subject, recs, scheme, end).score == current, day
        day += dt.timedelta(days=1)


def test_the_enterprise_rating_rates_organisations_only() -> None:
    assert "enterprise-credit" not in scores_for(
        P, "person", [], shipped_registry().scored(), at("2026-01-01")
    )
    s = scores_for(ORG, "organisation", [], shipped_registry().scored(), at("2026-01-01"))[
        "enterprise-credit"
    ]
    assert s.grade == "blue"
    minor = [r("market.annual-report-missing", f"2025-0{m}-01", subject=ORG) for m in (3, 4)]
    assert score(ORG, minor, ENT, at("2025-06-01")).grade == "yellow"
    good = [r("tax.a-grade-taxpayer", "2025-04-01", subject=ORG)]
    assert score(ORG, good, ENT, at("2025-06-01")).grade == "green"
    assert (
        score(
            ORG, [*good, r("food.safety-violation", "2025-05-01", subject=ORG)], ENT, at("2025-06-01")
        ).grade
        == "red"
    )


def test_enterprise_measures_cover_the_company_and_its_representative(system: System) -> None:
    system.register(
        [
            SubjectRow(Q, "person", "Li Hua"),
            SubjectRow(ORG, "organisation", "Example Foods Ltd", legal_representative=Q),
        ]
    )
    op = system.operator()
    assert system.check(Question(ORG, "enterprise-no-public-procurement", op, purpose="tender")).allowed
    feed(system, rec(1, ORG, "food.safety-violation", "market-regulation", "2026-10-01"))
    v = system.view(ORG)
    assert v.scores["enterprise-credit"].grade == "red"
    assert "enterprise-credit" not in system.view(Q).scores
    # the red tier denies at once (a grade trigger); the reason carries the rating's reason codes
    d = system.check(Question(ORG, "enterprise-no-public-procurement", op, purpose="tender"))
    assert not d.allowed
    graded = [x for x in d.reasons if x.basis == "grade"]
    assert graded and any("Food safety" in e or "food" in e.lower() for e in graded[0].explanation)
    # the serious-violators list takes effect after 10 days' notice, for the company and its representative
    system.clock.now = dt.datetime(2026, 11, 20, 12)  # type: ignore[attr-defined]
    assert not system.check(Question(Q, "enterprise-no-directorship", op, purpose="appointment")).allowed
    entries = {(e.qualified_id, e.via) for e in system.view(Q).entries}
    assert ("enterprise-credit/serious-violators", ORG) in entries
    red = [e for e in system.view(ORG).entries if e.qualified_id == "enterprise-credit/red-rated"]
    assert red and red[0].status == "active"


def test_tier_schemes_are_checked_and_linted() -> None:
    base = HS.model_dump(mode="json", exclude_none=True)

    def with_model(**changes: Any) -> str:
        import yaml

        data = {**base, "model": {**base["model"], **changes}}
        return yaml.safe_dump(data)

    with pytest.raises(SchemeError, match="not one of the tiers"):
        parse_scheme(with_model(default="excellent"))
    rules = [{"tier": "bad", "any_of": [{"of": {"items": ["no.such-item"]}, "at_least": 1}]}]
    with pytest.raises(SchemeError, match="not in this scheme's catalogue"):
        parse_scheme(with_model(rules=rules))
    with pytest.raises(SchemeError, match="needs at_least"):
        parse_scheme(with_model(rules=[{"tier": "bad", "any_of": [{"of": {"polarity": "negative"}}]}]))
    # a score threshold on a tier rating is an error: a tier has no points
    trig = {"scheme": "honest-shanghai", "score_at_least": 1}
    measure = {
        "id": "m",
        "title": "M",
        "kind": "reward",
        "implemented_by": ["x"],
        "trigger": trig,
        "legal_basis": "L",
    }
    import yaml

    found = lint(parse_scheme(yaml.safe_dump({**base, "measures": [measure]})))
    assert [f.rule for f in found if f.level == "error"] == ["score-of-a-tier"]
