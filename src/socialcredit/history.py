"""What ended, and what ended it: nothing in a subject's history is erased.

A correction, a withdrawal (an upheld objection writes one) or a credit restoration is a new
record that ends an earlier record's effect from the moment the system received it; it does not
rewrite the past. The effective ledger (``ledger.effective``) answers "what is in force now", so
a withdrawn record and the listing it grounded are simply absent from it. This module keeps them
for the subject's history, each labelled with what ended it and when (issue 17, point 4):

- :func:`ended_records`: every record a later record superseded, with that record;
- :func:`ended_entries`: every list entry that was in force just before such a record arrived and
  is no longer derived since, ended on the day it arrived, labelled with how and why.

Why this way: an entry's derivation is the lists' rule (``lists.entries_for``), so the state
"just before" is derived by the same rule from the records known just before, not stored twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, replace

from socialcredit.i18n import N_
from socialcredit.ledger import Record, effective
from socialcredit.lists import ListEntry, entries_for
from socialcredit.rules.days import day_of, end_of
from socialcredit.schemes.loader import Registry
from socialcredit.schemes.model import Scheme
from socialcredit.scoring import score, timeline
from socialcredit.subjects import Tenure

HOW = {"correct": N_("corrected"), "withdraw": N_("withdrawn"), "restore": N_("credit restored")}
"""How an ending record ends what it references, in words."""


@dataclass(frozen=True, slots=True)
class Ended:
    """A record no longer in force: ``by`` ended it on ``ended_on`` (the day it arrived)."""

    record: Record
    by: Record
    ended_on: dt.date

    @property
    def how(self) -> str:
        return HOW[self.by.action]

    @property
    def label(self) -> str:
        """The line a reader sees: how, when, by which record, and the reason it gave."""
        return ended_by(self.by, self.ended_on)


def ended_by(ender: Record, day: dt.date) -> str:
    """How, when and by which record a thing ended, with the reason the record gave (an ended
    record's label, an ended entry's end reason), worded late."""
    how = dict(how=HOW[ender.action], day=day.isoformat(), record=ender.record_id)
    if ender.evidence:
        return N_("{how} on {day} by record {record}: {evidence}", **how, evidence=ender.evidence)
    return N_("{how} on {day} by record {record}", **how)


def _enders(records: Sequence[Record], as_of: dt.datetime, unrestorable: Container[str]) -> list[Record]:
    """The records that end another, known by ``as_of``, in the order they arrived (a restoration
    of an unrestorable item ends nothing: ``ledger.effective``)."""
    items = {r.record_id: r.item for r in records}
    return sorted(
        (
            r
            for r in records
            if r.corrects is not None
            and r.reported_at <= as_of
            and not (r.action == "restore" and items.get(r.corrects, r.item) in unrestorable)
        ),
        key=lambda r: (r.reported_at, r.seq),
    )


def ended_records(
    records: Sequence[Record], as_of: dt.datetime, unrestorable: Container[str] = frozenset()
) -> list[Ended]:
    """Every record of ``records`` that a record known by ``as_of`` ended, with that record."""
    by_id = {r.record_id: r for r in records}
    out: dict[str, Ended] = {}
    for e in _enders(records, as_of, unrestorable):
        target = by_id.get(e.corrects or "")
        if target is not None and target.record_id not in out:
            out[target.record_id] = Ended(target, e, day_of(e.reported_at))
    return sorted(out.values(), key=lambda x: (x.ended_on, x.by.seq))


def _before(records: Sequence[Record], ender: Record) -> list[Record]:
    return [r for r in records if (r.reported_at, r.seq) < (ender.reported_at, ender.seq)]


def ended_entries(
    subject: str,
    records: Sequence[Record],
    registry: Registry,
    as_of: dt.datetime,
    current: Sequence[ListEntry],
    *,
    represented: Mapping[str, Sequence[Record]] | None = None,
    terms: Mapping[str, Sequence[Tenure]] | None = None,
    holidays: frozenset[dt.date] = frozenset(),
    unrestorable: Container[str] = frozenset(),
) -> list[ListEntry]:
    """The list entries of ``subject`` (and through the organisations it represents) that were in
    force or noticed just before a record ended their grounds, and are no longer derived at
    ``as_of``: each ended on the day that record arrived, ``status`` ``"ended"``, its
    ``end_reason`` saying how and why, ``ended_by`` naming the record. ``records`` and
    ``represented`` are every record read (corrections included), ``current`` the entries at
    ``as_of``."""
    orgs = dict(represented or {})
    enders = _enders([*records, *(r for rs in orgs.values() for r in rs)], as_of, unrestorable)

    def state(upto: Record) -> list[ListEntry]:
        """The entries as derived just before ``upto`` arrived, from what was known then."""
        at = upto.reported_at - dt.timedelta(microseconds=1)
        mine = [r for r in effective(_before(records, upto), at, (), unrestorable) if r.subject == subject]
        theirs = {
            org: [r for r in effective(_before(rs, upto), at, (), unrestorable) if r.subject == org]
            for org, rs in orgs.items()
        }
        return entries_for(subject, mine, registry, at, represented=theirs, terms=terms, holidays=holidays)

    states = [state(e) for e in enders]
    out: dict[tuple[str, str | None, dt.date], ListEntry] = {}
    for i, ender in enumerate(enders):
        after = states[i + 1] if i + 1 < len(states) else current
        still = {(e.qualified_id, e.via, e.since) for e in after}
        day = day_of(ender.reported_at)
        why = ended_by(ender, day)
        for e in states[i]:
            key = (e.qualified_id, e.via, e.since)
            if e.status not in ("active", "pending") or key in still or key in out:
                continue
            out[key] = replace(
                e,
                status="ended",
                ended_on=day,
                ended_by=ender.record_id,
                end_reason=why,
                removal_due=None,
            )
    return sorted(out.values(), key=lambda e: (e.since, e.qualified_id))


def score_history(
    subject: str,
    records: Sequence[Record],
    scheme: Scheme,
    until: dt.datetime,
    unrestorable: Container[str] = frozenset(),
) -> list[tuple[dt.date, int, str]]:
    """``(day, score, grade)`` on each day the score changes up to ``until``, in valid time: each
    day's value is the score at the end of that day from the records in force then
    (``ledger.effective`` at that moment, the kernel's rule), so a record that a restoration, a
    correction or a withdrawal ended counts from when it was reported until the day the ending
    record was, and not after. ``records`` is every record of the subject, ended ones and the
    records that ended them included (a view's records, ended records and their enders).

    Why not the timeline of the records in force now: it leaves out a restored record altogether,
    rewriting the score's past as if the record had never counted. Between two days on which a
    record was ended, the records in force only grow as new ones are reported, so the history is
    the model's own timeline (``scoring.timeline``) over each such stretch, spliced."""
    stops = sorted(
        {day_of(r.reported_at) for r in records if r.corrects is not None and r.reported_at <= until}
    )
    base = score(subject, [], scheme, until)
    out: list[tuple[dt.date, int, str]] = []
    previous = (base.score, base.grade)
    starts: list[dt.date | None] = [None, *stops]
    for k, first in enumerate(starts):
        end = until if k + 1 == len(starts) else min(until, end_of(stops[k] - dt.timedelta(days=1)))
        in_force = effective(records, end, (), unrestorable)
        points = timeline(subject, in_force, scheme, end)
        if first is not None:  # the value on the day a record was ended, then its changes after
            opening = score(subject, in_force, scheme, min(until, end_of(first)))
            points = [(first, opening.score, opening.grade), *(p for p in points if p[0] > first)]
        for day, value, grade in points:
            if (value, grade) != previous:
                out.append((day, value, grade))
                previous = (value, grade)
    return out
