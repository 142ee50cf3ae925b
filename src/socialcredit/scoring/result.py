"""The one shape of a score, whatever the model: value, grade (or tier), explanation, reason codes.

Why one shape: decisions, lists, the subject's view, the API and the CLI read a score without
knowing which model made it, so a new model cannot be forgotten in one of them. Each model fills
the explanation its own way (points: one line per counting record adding up to the score; tiers:
the records that made the rule hold; factors: one line per factor and the records in it), and
every model gives :attr:`Score.reasons`: the few records or rules that moved the score most, in
plain words, as a credit bureau must state them for an adverse decision.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

ModelKind = Literal["points", "tier", "factor"]

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
    and charts compare; it is never shown as points."""

    scheme: str
    subject: str
    as_of: dt.datetime
    base: int
    score: int
    grade: str
    contributions: tuple[Contribution, ...]
    clamped: bool = False
    kind: ModelKind = "points"
    factors: tuple[FactorLine, ...] = ()
    reason_codes: tuple[ReasonCode, ...] | None = None

    @property
    def reasons(self) -> list[ReasonCode]:
        """The few items that moved the score most, largest effect first, in plain words."""
        if self.reason_codes is not None:
            return list(self.reason_codes[:MAX_REASONS])
        lines = sorted(self.contributions, key=lambda c: (-abs(c.points), c.occurred_on))[:MAX_REASONS]
        return [
            ReasonCode(
                c.record_id,
                c.item,
                f"{c.title} on {c.occurred_on.isoformat()} (reported by {c.source}) "
                f"{'added' if c.points > 0 else 'deducted'} {abs(c.points)} points",
                c.points,
            )
            for c in lines
        ]
