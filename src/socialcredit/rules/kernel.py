"""Every formula of a scheme's rules, written once over an evaluator's :class:`~.ops.Ops`.

Each function is the single definition of one rule; the per-subject walk calls it with
:data:`~socialcredit.rules.ops.PY` on one record or subject, the simulator with NumPy arrays over
a population, the engines with Ibis columns. Where a rule is quoted from the published rules or
the scheme's documentation, the docstring says so. Days are whole days: an ``age`` is the whole
days from a record's occurrence to the day evaluated (a ``datetime.timedelta``'s ``days``, a
difference of day ordinals, a date difference in SQL).

>>> from socialcredit.rules.ops import PY
>>> decayed(-50, 365, 365, PY), decayed(-50, 365, None, PY), clamp(1030, 0, 1000, PY)
(-25, -50, 1000)
>>> counts(0, 365), counts(365, 365)
(True, False)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from socialcredit.rules.ops import Ops

if TYPE_CHECKING:
    from socialcredit.schemes.model import (
        Condition,
        Factor,
        FactorModel,
        Grade,
        ListDef,
        TierModel,
        TierRule,
        Track,
    )

# ----------------------------------------------------------------------------- days

DAY_SECONDS = 86_400


class Zone(NamedTuple):
    """A time zone as the kernel reads it: its standard offset from UTC in seconds, and the spans
    (``from``, ``until``: seconds since 1970-01-01T00:00 UTC, ``until`` excluded) in which another
    offset held, such as summer time. :func:`socialcredit.rules.days.china` derives China
    Standard Time's from the tz database."""

    standard: int
    shifts: tuple[tuple[int, int, int], ...] = ()


def _div(x: Any, by: int, ops: Ops) -> Any:
    """``floor(x / by)`` as a whole number, for whole ``x`` and a positive whole ``by``. Through a
    double, which every evaluator divides alike: both are exact below 2**53, and a quotient's
    rounding error (at most 2**-52 of it) is far smaller than its distance ``1/by`` from the next
    whole number for the day and second counts here, so the floor is exact."""
    return ops.floor(ops.to_float(x) / ops.const(float(by)))


def local_day(seconds: Any, zone: Zone, ops: Ops) -> Any:
    """The day (whole days since 1970-01-01) that the moment ``seconds`` after 1970-01-01T00:00
    UTC falls on in ``zone``: the day boundary is the zone's midnight, not UTC's. Every day the
    rules count (a record's reporting day, the day evaluated, a deadline's first day) is a day in
    China Standard Time (``Asia/Shanghai``: UTC+8, with summer time 1986-1991), because the rules
    are China's and its agencies date their records so."""
    offset = ops.cases([((seconds >= a) & (seconds < b), off) for a, b, off in zone.shifts], zone.standard)
    return _div(seconds + offset, DAY_SECONDS, ops)


def _mod(x: Any, by: int, ops: Ops) -> Any:
    """``x`` modulo ``by`` (from 0 to ``by - 1``), by :func:`_div`."""
    return x - _div(x, by, ops) * by


_MARCH_0 = 305
"""Days from day 0 of the proleptic ordinals (``date.toordinal``: 0001-01-01 is 1) back to
0000-03-01, where the calendar arithmetic below counts from."""


def years_after(day: Any, years: Any, ops: Ops, origin: int = 0) -> Any:
    """The day ``years`` calendar years after ``day``: the same month and day, or 28 February
    where ``day`` is 29 February and the year reached is not a leap year (the Civil Code of the
    PRC, Art. 202: a period in years ends on the corresponding day of its last year, or, where
    there is none, on the last day of that month). Days are whole numbers counted so that
    ``day + origin`` is a proleptic ordinal (``origin`` 0 for ordinals, 719163 for days since
    1970-01-01).

    Arithmetic on a calendar whose years begin on 1 March (H. Hinnant's ``days_from_civil``),
    where 29 February is the last day of a year: a day is its 400-year era, its year in the era
    and its day in the year; the same day of the year ``years`` later is the answer, except 29
    February, which becomes the day before where that year is 365 days long.

    >>> from socialcredit.rules.ops import PY
    >>> import datetime as dt
    >>> [dt.date.fromordinal(years_after(dt.date(2024, 2, 29).toordinal(), n, PY)) for n in (1, 4)]
    [datetime.date(2025, 2, 28), datetime.date(2028, 2, 29)]
    """
    z = day + (origin + _MARCH_0)
    era = _div(z, 146_097, ops)
    doe = z - era * 146_097
    yoe = _div(doe - _div(doe, 1460, ops) + _div(doe, 36_524, ops) - _div(doe, 146_096, ops), 365, ops)
    doy = doe - (yoe * 365 + _div(yoe, 4, ops) - _div(yoe, 100, ops))
    year = era * 400 + yoe + years  # a year from 1 March; its February is in the next civil year
    feb = year + 1
    leap = (_mod(feb, 4, ops) == 0) & ((_mod(feb, 100, ops) != 0) | (_mod(feb, 400, ops) == 0))
    doy = ops.where(doy == 365, ops.where(leap, 365, 364), doy)  # 29 February
    era2 = _div(year, 400, ops)
    yoe2 = year - era2 * 400
    return era2 * 146_097 + yoe2 * 365 + _div(yoe2, 4, ops) - _div(yoe2, 100, ops) + doy - (origin + _MARCH_0)


def period_end(day: Any, years: Any, ops: Ops, origin: int = 0) -> Any:
    """The first day after a period of ``years`` calendar years that runs from ``day``: the day
    after its last day, :func:`years_after` (the Civil Code of the PRC, Art. 201: the day a period
    starts from is not counted, so it runs to the end of the corresponding day). A listing of 2
    years decided on 1 March 2024 is in force through 1 March 2026 and off from 2 March; one
    decided on 29 February 2024 through 28 February 2026, off from 1 March. Days as in
    :func:`years_after`."""
    return years_after(day, years, ops, origin) + 1


def months_after(day: Any, months: Any, ops: Ops, origin: int = 0) -> Any:
    """The day ``months`` calendar months after ``day``: the same day of the month, or the last
    day of the month reached where it has no such day (the Civil Code of the PRC, Art. 202, as
    :func:`years_after`, which it equals at ``12 * years``). Days as in :func:`years_after`.

    >>> from socialcredit.rules.ops import PY
    >>> import datetime as dt
    >>> [dt.date.fromordinal(months_after(dt.date(2027, 11, 30).toordinal(), n, PY)) for n in (3, 12)]
    [datetime.date(2028, 2, 29), datetime.date(2028, 11, 30)]
    """
    z = day + (origin + _MARCH_0)
    era = _div(z, 146_097, ops)
    doe = z - era * 146_097
    yoe = _div(doe - _div(doe, 1460, ops) + _div(doe, 36_524, ops) - _div(doe, 146_096, ops), 365, ops)
    doy = doe - (yoe * 365 + _div(yoe, 4, ops) - _div(yoe, 100, ops))
    mp = _div(5 * doy + 2, 153, ops)  # the month from March (0) to February (11)
    dom = doy - _div(153 * mp + 2, 5, ops)  # the day of the month from 0
    month = (era * 400 + yoe) * 12 + mp + months
    year = _div(month, 12, ops)
    mp2 = month - year * 12
    feb = year + 1  # the civil year of that year's February
    leap = (_mod(feb, 4, ops) == 0) & ((_mod(feb, 100, ops) != 0) | (_mod(feb, 400, ops) == 0))
    first = _div(153 * mp2 + 2, 5, ops)
    length = ops.where(mp2 == 11, ops.where(leap, 29, 28), _div(153 * (mp2 + 1) + 2, 5, ops) - first)
    dom = ops.where(dom >= length, length - 1, dom)
    era2 = _div(year, 400, ops)
    yoe2 = year - era2 * 400
    doe2 = yoe2 * 365 + _div(yoe2, 4, ops) - _div(yoe2, 100, ops) + first + dom
    return era2 * 146_097 + doe2 - (origin + _MARCH_0)


def publication_over(day: Any, months: Any, ops: Ops, origin: int = 0) -> Any:
    """The first day after a minimum publication period of ``months`` calendar months from
    ``day`` (the day of the penalty), from which credit restoration may be applied for: the day
    after its last day, as :func:`period_end` (the Civil Code of the PRC, Art. 201 and 202); the
    day itself for none (a minor penalty, "not published or at most 3 months"). The national
    credit restoration measures (DOMAIN.md): publication of a general penalty lasts "3 months to
    1 year", of a serious one "1 to 3 years"; "after the minimum period the subject may apply".
    A serious penalty of 1 January 2028 is published through 1 January 2029; its subject may
    apply from 2 January 2029 (365 days would have been 31 December 2028)."""
    return ops.where(months > 0, months_after(day, months, ops, origin) + 1, day)


# ----------------------------------------------------------------------------- records


def counts(age: Any, counts_for_days: Any) -> Any:
    """Retention: a record counts from the day it occurred until ``counts_for_days`` after it
    (``0 <= age < counts_for_days``; the scheme's ``Item.counts_for_days``)."""
    return (age >= 0) & (age < counts_for_days)


def decayed(points: Any, age: Any, half_life: Any, ops: Ops) -> Any:
    """Time decay (``Item.half_life_days``, docs/decisions/0008-time-decay.md): while it counts, a
    record contributes ``floor(points * 0.5 ** (age / half_life) + 0.5)`` whole points; without a
    half-life, its points. Rounding each record (half up) keeps every explanation line whole and
    the sum exact in any order, so every engine adds up to the same score."""
    return ops.if_null(
        half_life,
        points,
        lambda h: ops.floor(ops.to_float(points) * ops.half_pow(ops.to_float(age) / h) + 0.5),
    )


# ----------------------------------------------------------------------------- scores and grades


def clamp(x: Any, minimum: int | None, maximum: int | None, ops: Ops) -> Any:
    """A score held within the model's ``minimum`` and ``maximum`` (either may be absent): the
    minimum first, then the maximum."""
    if minimum is not None:
        x = ops.where(x < minimum, minimum, x)
    if maximum is not None:
        x = ops.where(x > maximum, maximum, x)
    return x


def grade_index(score: Any, grades: Sequence[Grade], ops: Ops) -> Any:
    """The position (0 = best) of the first grade whose ``min_score`` the score reaches; the
    last grade catches the rest. Grades are listed best first with falling thresholds."""
    return ops.cases(
        [(score >= g.min_score, i) for i, g in enumerate(grades[:-1])],
        len(grades) - 1,
    )


def grade_of(score: Any, grades: Sequence[Grade], ops: Ops) -> Any:
    """The name of :func:`grade_index`'s grade."""
    return ops.cases([(score >= g.min_score, g.grade) for g in grades[:-1]], grades[-1].grade)


def grade_meets(rank: Any, at_most: int | None, at_least: int | None, ops: Ops) -> Any:
    """Whether a grade of rank ``rank`` (0 = best) qualifies for a list by grade: at most
    ``at_most`` (that grade or worse, a black list) and at least ``at_least`` (that grade or
    better, a red list), given as ranks."""
    conds = []
    if at_most is not None:
        conds.append(rank >= at_most)
    if at_least is not None:
        conds.append(rank <= at_least)
    return ops.all(conds)


def grade_bounds(
    grades: Sequence[Grade], at_most: str | None, at_least: str | None
) -> tuple[int | None, int | None]:
    """A list's ``grade_at_most`` and ``grade_at_least`` as ranks for :func:`grade_meets`."""
    rank = {g.grade: i for i, g in enumerate(grades)}
    return (
        rank[at_most] if at_most is not None else None,
        rank[at_least] if at_least is not None else None,
    )


# ----------------------------------------------------------------------------- lists


def notice_days(lst: ListDef) -> int:
    """Days from the notice to the listing taking effect: the list's notice period when notice is
    required, none otherwise (the court's list: a served decision takes effect at once)."""
    return lst.notice.days if lst.notice.required else 0


def listing_days(extensions: Any, lst: ListDef | Track, ops: Ops) -> Any:
    """How long an entry runs from taking effect: ``period_days``, plus ``extension_days`` for
    each of its ``extensions`` further grounds, at most ``max_period_days`` once extended (a list
    written with one period in days; the court's list was so until version 2: 730 days, +365 per
    further ground, 1825 at most)."""
    period = lst.period_days
    assert period is not None, "a period in days (a list with periods: planned_end)"
    if not lst.extension_days:
        return period
    extended = period + extensions * lst.extension_days
    if lst.max_period_days is not None:
        extended = ops.where(extended > lst.max_period_days, lst.max_period_days, extended)
    return ops.where(extensions > 0, extended, period)


def planned_end(
    track: Track, since: Any, occurred: Any, further: Any, extended_years: Any, ops: Ops, origin: int = 0
) -> Any:
    """The first day an entry of ``track`` is no longer in force, unless a removal ends it first:

    - a period in calendar years (``Period.years``) runs from the day the opening record
      occurred (``occurred``: the listing decision's date), extended by ``extended_years`` (0, or
      what the one extension record applied states): :func:`period_end` (the court's list, SPC
      Art. 2: grounds (2) to (6), 2 years from the decision, extended once by 1 to 3 years);
    - a period in days runs from ``since``, the entry taking effect, by :func:`listing_days` with
      ``further`` grounds added since it opened.

    Days as in :func:`years_after` (``since`` too). Not for a track with no fixed period
    (``Track.indefinite``), which never ends but by removal: the caller knows that of the
    scheme, not of a value."""
    if track.years is not None:
        return period_end(occurred, extended_years + track.years, ops, origin)
    return since + listing_days(further, track, ops)


def in_window(earlier: Any, later: Any, window_days: int | None, ops: Ops) -> Any:
    """Whether records that occurred on days ``earlier`` and ``later`` fall within one window of
    ``window_days`` (a list's ``criteria.window_days``): at most that many days apart. Days are
    whole-day numbers (ordinals, or ages from a common day); without a window, always."""
    return ops.all([(later - earlier) <= window_days] if window_days is not None else [])


# --------------------------------------------------------- representatives' terms

# An organisation's entry on a list that names its legal representative (Supreme People's Court
# provisions, Art. 2) falls on a person only for the days of their term (``subjects.Tenure``):
# ``[since, until)`` is the entry's span, ``[valid_from, valid_to)`` the term's, a null bound
# open; ``until`` is never null here (the caller passes its "forever" for an entry with no end).


def term_overlaps(since: Any, until: Any, valid_from: Any, valid_to: Any, today: Any, ops: Ops) -> Any:
    """Whether a term shares a day with an entry, and has begun by ``today`` (a term that begins
    later is no part of an answer for today, not even a pending one)."""
    starts = ops.if_null(valid_from, True, lambda v: (v < until) & (v <= today))
    ends = ops.if_null(valid_to, True, lambda v: since < v)
    return ops.all([starts, ends])


def term_since(since: Any, valid_from: Any, ops: Ops) -> Any:
    """The first day an entry falls on the representative: the entry's or the term's, the later."""
    return ops.if_null(valid_from, since, lambda v: ops.where(v > since, v, since))


def term_cuts(until: Any, valid_to: Any, ops: Ops) -> Any:
    """Whether the term ends before the entry does, so the entry ends for the representative on
    ``valid_to``, labelled as such."""
    return ops.if_null(valid_to, False, lambda v: v < until)


# ----------------------------------------------------------------------------- tier rules


def within(cond: Condition, age: Any, ops: Ops) -> Any:
    """Whether a record of ``age`` is recent enough for a tier condition (``within_days``)."""
    return ops.all([age < cond.within_days] if cond.within_days is not None else [])


def condition_holds(cond: Condition, count: Any, total: Any, ops: Ops) -> Any:
    """Whether a tier condition holds for the ``count`` and summed (decayed) points ``total`` of
    the records it selects: every bound it gives must hold."""
    conds = []
    if cond.at_least is not None:
        conds.append(count >= cond.at_least)
    if cond.at_most is not None:
        conds.append(count <= cond.at_most)
    if cond.points_at_least is not None:
        conds.append(total >= cond.points_at_least)
    if cond.points_at_most is not None:
        conds.append(total <= cond.points_at_most)
    return ops.all(conds)


def rule_holds(rule: TierRule, held: Sequence[Any], ops: Ops) -> Any:
    """Whether a tier rule holds from whether each of its conditions holds (``held``: ``all_of``
    then ``any_of``, in the order written): every ``all_of`` and, if it has any, one ``any_of``."""
    n_all = len(rule.all_of)
    conds = list(held[:n_all])
    if rule.any_of:
        conds.append(ops.any(held[n_all:]))
    return ops.all(conds)


def tier_level(model: TierModel, rules_held: Sequence[Any], ops: Ops) -> Any:
    """The level (0 = the lowest tier) the first rule that holds gives, in the written order;
    the default tier's level when none holds."""
    return ops.cases(
        [(h, model.level(r.tier)) for r, h in zip(model.rules, rules_held, strict=True)],
        model.base,
    )


# ----------------------------------------------------------------------------- factors


def mapped(value: Any, factor: Factor, ops: Ops) -> Any:
    """The factor's piecewise-linear map at ``value``: the end's value beyond either end, else
    the first segment holding the value, ``ya + (yb - ya) * (value - a) / (b - a)``. Constants are
    exact doubles computed once, so every evaluator performs the same IEEE operations."""
    c = ops.const
    (x0, y0), (xn, yn) = factor.map[0], factor.map[-1]
    branches: list[tuple[Any, Any]] = [(value <= c(x0), c(y0)), (value >= c(xn), c(yn))]
    for (a, ya), (b, yb) in zip(factor.map, factor.map[1:], strict=False):
        step = c(ya) + c(yb - ya) * (value - c(a)) / c(b - a)
        branches.append(((c(a) <= value) & (value <= c(b)), step))
    return ops.cases(branches, c(yn))


def factor_points(model: FactorModel, factor: Factor, mapped_value: Any, ops: Ops) -> Any:
    """What a factor is worth in the score: ``(maximum - minimum) * weight * mapped / total
    weight`` (unrounded), 0 for a factor that does not count."""
    if not factor.counts:
        return ops.const(0.0)
    worth = ops.const((model.maximum - model.minimum) * factor.weight) * mapped_value
    return worth / ops.const(model.total_weight)


def factor_sum(model: FactorModel, mapped_values: Mapping[str, Any], ops: Ops) -> Any:
    """``minimum`` plus the counting factors' worth in the order written, unrounded: what the
    factor lines of an explanation add up to before :func:`factor_score` rounds and clamps it.
    ``mapped_values`` holds each counting factor's mapped value by id."""
    worth: Any = None
    for f in model.factors:
        if f.counts:
            p = factor_points(model, f, mapped_values[f.id], ops)
            worth = p if worth is None else worth + p
    return ops.const(model.minimum) + worth


def round_half_up(x: Any, ops: Ops) -> Any:
    """``x`` to a whole number, halves up (``floor(x + 0.5)``), as the factor model rounds."""
    return ops.floor(x + ops.const(0.5))


def factor_score(model: FactorModel, mapped_values: Mapping[str, Any], ops: Ops) -> Any:
    """The factor model's score: :func:`factor_sum` rounded half up, clamped."""
    return clamp(round_half_up(factor_sum(model, mapped_values, ops), ops), model.minimum, model.maximum, ops)
