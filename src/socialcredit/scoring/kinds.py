"""The protocol every kind of scoring model implements, and the one registry that finds them.

Why: the kind of model used to be dispatched by ``isinstance`` wherever a score was needed. A
model kind is now one core module (``scoring/points.py``, ``tier.py``, ``factor.py``) exposing a
``MODEL`` that implements :class:`ScoringModel`, registered once in :data:`KINDS`; everything that
needs a score asks :func:`model_of`. The population forms follow the same registry: the engines'
relational forms (``engines/forms.py``) and the simulator's vector forms are keyed by the same
``kind``, and ``tests/test_rules_fields.py`` checks every registered kind has each form or is
refused by name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from socialcredit.ledger import Record
from socialcredit.rules import days
from socialcredit.schemes.model import FactorModel, Scheme, TierModel
from socialcredit.scoring.result import Score


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


@dataclass(frozen=True)
class SweptKind:
    """A kind whose history is its own score on each of its change days (tier, factor): the
    protocol from its score and change-day functions, with :func:`timeline_on_change_days`."""

    kind: str
    score: ScoreFn
    change_days: DaysFn

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
