"""The protocol every kind of scoring model implements, and the one registry that finds them.

Why: the kind of model used to be dispatched by ``isinstance`` wherever a score was needed. A
model kind is now one core module (``scoring/points.py``, ``tier.py``, ``factor.py``) exposing a
``MODEL`` that implements :class:`ScoringModel`, registered once in :data:`KINDS`; everything that
needs a score asks :func:`model_of`.

The population forms are the model's too, and one for every evaluator: a model's state over a
population is a few running sums per subject (its :class:`Feed` s: the points; a tier
condition's count or points within its window; a factor's points), and its score is a function
of those sums written with the kernel over any evaluator's operations (:meth:`ScoringModel.score_of`,
``rules.ops.Ops``). The relational engines aggregate the feeds with a group-by, the simulator keeps
them as running sums; neither holds any code of a kind, so a new kind is written once, here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from socialcredit.ledger import Record
from socialcredit.rules import days
from socialcredit.rules.ops import Ops
from socialcredit.schemes.model import FactorModel, Scheme, TierModel
from socialcredit.scoring.explanation import Explanation
from socialcredit.scoring.result import Score


@dataclass(frozen=True)
class Feed:
    """One running sum of a model's state per subject: over the counting records of ``items``
    (retention and decay as :mod:`~socialcredit.scoring.records` has them), their number
    (``counts``) or the sum of their decayed points, a record leaving it ``within`` days after it
    occurred (None: when it stops counting)."""

    items: frozenset[str]
    counts: bool = False
    within: int | None = None


Sweep = Literal["running", "evaluated"]
"""How a model's history is swept (its :meth:`ScoringModel.timeline`): ``running``, a running
sum of each record's change of contribution (every day one changes, from the first: the points
model's sweep); ``evaluated``, the score evaluated on each change day, kept from the first day it
differs from the score with no records (:func:`timeline_on_change_days`). Lists by grade on the
engines follow the same sweep (``engines/gradelists.py``)."""


class ScoringModel(Protocol):
    """One kind of scoring model, as the per-subject evaluator runs it."""

    @property
    def kind(self) -> str:
        """The ``kind`` a scheme file names (``points``, ``tier``, ``factor``)."""
        ...

    def score(
        self,
        subject: str,
        records: Sequence[Record],
        scheme: Scheme,
        as_of: dt.datetime,
        contacts: Sequence[int],
    ) -> Score:
        """The score, grade and explanation from the subject's effective records at ``as_of``."""
        ...

    def explain(self, score: Score, scheme: Scheme) -> Explanation:
        """The score explained in the one shape every adapter renders without knowing the kind
        (:mod:`socialcredit.scoring.explanation`)."""
        ...

    def change_days(self, records: Sequence[Record], scheme: Scheme, until: dt.datetime) -> list[dt.date]:
        """Every day up to ``until`` on which the score can change (the only days a history needs)."""
        ...

    def timeline(
        self, subject: str, records: Sequence[Record], scheme: Scheme, until: dt.datetime
    ) -> list[tuple[dt.date, int, str]]:
        """``(date, score, grade)`` on each day the score changes, as :meth:`score` gives it then."""
        ...

    def items_read(self, scheme: Scheme) -> set[str]:
        """The catalogue items whose records can move the score."""
        ...

    @property
    def fields(self) -> frozenset[str]:
        """The scheme fields of this kind's model (``Model.field``, as ``rules.fields.scheme_fields``
        names them) that its score reads: every evaluator declares them read
        (``rules.fields.SCORING``), since every evaluator runs this module's forms."""
        ...

    @property
    def sweep(self) -> Sweep:
        """How :meth:`timeline` sweeps a history (:data:`Sweep`)."""
        ...

    def feeds(self, scheme: Scheme) -> tuple[Feed, ...]:
        """The running sums a population evaluator keeps per subject, in the order
        :meth:`score_of` reads them."""
        ...

    def score_of(self, scheme: Scheme, sums: Sequence[Any], ops: Ops) -> Any:
        """The score from each :meth:`feeds` sum (columns of any evaluator: Ibis, NumPy, plain
        numbers), with the kernel's formulas on ``ops``: the population form of :meth:`score`."""
        ...

    def bounds(self, scheme: Scheme) -> tuple[int | None, int | None]:
        """The least and greatest score (None: unbounded), for a score blended from outside the
        model (the simulator's relationships setting)."""
        ...


def timeline_on_change_days(
    model: ScoringModel, subject: str, records: Sequence[Record], scheme: Scheme, until: dt.datetime
) -> list[tuple[dt.date, int, str]]:
    """A history evaluated with the model's own :meth:`~ScoringModel.score` on each of its change
    days, so the history cannot disagree with the score (a model without a faster sweep)."""
    assert scheme.model is not None
    out: list[tuple[dt.date, int, str]] = []
    previous = scheme.model.base
    for day in model.change_days(records, scheme, until):
        at = min(until, days.end_of(day))
        s = model.score(subject, [r for r in records if r.reported_at <= at], scheme, at, ())
        if s.score != (out[-1][1] if out else previous):
            out.append((day, s.score, s.grade))
    return out


ScoreFn = Callable[[str, Sequence[Record], Scheme, dt.datetime, Sequence[int]], Score]
DaysFn = Callable[[Sequence[Record], Scheme, dt.datetime], list[dt.date]]
FeedsFn = Callable[[Scheme], tuple[Feed, ...]]
ScoreOfFn = Callable[[Scheme, Sequence[Any], Ops], Any]
BoundsFn = Callable[[Scheme], tuple[int | None, int | None]]
ExplainFn = Callable[[Score, Scheme], Explanation]


@dataclass(frozen=True)
class SweptKind:
    """A kind whose history is its own score on each of its change days (tier, factor): the
    protocol from its score and change-day functions, with :func:`timeline_on_change_days`."""

    kind: str
    score: ScoreFn
    change_days: DaysFn
    feeds: FeedsFn
    score_of: ScoreOfFn
    bounds: BoundsFn
    explain: ExplainFn
    fields: frozenset[str]
    sweep: Sweep = "evaluated"

    def timeline(
        self, subject: str, records: Sequence[Record], scheme: Scheme, until: dt.datetime
    ) -> list[tuple[dt.date, int, str]]:
        return timeline_on_change_days(self, subject, records, scheme, until)

    def items_read(self, scheme: Scheme) -> set[str]:
        """The items some rule or counting factor of the model reads."""
        model = scheme.model
        assert isinstance(model, TierModel | FactorModel), f"{scheme.id} has a {self.kind} kind's model"
        return model.items_read(scheme)


def registry(*models: ScoringModel) -> Mapping[str, ScoringModel]:
    """The kinds by name; a kind registered twice is a programming error."""
    out: dict[str, ScoringModel] = {}
    for m in models:
        if m.kind in out:
            raise ValueError(f"scoring model kind {m.kind!r} registered twice")
        out[m.kind] = m
    return out
