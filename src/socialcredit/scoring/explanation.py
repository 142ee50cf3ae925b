"""The one explanation of a score, whatever its model: plain data that every adapter renders alike.

Why: the portal and the command line used to branch on the model's kind (points, factor, else
tier), so Honest Shanghai's tiers were explained with the points template ("starts at 1 points",
a score of 0) and a new kind needed display code in three places (issue 18). Now each kind's core
module turns its :class:`~socialcredit.scoring.result.Score` into an :class:`Explanation`
(``ScoringModel.explain``), and the API, the command line and the portal each have one generic
renderer of it (docs/decisions/0037-one-explanation-model.md):

- ``headline``: one sentence saying what the score is and how it was reached;
- ``lines``: the arithmetic, ``start`` first, each line's points adding up to the score (the
  points model: the base, the records, any cap; a factor model: the minimum, one line per factor,
  the rounding); none for a model without points (tiers);
- ``sections``: tables of the records behind the lines (one per factor; the tier's deciding
  rule's records apart from the others the rules read), each with a caption, columns and rows;
- ``reasons``: the reason codes, the at most four records or rules that lowered the score most;
- ``next_tier``: what the next better tier or grade needs, where the model can say.

Texts are :class:`~socialcredit.i18n.Text` (worded in the reader's language by the adapter) or
plain values (numbers, dates, codes); an item's or factor's title is a :class:`Title`, worded as
the scheme's Chinese catalogue has it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from socialcredit.i18n import N_
from socialcredit.schemes.model import Grade
from socialcredit.scoring.result import Adjustment, Contribution, ReasonCode, Score, Title

LineKind = Literal["start", "part", "adjustment"]


@dataclass(frozen=True, slots=True)
class Line:
    """One line of the arithmetic: what it adds to the score (``start``: where the sum starts)."""

    label: str
    points: float
    kind: LineKind = "part"


@dataclass(frozen=True, slots=True)
class Section:
    """A table of the explanation: its caption, column headings and rows of cells (text or
    plain values, shown as given); ``numeric`` are the columns holding numbers."""

    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[int, ...] = ()
    empty: str = ""
    """What the table says when it has no row."""


@dataclass(frozen=True, slots=True)
class Explanation:
    """A score explained (see the module's docstring): ``start`` plus the other ``lines`` is
    ``score``, where there are lines."""

    headline: str
    score: int
    grade: str
    lines: tuple[Line, ...]
    sections: tuple[Section, ...]
    reasons: tuple[ReasonCode, ...]
    next_tier: str | None = None

    @property
    def total(self) -> float:
        """What the lines add up to (the score, for a model with lines)."""
        return sum(x.points for x in self.lines)


RECORD_COLUMNS = (
    N_("Item"),
    N_("Source"),
    N_("Occurred"),
    N_("Counts until"),
    N_("Points"),
    N_("Record"),
)
NO_RECORD = N_("No record counts here now.")


def record_rows(lines: Sequence[Contribution], scheme: str) -> tuple[tuple[str, ...], ...]:
    """One row per record: its item's title, source, dates, points and id."""
    return tuple(
        (
            Title("item", c.item, c.title, scheme),
            c.source,
            c.occurred_on.isoformat(),
            c.counts_until.isoformat(),
            f"{c.points:+d}",
            c.record_id,
        )
        for c in lines
    )


def records_section(caption: str, lines: Sequence[Contribution], scheme: str) -> Section:
    """A table of records with the standard columns (points in the fifth)."""
    return Section(caption, RECORD_COLUMNS, record_rows(lines, scheme), numeric=(4,), empty=NO_RECORD)


def adjustment_lines(adjustments: Sequence[Adjustment]) -> tuple[Line, ...]:
    """A clamp or a rounding as a line of the arithmetic (no record: a line of its own)."""
    out = []
    for a in adjustments:
        if a.kind == "rounding":
            label = N_("rounded half up to a whole score")
        elif a.kind == "maximum":
            label = N_("capped at the maximum of {bound}", bound=format(a.bound, ","))
        else:
            label = N_("raised to the minimum of {bound}", bound=format(a.bound, ","))
        out.append(Line(label, a.points, "adjustment"))
    return tuple(out)


def next_grade(grades: Sequence[Grade], score: float) -> str | None:
    """What the next better grade needs (a threshold model's grades, highest first), or None at
    the best grade."""
    better = [g for g in grades if g.min_score > score]
    if not better:
        return None
    g = better[-1]
    return N_(
        "Grade {grade} needs a score of at least {needed}: {more} more.",
        grade=g.grade,
        needed=format(g.min_score, "g"),
        more=format(g.min_score - score, "g"),
    )


def graded(
    headline: str, score: Score, lines: Sequence[Line], sections: Sequence[Section], grades: Sequence[Grade]
) -> Explanation:
    """The explanation of a model graded by thresholds (points, factors): its reason codes are the
    score's adverse ones, its next step the next better grade's threshold."""
    return Explanation(
        headline,
        score.score,
        score.grade,
        tuple(lines),
        tuple(sections),
        tuple(score.adverse),
        next_grade(grades, score.score),
    )
