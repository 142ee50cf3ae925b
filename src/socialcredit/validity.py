"""Until when a subject's decisions hold: the first day their answer can change with no new input.

Why: the materialised decision state (decision 0048) fell due at every midnight in China, so the
sweep recomputed the whole population each night while questions took the cold path. A subject's
decisions are a function of its effective records (which change only when a record is reported:
the caller adds every later ``reported_at`` and case event), the schemes in force, and the day.
On the day they depend only through these, so they cannot change on any other day (decision 0083):

- a score: the days its model says it can change (:meth:`ScoringModel.change_days`: a record
  starting or stopping to count, leaving a rule window, a decayed step);
- a list entry: its notice, the listing taking effect, its planned end, its end, its removal
  deadline (``entries.status_at`` and ``ListEntry.active_on`` compare "today" with these only),
  and a legal representative's term starting or ending (``lists.through``);
- the schemes: a version taking effect (``Registry.at``).

A scheme not yet in force is answered with the day in its reason ("not yet in force on D"), so
such a state holds until the next midnight only. Every candidate day and the day after it count
(an earlier end is always safe: the state is only computed again); and no state holds past
:data:`HORIZON_DAYS`, so even a quiet subject is recomputed now and then.
``tests/test_decision_state_until.py`` compares the state with the ledger's answer on every
candidate day and between them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence

from socialcredit.entries import ListEntry
from socialcredit.ledger import Record
from socialcredit.rules.days import day_of, start_of
from socialcredit.schemes.loader import Registry
from socialcredit.scoring.dispatch import model_of
from socialcredit.subjects import Tenure

HORIZON_DAYS = 366
"""The longest a state holds: beyond it, recomputed anyway (a bound on what any rule missed)."""

_ONE = dt.timedelta(days=1)


def next_change(
    at: dt.datetime,
    *,
    kind: str,
    records: Sequence[Record],
    registry: Registry,
    entries: Iterable[ListEntry],
    terms: Mapping[str, Sequence[Tenure]],
    late: bool,
) -> dt.datetime:
    """The first moment after ``at`` at which decisions computed at ``at`` from ``records`` (the
    subject's effective records), ``entries`` (its list entries, own and through organisations),
    ``terms`` (as a legal representative) under ``registry`` (the versions in force at ``at``) can
    differ, no input being added: the start of a day in China. ``late``: some scheme was not yet
    in force at ``at`` (its reason names the day): the next midnight."""
    today = day_of(at)
    if late:
        return start_of(today + _ONE)
    last = today + dt.timedelta(days=HORIZON_DAYS)
    days: set[dt.date] = set()
    for e in entries:
        days.update(d for d in (e.noticed_on, e.since, e.planned_end, e.ended_on, e.removal_due) if d)
    for held in terms.values():
        days.update(d for t in held for d in (t.valid_from, t.valid_to) if d)
    for line in registry.timeline.values():
        days.update(start for start, _ in line if start is not None)
    days = {x for d in days for x in (d, d + _ONE)}
    until = start_of(last)
    for scheme in registry.scored():
        if scheme.model is not None and kind in scheme.model.subjects:
            days.update(model_of(scheme).change_days(records, scheme, until))
    later = [d for d in days if today < d < last]
    return start_of(min(later, default=last))
