"""The points model: base points plus each counting record's points, clamped and graded.

This is how the Rongcheng and Suining pilots were reported to work. A record counts from the
day it occurred (once it has been reported) until ``counts_for_days`` later; the explanation
lists every contributing record with its points and the day it stops counting, so a subject
can check each line against the record it names, and a line of its own for the clamp when the
scheme's minimum or maximum holds the score, so the lines add up to it.

Time decay (an item's optional ``half_life_days``): while it counts, a record contributes
``floor(points * 0.5 ** (age / half_life_days) + 0.5)`` whole points, ``age`` being the whole days
from its occurrence to the day scored. Rounding each record (half up) rather than the total keeps
every explanation line a whole number that adds up to the score, and makes the sum exact and
independent of summation order, so DuckDB and Spark give the same score
(``socialcredit.engines.relational`` uses the same formula; docs/decisions/0008-time-decay.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

from socialcredit.i18n import N_
from socialcredit.ledger import Record
from socialcredit.rules import kernel
from socialcredit.rules.days import day_of
from socialcredit.rules.ops import PY, Ops
from socialcredit.schemes.model import PointsModel, Scheme
from socialcredit.scoring.explanation import Explanation, Line, adjustment_lines, graded, records_section
from socialcredit.scoring.kinds import Feed, Sweep
from socialcredit.scoring.result import Contribution, Score, bound_adjustment

__all__ = ["Contribution", "Score", "decayed_points", "score_points", "score_timeline"]


def decayed_points(points: int, age_days: int, half_life_days: int | None) -> int:
    """The whole points a record contributes ``age_days`` after it occurred.

    >>> decayed_points(-50, 0, 365), decayed_points(-50, 365, 365), decayed_points(-50, 730, None)
    (-50, -25, -50)
    >>> decayed_points(5, 365, 365)  # 2.5 rounds half up
    3
    """
    out: int = kernel.decayed(points, age_days, half_life_days, PY)
    return out


def _counting(records: Iterable[Record], scheme: Scheme, on: dt.date) -> list[Contribution]:
    out = []
    for r in records:
        item = scheme.item(r.item)
        if item is None or item.points == 0:
            continue
        age = (on - r.occurred_on).days
        if kernel.counts(age, item.counts_for_days):
            until = r.occurred_on + dt.timedelta(days=item.counts_for_days)
            points = decayed_points(item.points, age, item.half_life_days)
            out.append(Contribution(r.record_id, r.item, item.title, r.source, r.occurred_on, until, points))
    return out


def score_points(subject: str, records: Sequence[Record], scheme: Scheme, as_of: dt.datetime) -> Score:
    """Score ``subject`` from its effective records (see :func:`ledger.effective`) at ``as_of``.

    >>> from socialcredit.schemes.loader import shipped_scheme
    >>> s = score_points("11010519491231002X", [], shipped_scheme("rongcheng"),
    ...                  dt.datetime(2025, 1, 1))
    >>> (s.score, s.grade)
    (1000, 'A')

    Where the minimum or maximum holds the score, an adjustment line says so, so the base, the
    record lines and the adjustments add up to the score (Suining's 1,000 maximum, issue 16).
    """
    model = scheme.model
    if not isinstance(model, PointsModel):
        raise ValueError(f"scheme {scheme.id} has no points model (use socialcredit.scoring.score)")
    lines = _counting((r for r in records if r.reported_at <= as_of), scheme, day_of(as_of))
    raw = model.base + sum(c.points for c in lines)
    value: int = kernel.clamp(raw, model.minimum, model.maximum, PY)
    return Score(
        scheme.id,
        subject,
        as_of,
        model.base,
        value,
        model.grade_of(value),
        tuple(lines),
        start=model.base,
        adjustments=bound_adjustment(raw, value),
    )


def score_timeline(
    subject: str, records: Sequence[Record], scheme: Scheme, until: dt.datetime
) -> list[tuple[dt.date, int, str]]:
    """``(date, score, grade)`` on each day the score changes, up to ``until``: the value at
    the end of that day, exactly as :func:`score_points` would give it then.

    A record counts from the later of the day it occurred and the day it was reported, until
    ``counts_for_days`` after it occurred; one sweep over those start and end days gives the
    whole history (used for grade-based lists and score charts). A decaying record also changes
    the score on each day its whole points step down (:func:`_decay_steps`)."""
    model = scheme.model
    if not isinstance(model, PointsModel):
        raise ValueError(f"scheme {scheme.id} has no points model (use socialcredit.scoring.score)")
    deltas: dict[dt.date, int] = {}
    last = day_of(until)
    for r in records:
        item = scheme.item(r.item)
        if item is None or item.points == 0 or r.reported_at > until:
            continue
        start = max(r.occurred_on, day_of(r.reported_at))
        end = r.occurred_on + dt.timedelta(days=item.counts_for_days)
        if start >= end or start > last:
            continue
        steps = [(start, item.points)]
        if item.half_life_days is not None:
            final = min(end - dt.timedelta(days=1), last)
            steps = _decay_steps(item.points, item.half_life_days, r.occurred_on, start, final)
        current = 0
        for day, value in steps:
            deltas[day] = deltas.get(day, 0) + value - current
            current = value
        if end <= last:
            deltas[end] = deltas.get(end, 0) - current
    out: list[tuple[dt.date, int, str]] = []
    running = 0
    for day in sorted(deltas):
        running += deltas[day]
        value = kernel.clamp(model.base + running, model.minimum, model.maximum, PY)
        if not out or out[-1][1] != value:
            out.append((day, value, model.grade_of(value)))
    return out


def _decay_steps(
    points: int, half_life: int, occurred: dt.date, first: dt.date, last: dt.date
) -> list[tuple[dt.date, int]]:
    """``(day, whole points)`` on ``first`` and on each later day up to ``last`` (inclusive) where a
    decaying record's contribution changes. The contribution only shrinks towards zero with age,
    so each next change is found by bisection with the exact formula (no logarithms that could
    disagree with it by a rounding)."""

    def at(day: dt.date) -> int:
        return decayed_points(points, (day - occurred).days, half_life)

    value = at(first)
    out = [(first, value)]
    lo_day = first
    while value != 0 and lo_day < last and at(last) != value:
        lo, hi = (lo_day - occurred).days + 1, (last - occurred).days  # the change lies in [lo, hi]
        while lo < hi:
            mid = (lo + hi) // 2
            if decayed_points(points, mid, half_life) != value:
                hi = mid
            else:
                lo = mid + 1
        lo_day = occurred + dt.timedelta(days=lo)
        value = at(lo_day)
        out.append((lo_day, value))
    return out


def explain_points(score: Score, scheme: Scheme) -> Explanation:
    """The base, one line for the records (each a row of the table below, with its points), a line
    for any cap: adding up to the score."""
    model = _model(scheme)
    records = sum(c.points for c in score.contributions)
    headline = N_(
        "{score} points, grade {grade}: every subject starts at {base} points, and each record "
        "adds or deducts its points from the day it occurred until the day it stops counting.",
        score=score.score,
        grade=score.grade,
        base=model.base,
    )
    lines = (
        Line(N_("Base points"), model.base, "start"),
        Line(N_("The counting records (one line each below)"), records),
        *adjustment_lines(score.adjustments),
    )
    section = records_section(N_("One line per counting record"), score.contributions, scheme.id)
    return graded(headline, score, lines, [section], model.grades)


class PointsKind:
    """The points model behind :class:`~socialcredit.scoring.kinds.ScoringModel`."""

    kind = "points"
    sweep: Sweep = "running"
    fields = frozenset(
        {
            "PointsModel.kind",
            "PointsModel.grades",
            "PointsModel.base",
            "PointsModel.minimum",
            "PointsModel.maximum",
        }
    )

    def score(
        self,
        subject: str,
        records: Sequence[Record],
        scheme: Scheme,
        as_of: dt.datetime,
        contacts: Sequence[int],
    ) -> Score:
        return score_points(subject, records, scheme, as_of)

    def explain(self, score: Score, scheme: Scheme) -> Explanation:
        return explain_points(score, scheme)

    def change_days(self, records: Sequence[Record], scheme: Scheme, until: dt.datetime) -> list[dt.date]:
        return [day for day, _v, _g in score_timeline("", records, scheme, until)]

    def timeline(
        self, subject: str, records: Sequence[Record], scheme: Scheme, until: dt.datetime
    ) -> list[tuple[dt.date, int, str]]:
        return score_timeline(subject, records, scheme, until)

    def items_read(self, scheme: Scheme) -> set[str]:
        return {i.code for i in scheme.items if i.points != 0}

    def feeds(self, scheme: Scheme) -> tuple[Feed, ...]:
        """One sum: the decayed points of every counting record of an item with points."""
        return (Feed(frozenset(self.items_read(scheme))),)

    def score_of(self, scheme: Scheme, sums: Sequence[Any], ops: Ops) -> Any:
        """``base`` plus the points, clamped (:func:`score_points` without its explanation)."""
        model = _model(scheme)
        return kernel.clamp(sums[0] + model.base, model.minimum, model.maximum, ops)

    def bounds(self, scheme: Scheme) -> tuple[int | None, int | None]:
        model = _model(scheme)
        return model.minimum, model.maximum


def _model(scheme: Scheme) -> PointsModel:
    model = scheme.model
    if not isinstance(model, PointsModel):
        raise ValueError(f"scheme {scheme.id} has no points model")
    return model


MODEL = PointsKind()
