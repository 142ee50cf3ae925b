"""The records a model reads at a time: the rule every model shares, stated once.

A record counts from the day it occurred, once it has been reported, until ``counts_for_days``
after it occurred (the retention window), and while it counts it is worth its item's points decayed
by the item's half-life (:func:`~socialcredit.scoring.points.decayed_points`). The points model,
the tier model and the factor model all read records through :func:`counting`, so retention and
decay mean the same in each (docs/decisions/0009-tier-and-factor-models.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from socialcredit.ledger import Record
from socialcredit.rules import kernel
from socialcredit.rules.days import day_of
from socialcredit.schemes.model import Item, Scheme
from socialcredit.scoring.points import _decay_steps, decayed_points
from socialcredit.scoring.result import Contribution


@dataclass(frozen=True, slots=True)
class Counting:
    """A record that counts on a day, with its catalogue item and its (decayed) points then."""

    record: Record
    item: Item
    points: int
    until: dt.date

    @property
    def line(self) -> Contribution:
        r = self.record
        return Contribution(
            r.record_id, r.item, self.item.title, r.source, r.occurred_on, self.until, self.points
        )


def counting(
    records: Iterable[Record], scheme: Scheme, as_of: dt.datetime, items: set[str]
) -> list[Counting]:
    """The records of ``items`` (codes of ``scheme``'s catalogue) that count at ``as_of``."""
    on = day_of(as_of)
    out = []
    for r in records:
        if r.item not in items or r.reported_at > as_of:
            continue
        item = scheme.item_index[r.item]
        age = (on - r.occurred_on).days
        if kernel.counts(age, item.counts_for_days):
            until = r.occurred_on + dt.timedelta(days=item.counts_for_days)
            out.append(Counting(r, item, decayed_points(item.points, age, item.half_life_days), until))
    return out


def change_days(
    records: Sequence[Record],
    scheme: Scheme,
    until: dt.datetime,
    items: set[str],
    windows: Iterable[int] = (),
) -> list[dt.date]:
    """Every day up to ``until`` on which what :func:`counting` gives for ``items`` can change:
    the day a record starts counting (the later of its occurrence and its report), the day it stops,
    the days its decayed points step, and the day it leaves each rule window (``windows``, days
    after occurrence). A model whose value depends only on the counting records changes on no
    other day, so evaluating it on these days gives its whole history."""
    last = day_of(until)
    spans = sorted(set(windows))
    days: set[dt.date] = set()
    for r in records:
        if r.item not in items or r.reported_at > until:
            continue
        item = scheme.item_index[r.item]
        start = max(r.occurred_on, day_of(r.reported_at))
        end = r.occurred_on + dt.timedelta(days=item.counts_for_days)
        if start >= end or start > last:
            continue
        days.add(start)
        days.add(end)
        days.update(r.occurred_on + dt.timedelta(days=w) for w in spans)
        if item.half_life_days is not None and item.points:
            final = min(end - dt.timedelta(days=1), last)
            days.update(
                d for d, _ in _decay_steps(item.points, item.half_life_days, r.occurred_on, start, final)
            )
    return sorted(d for d in days if d <= last)
