"""Every explanation adds up (issue 16, point 7): where a model's arithmetic is not a plain sum,
the difference is a line of its own, so ``start + lines + adjustments == score`` for every model
with points, on random record sets of every shipped scheme that has them.

The case that prompted it is Suining's maximum. The reporting (docs: DOMAIN.md) has Suining "up to
1,000 points"; the shipped ``suining-2010.yaml`` says "every resident starts at the maximum of 1,000
points and loses points for recorded misconduct; a national honour adds points back up to the
maximum" (``model: {base: 1000, minimum: 0, maximum: 1000}``). A model worker with a red light and
a minor traffic violation was explained by lines summing to 1,030 for a score of 1,000, and no line
named the cap.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import event, given, settings
from hypothesis import strategies as st

from socialcredit.ledger import Record
from socialcredit.schemes.loader import shipped_scheme
from socialcredit.schemes.model import FactorModel, PointsModel
from socialcredit.scoring import Score, score
from tests.conftest import person
from tests.support.records import at, r

P = person(71)
SUINING = shipped_scheme("suining-2010")
POINTS_SCHEMES = ["rongcheng", "suining-2010"]
FACTOR_SCHEMES = ["sesame"]
START = dt.date(2024, 1, 1)


def lines_total(s: Score) -> float:
    """What the explanation's lines add up to, read the way the API, CLI and portal show them:
    the start, the record lines (points model) or the factor lines (factor model), the adjustments."""
    assert s.start is not None
    lines = s.contributions if s.kind == "points" else s.factors
    return s.start + sum(x.points for x in lines) + sum(a.points for a in s.adjustments)


def test_suining_capped_at_its_maximum_says_so() -> None:
    """1,000 + 100 (model worker) - 50 (red light) - 20 (minor violation) = 1,030, capped at 1,000."""
    recs = [
        r("honour.model-worker", "2026-01-10"),
        r("traffic.red-light", "2026-02-10"),
        r("traffic.minor", "2026-03-10"),
    ]
    s = score(P, recs, SUINING, at("2026-06-01"))
    assert s.score == 1000 and s.base + sum(c.points for c in s.contributions) == 1030
    (cap,) = s.adjustments
    assert (cap.kind, cap.bound, cap.points) == ("maximum", 1000, -30)
    assert cap.text == "capped at the maximum of 1,000: -30"
    assert s.clamped and lines_total(s) == 1000
    # the cap is no record: the record lines and the reasons name only the three records
    assert {c.record_id for c in s.contributions} == {x.record_id for x in recs}
    assert {x.record_id for x in s.reasons} <= {x.record_id for x in recs}


def test_suining_raised_to_its_minimum_says_so() -> None:
    """1,000 - 11 x 100 (false accusations online) - 20 = -120, raised to the minimum of 0."""
    recs = [r("online.false-accusation", "2026-01-10") for _ in range(11)]
    recs.append(r("traffic.minor", "2026-01-11"))
    s = score(P, recs, SUINING, at("2026-06-01"))
    assert s.score == 0 and s.base + sum(c.points for c in s.contributions) == -120
    assert [(a.kind, a.bound, a.points, a.text) for a in s.adjustments] == [
        ("minimum", 0, 120, "raised to the minimum of 0: +120")
    ]
    assert lines_total(s) == 0


def test_a_score_within_its_bounds_has_no_adjustment() -> None:
    s = score(P, [r("traffic.minor", "2026-01-10")], SUINING, at("2026-06-01"))
    assert (s.score, s.adjustments, s.clamped, lines_total(s)) == (980, (), False, 980)


def test_a_factor_score_names_its_rounding() -> None:
    """Sesame: 350 + the factors' worth (350 + 103.16 + 63.16 + 94.74 + 55.26 = 666.32: credit
    history at 0.4667 after the unpaid bill, behaviour at 0.35 after a month of video games),
    rounded half up to 666."""
    recs = [
        r("identity.verified", "2025-06-01"),
        r("utility.unpaid-bill", "2025-09-01"),
        r("consumption.video-game-hours", "2025-10-01"),
    ]
    s = score(P, recs, shipped_scheme("sesame"), at("2026-01-01"))
    (rounding,) = s.adjustments
    assert (s.score, s.start, rounding.kind, rounding.bound) == (666, 350, "rounding", None)
    assert rounding.text == "rounded half up to 666: -0.32"
    assert abs(lines_total(s) - 666) < 1e-9 and not s.clamped
    assert score(P, [], shipped_scheme("sesame"), at("2026-01-01")).adjustments == ()  # 650 exactly


def test_a_tier_model_has_no_points_and_no_adjustment() -> None:
    s = score(
        P, [r("court.fraud-conviction", "2025-03-01")], shipped_scheme("honest-shanghai"), at("2026-01-01")
    )
    assert (s.kind, s.start, s.adjustments) == ("tier", None, ())


def _records(day: int, rows: list[tuple[str, int, int, int]]) -> list[Record]:
    """``copies`` records of ``item`` that occurred ``age`` days before ``day`` (days from START),
    reported ``lag`` days after they occurred (so some are not yet reported on ``day``)."""
    out = []
    for item, age, lag, copies in rows:
        occurred = START + dt.timedelta(days=day - age)
        out += [
            r(item, occurred.isoformat(), f"{occurred + dt.timedelta(days=lag)}T09:00") for _ in range(copies)
        ]
    return out


def _rows(scheme_id: str) -> st.SearchStrategy[list[tuple[str, int, int, int]]]:
    """Any of the scheme's items, leaning in some examples to its heaviest deductions or its
    largest additions, so that both bounds are reached."""
    index = shipped_scheme(scheme_id).item_index
    by_points = sorted(index, key=lambda code: (index[code].points, code))
    leans = st.sampled_from([by_points, by_points[:3], by_points[-3:]])
    age, lag, copies = st.integers(0, 800), st.integers(0, 30), st.integers(1, 12)
    return leans.flatmap(
        lambda lean: st.lists(
            st.tuples(st.sampled_from(lean) | st.sampled_from(by_points), age, lag, copies), max_size=20
        )
    )


@settings(max_examples=200, deadline=None)
@given(data=st.data(), scheme_id=st.sampled_from(POINTS_SCHEMES + FACTOR_SCHEMES), day=st.integers(800, 1600))
def test_every_explanation_adds_up(data: st.DataObject, scheme_id: str, day: int) -> None:
    scheme = shipped_scheme(scheme_id)
    model = scheme.model
    recs = _records(day, data.draw(_rows(scheme_id)))
    s = score(P, recs, scheme, at((START + dt.timedelta(days=day)).isoformat()))
    event(f"{scheme_id}: {' '.join(a.kind for a in s.adjustments) or 'no adjustment'}")
    if isinstance(model, PointsModel):
        assert s.start == s.base
        assert lines_total(s) == s.score  # whole points: exactly
        assert s.clamped == (s.base + sum(c.points for c in s.contributions) != s.score)
        for a in s.adjustments:
            assert a.kind in ("maximum", "minimum")
            assert a.bound == (model.maximum if a.kind == "maximum" else model.minimum) == s.score
            assert (a.points < 0) == (a.kind == "maximum")
            assert a.text.endswith(f": {int(a.points):+,d}") and f"{a.bound:,}" in a.text
    else:
        assert isinstance(model, FactorModel) and s.start == model.minimum
        assert abs(lines_total(s) - s.score) < 1e-6
        assert [a.kind for a in s.adjustments] in ([], ["rounding"])
        assert all(-0.5 < a.points <= 0.5 for a in s.adjustments)
    # an adjustment is never taken for a record
    ids = {x.record_id for x in recs}
    assert {c.record_id for c in s.contributions} <= ids
    assert {x.record_id for x in s.reasons if x.record_id is not None} <= ids
