"""The one explanation of a score on the wire (:mod:`socialcredit.scoring.explanation`).

Why a model of its own: the API, ``socialcredit score --json`` and the portal show the same
explanation whatever the scheme's model, so a client renders a tier, a factor or a points score
(or a kind added later) with one piece of code. Texts are worded in the reader's language (the
request's ``Accept-Language``, the command line's ``--lang``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from socialcredit.i18n import translate
from socialcredit.scoring.explanation import Explanation


class LineOut(BaseModel):
    label: str
    points: float = Field(description="What the line adds to the score; the start line is where it starts")
    kind: Literal["start", "part", "adjustment"]


class SectionOut(BaseModel):
    """A table: its caption, column headings, rows of cells (as shown), numeric columns."""

    caption: str
    columns: list[str]
    rows: list[list[str]]
    numeric: list[int] = Field(description="The indexes of the columns holding numbers")
    empty: str = Field(description="What the table says when it has no row")


class ReasonLineOut(BaseModel):
    record_id: str | None
    item: str | None
    text: str
    effect: float = Field(description="Points (points and factor models) or tier steps (tier model)")


class ExplanationOut(BaseModel):
    """A score explained the same way for every model kind: the headline; the lines of its
    arithmetic (``lines``, adding up to ``score``; none for a tier model, which has no points);
    tables of the records behind them; the reason codes (at most four records or rules that
    lowered the score most); and what the next better grade or tier needs."""

    headline: str
    score: int
    grade: str
    lines: list[LineOut]
    sections: list[SectionOut]
    reasons: list[ReasonLineOut] = Field(
        description="Reason codes: the at most four records or rules that lowered the score most"
    )
    next_tier: str | None = Field(description="What the next better grade or tier needs; none at the best")

    @classmethod
    def of(cls, e: Explanation) -> ExplanationOut:
        return cls(
            headline=translate(e.headline),
            score=e.score,
            grade=e.grade,
            lines=[LineOut(label=translate(x.label), points=x.points, kind=x.kind) for x in e.lines],
            sections=[
                SectionOut(
                    caption=translate(s.caption),
                    columns=[translate(c) for c in s.columns],
                    rows=[[translate(c) for c in row] for row in s.rows],
                    numeric=list(s.numeric),
                    empty=translate(s.empty),
                )
                for s in e.sections
            ],
            reasons=[
                ReasonLineOut(record_id=r.record_id, item=r.item, text=translate(r.text), effect=r.effect)
                for r in e.reasons
            ],
            next_tier=translate(e.next_tier) if e.next_tier is not None else None,
        )
