"""The points model: base points plus each counting record's points, clamped and graded.

This is how the Rongcheng and Suining pilots were reported to work. A record counts from the
day it occurred (once it has been reported) until ``counts_for_days`` later; the explanation
lists every contributing record with its points and the day it stops counting, so a subject
can check each line against the record it names.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from socialcredit.ledger import Record
from socialcredit.schemes.model import Scheme


@dataclass(frozen=True, slots=True)
class Contribution:
    """One line of an explanation: a record and what it did to the score."""

    record_id: str
    item: str
    title: str
    source: str
    occurred_on: dt.date
    counts_until: dt.date
    points: int


@dataclass(frozen=True, slots=True)
class Score:
    """A score and grade under one scheme at one time, with its explanation."""

    scheme: str
    subject: str
    as_of: dt.datetime
    base: int
    score: int
    grade: str
    contributions: tuple[Contribution, ...]
    clamped: bool = False

    @property
    def reasons(self) -> list[Contribution]:
        """The contributions that moved the score most, largest effect first."""
        return sorted(self.contributions, key=lambda c: (-abs(c.points), c.occurred_on))[:4]


def _counting(records: Iterable[Record], scheme: Scheme, on: dt.date) -> list[Contribution]:
    out = []
    for r in records:
        item = scheme.item(r.item)
        if item is None or item.points == 0:
            continue
        until = r.occurred_on + dt.timedelta(days=item.counts_for_days)
        if r.occurred_on <= on < until:
            out.append(
                Contribution(r.record_id, r.item, item.title, r.source, r.occurred_on, until, item.points)
            )
    return out


def score_points(subject: str, records: Sequence[Record], scheme: Scheme, as_of: dt.datetime) -> Score:
    """Score ``subject`` from its effective records (see :func:`ledger.effective`) at ``as_of``.

    >>> from socialcredit.schemes.loader import shipped_scheme
    >>> s = score_points("11010519491231002X", [], shipped_scheme("rongcheng"),
    ...                  dt.datetime(2025, 1, 1))
    >>> (s.score, s.grade)
    (1000, 'A')
    """
    model = scheme.model
    if model is None:
        raise ValueError(f"scheme {scheme.id} has no scoring model")
    lines = _counting((r for r in records if r.reported_at <= as_of), scheme, as_of.date())
    raw = model.base + sum(c.points for c in lines)
    value = raw
    if model.minimum is not None:
        value = max(value, model.minimum)
    if model.maximum is not None:
        value = min(value, model.maximum)
    return Score(
        scheme.id,
        subject,
        as_of,
        model.base,
        value,
        model.grade_of(value),
        tuple(lines),
        clamped=value != raw,
    )


def score_timeline(
    subject: str, records: Sequence[Record], scheme: Scheme, until: dt.datetime
) -> list[tuple[dt.date, int, str]]:
    """``(date, score, grade)`` on each day the score changes, up to ``until``: the value at
    the end of that day, exactly as :func:`score_points` would give it then.

    A record counts from the later of the day it occurred and the day it was reported, until
    ``counts_for_days`` after it occurred; one sweep over those start and end days gives the
    whole history (used for grade-based lists and score charts)."""
    model = scheme.model
    if model is None:
        raise ValueError(f"scheme {scheme.id} has no scoring model")
    deltas: dict[dt.date, int] = {}
    last = until.date()
    for r in records:
        item = scheme.item(r.item)
        if item is None or item.points == 0 or r.reported_at > until:
            continue
        start = max(r.occurred_on, r.reported_at.date())
        end = r.occurred_on + dt.timedelta(days=item.counts_for_days)
        if start >= end or start > last:
            continue
        deltas[start] = deltas.get(start, 0) + item.points
        if end <= last:
            deltas[end] = deltas.get(end, 0) - item.points
    out: list[tuple[dt.date, int, str]] = []
    running = 0
    for day in sorted(deltas):
        running += deltas[day]
        value = model.base + running
        if model.minimum is not None:
            value = max(value, model.minimum)
        if model.maximum is not None:
            value = min(value, model.maximum)
        if not out or out[-1][1] != value:
            out.append((day, value, model.grade_of(value)))
    return out
