"""The one shape of a score, whatever the model: value, grade (or tier), explanation, reason codes.

Why one shape: decisions, lists, the subject's view, the API and the CLI read a score without
knowing which model made it, so a new model cannot be forgotten in one of them. Each model fills
the explanation its own way (points: one line per counting record adding up to the score; tiers:
the records that made the rule hold; factors: one line per factor and the records in it), and
every model gives :attr:`Score.reasons`: the few records or rules that moved the score most, in
plain words, as a credit bureau must state them for an adverse decision.

Every explanation with points adds up: where the model's arithmetic is not a plain sum (a points
score held at its maximum or minimum, a factor score rounded and clamped), the difference is an
:class:`Adjustment` line of its own in :attr:`Score.adjustments` ("capped at the maximum of 1,000:
-30"), so ``start + lines + adjustments == score``. Suining's scores at its 1,000 maximum were
explained by lines summing to 1,030 with no line naming the cap (issue 16). Adjustments are kept
apart from the record lines so nothing that reads records (reason codes, list grounds, charts)
takes one for a record.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from socialcredit.i18n import N_, Text
from socialcredit.schemes import titles

if TYPE_CHECKING:
    from socialcredit.scoring.explanation import Explanation

ModelKind = Literal["points", "tier", "factor"]
AdjustmentKind = Literal["maximum", "minimum", "rounding"]

MAX_REASONS = 4
"""Reason codes given with a score (US adverse-action notices give the four main reasons)."""


@dataclass(frozen=True, slots=True)
class Contribution:
    """One line of an explanation: a record and what it did to the score.

    For the points model ``points`` is what the record adds to the score. For a factor model it is
    what the record adds to its factor's value (the factor's line says what that is worth); for a
    tier model it is the record's item points (decayed), shown for information."""

    record_id: str
    item: str
    title: str
    source: str
    occurred_on: dt.date
    counts_until: dt.date
    points: int


@dataclass(frozen=True, slots=True)
class FactorLine:
    """One factor of a factor model: its value, what the scheme's map makes of it, its weight and
    the points it is worth in the score."""

    factor: str
    title: str
    value: float
    mapped: float
    weight: float
    points: float
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class Adjustment:
    """A line of an explanation that is no record: what the model's bounds or rounding did to the
    sum of the other lines. ``kind`` is ``maximum`` (the sum was capped at ``bound``), ``minimum``
    (raised to ``bound``) or ``rounding`` (a factor score rounded half up to a whole number; no
    bound); ``points`` is what it adds to the score (negative: deducts), ``text`` says so in plain
    words."""

    kind: AdjustmentKind
    points: float
    bound: int | None
    text: str


def signed_points(points: float) -> str:
    """Points with their sign and thousands separators, fractions to the hundredth (a smaller
    fraction to one significant digit, so no line reads "+0.00").

    >>> signed_points(-1030), signed_points(0.4), signed_points(-0.003)
    ('-1,030', '+0.40', '-0.003')
    """
    if isinstance(points, int):
        return f"{points:+,d}"
    shown = f"{points:+,.2f}"
    return shown if shown.strip("+-0.") else f"{points:+.1g}"


def bound_adjustment(unbounded: int, value: int) -> tuple[Adjustment, ...]:
    """The line for a score the model's bounds moved from ``unbounded`` to ``value``, or none if
    they did not. ``value`` comes from :func:`socialcredit.rules.kernel.clamp` (the one clamp), so
    it differs from ``unbounded`` only when it is the bound: below the sum, the maximum; above it,
    the minimum."""
    points = value - unbounded
    if points == 0:
        return ()
    kind: AdjustmentKind = "maximum" if points < 0 else "minimum"
    words = "capped at" if points < 0 else "raised to"
    return (Adjustment(kind, points, value, f"{words} the {kind} of {value:,}: {signed_points(points)}"),)


FLOAT_NOISE = 1e-9
"""Below this the difference between a factor sum and its whole score is the floating-point
arithmetic of the sum (factor worths such as ``600 * 35 / 95`` are not exact in binary, so a sum
that is whole in decimals may miss it by a few units in the last place), not rounding: no line."""


def rounding_adjustment(unrounded: float, rounded: int) -> tuple[Adjustment, ...]:
    """The line for a sum rounded half up to a whole score, or none if it was whole already."""
    points = rounded - unrounded
    if abs(points) < FLOAT_NOISE:
        return ()
    return (Adjustment("rounding", points, None, f"rounded half up to {rounded:,}: {signed_points(points)}"),)


@dataclass(frozen=True, slots=True)
class ReasonCode:
    """One reason a score is what it is: the record (or rule) and its effect, in plain words.

    ``effect`` is in the score's unit: points for the points and factor models, tier steps for a
    tier model (``-1``: one tier below the scheme's default)."""

    record_id: str | None
    item: str | None
    text: str
    effect: float


@dataclass(frozen=True, slots=True)
class Score:
    """A score and grade under one scheme at one time, with its explanation.

    ``base`` is the score of a subject with no counting record. A tier model has no points: its
    ``score`` is the tier's level counted from the lowest tier (0), which is what grade thresholds
    and charts compare; it is never shown as points.

    ``start`` is where the explanation's point lines start: ``base`` for the points model (its
    lines are the records), the model's minimum for a factor model (its lines are the factors,
    each worth its points above the minimum), none for a tier model. ``start`` plus those lines
    plus :attr:`adjustments` is ``score``."""

    scheme: str
    subject: str
    as_of: dt.datetime
    base: int
    score: int
    grade: str
    contributions: tuple[Contribution, ...]
    kind: ModelKind = "points"
    factors: tuple[FactorLine, ...] = ()
    reason_codes: tuple[ReasonCode, ...] | None = None
    start: int | None = None
    adjustments: tuple[Adjustment, ...] = ()
    explained: Explanation | None = field(default=None, compare=False, repr=False)
    """The explanation a model worked out while scoring (a tier model: its deciding rule and the
    next tier's need); other models explain from the score afterwards (``ScoringModel.explain``)."""

    @property
    def clamped(self) -> bool:
        """Whether the model's minimum or maximum held the score (an adjustment line says which)."""
        return any(a.kind in ("maximum", "minimum") for a in self.adjustments)

    @property
    def adverse(self) -> list[ReasonCode]:
        """The reason codes of an adverse answer: the at most four records or rules that lowered
        the score most, largest first (the practice credit bureaus must follow, issue 18)."""
        if self.reason_codes is not None:
            lowering = [r for r in self.reason_codes if r.effect < 0]
        else:
            lowering = [
                ReasonCode(c.record_id, c.item, reason_text(c, self.scheme), c.points)
                for c in self.contributions
                if c.points < 0
            ]
        return sorted(lowering, key=lambda r: r.effect)[:MAX_REASONS]

    @property
    def reasons(self) -> list[ReasonCode]:
        """The few items that moved the score most, largest effect first, in plain words."""
        if self.reason_codes is not None:
            return list(self.reason_codes[:MAX_REASONS])
        lines = sorted(self.contributions, key=lambda c: (-abs(c.points), c.occurred_on))[:MAX_REASONS]
        return [ReasonCode(c.record_id, c.item, reason_text(c, self.scheme), c.points) for c in lines]


def reason_text(c: Contribution, scheme: str | None = None) -> Text:
    """A points record as a reason, in plain words (in the reader's language)."""
    what = dict(title=Title("item", c.item, c.title, scheme), day=c.occurred_on.isoformat(), source=c.source)
    if c.points > 0:
        return N_("{title} on {day} (reported by {source}) added {points} points", points=c.points, **what)
    return N_("{title} on {day} (reported by {source}) deducted {points} points", points=-c.points, **what)


class Title(Text):
    """A scheme's title of an item or factor: English as the scheme writes it, and worded in the
    reader's language from the scheme's catalogue of titles (:func:`schemes.titles.title_of`)."""

    kind: str
    key: str
    scheme: str | None

    def __new__(cls, kind: str, key: str, english: str, scheme: str | None = None) -> Title:
        self = str.__new__(cls, english)
        self.template, self.params = english, {}
        self.kind, self.key, self.scheme = kind, key, scheme
        return self

    def worded(self, locale: str) -> str:
        return titles.title_of(self.kind, self.key, str(self), self.scheme, locale)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Title, (self.kind, self.key, str(self), self.scheme))
