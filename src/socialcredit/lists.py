"""Red and black lists: who is on which list, since when, until when, and why.

List entries are derived state: a pure function of the effective records, the scheme and the
time. An entry starts when its criteria are met (on the day the qualifying record was reported,
plus the notice period where the list requires notice), runs for the listing period (extended
by further qualifying records where the list allows), and ends early on a fulfilment record or
at its planned end. Because entries are recomputed, an upheld objection or a correction changes
them at once, and no stored flag can drift from the records that justify it.

An organisation's entry also lists its legal representative when the list says so
(``lists_representative``), as the court's rules do; the representative's entry names the
organisation it came through.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from socialcredit import codes
from socialcredit.dueprocess.calendar import add_working_days
from socialcredit.ledger import Record
from socialcredit.rules import kernel
from socialcredit.rules.ops import PY
from socialcredit.schemes.loader import Registry
from socialcredit.schemes.model import GradeCriteria, ItemCriteria, ListDef, Scheme
from socialcredit.scoring import dispatch

Status = str  # "pending" (noticed, not yet in effect) | "active" | "removed" | "expired"


@dataclass(frozen=True, slots=True)
class ListEntry:
    """One period on one list."""

    scheme: str
    list_id: str
    title: str
    kind: str
    subject: str
    status: Status
    noticed_on: dt.date
    since: dt.date
    planned_end: dt.date
    ended_on: dt.date | None
    end_reason: str | None
    grounds: tuple[str, ...]
    legal_basis: str | None
    via: str | None = None
    removal_due: dt.date | None = None
    suspended_by: str | None = None  # an open objection that suspends the measures of this entry

    @property
    def qualified_id(self) -> str:
        return f"{self.scheme}/{self.list_id}"

    def active_on(self, day: dt.date) -> bool:
        end = self.ended_on or self.planned_end
        return self.since <= day < end


def _status(since: dt.date, end: dt.date, ended: dt.date | None, today: dt.date) -> Status:
    if today < since:
        return "pending"
    if ended is not None and ended <= today:
        return "removed"
    if end <= today:
        return "expired"
    return "active"


@dataclass(slots=True)
class _Open:
    """An entry being built while walking the records in reporting order."""

    noticed: dt.date
    since: dt.date
    planned_end: dt.date
    grounds: list[str]
    extensions: int = 0


def _item_entries(
    subject: str,
    scheme: Scheme,
    lst: ListDef,
    records: Sequence[Record],
    as_of: dt.datetime,
    holidays: frozenset[dt.date],
) -> list[ListEntry]:
    today = as_of.date()
    crit = lst.criteria
    assert isinstance(crit, ItemCriteria)
    known = sorted((r for r in records if r.reported_at <= as_of), key=lambda r: (r.reported_at, r.seq))
    notice_days = kernel.notice_days(lst)
    entries: list[ListEntry] = []
    current: _Open | None = None
    window: list[Record] = []

    def close(entry: _Open, ended: dt.date | None, reason: str | None) -> None:
        due = None
        if ended is not None:
            due = add_working_days(ended, lst.removal.within_working_days, holidays)
        elif entry.planned_end <= today:
            reason = "expired"
        entries.append(
            ListEntry(
                scheme.id,
                lst.id,
                lst.title,
                lst.kind,
                subject,
                _status(entry.since, entry.planned_end, ended, today),
                entry.noticed,
                entry.since,
                entry.planned_end,
                ended,
                reason,
                tuple(entry.grounds),
                lst.legal_basis,
                removal_due=due,
            )
        )

    for r in known:
        day = r.reported_at.date()
        if current is not None and current.planned_end <= day:
            close(current, None, "expired")
            current = None
        if r.item in lst.removal.on_items:
            if current is not None:
                close(current, day, f"fulfilled: {r.item} ({r.record_id})")
                current = None
            window = []
            continue
        if r.item not in crit.items:
            continue
        if current is not None:
            current.grounds.append(r.record_id)
            current.extensions += 1
            days: int = kernel.listing_days(current.extensions, lst, PY)
            current.planned_end = current.since + dt.timedelta(days=days)
            continue
        window.append(r)
        day_no = r.occurred_on.toordinal()
        window = [
            x for x in window if kernel.in_window(x.occurred_on.toordinal(), day_no, crit.window_days, PY)
        ]
        if len(window) >= crit.min_records:
            since = day + dt.timedelta(days=notice_days)
            days = kernel.listing_days(0, lst, PY)
            current = _Open(day, since, since + dt.timedelta(days=days), [x.record_id for x in window])
            window = []
    if current is not None:
        close(current, None, None)
    return entries


def _grade_entries(
    subject: str, scheme: Scheme, lst: ListDef, records: Sequence[Record], as_of: dt.datetime
) -> list[ListEntry]:
    model = scheme.model
    assert model is not None
    crit = lst.criteria
    assert isinstance(crit, GradeCriteria)
    today = as_of.date()

    low, high = kernel.grade_bounds(model.grades, crit.grade_at_most, crit.grade_at_least)

    def meets(grade: str) -> bool:
        held: bool = kernel.grade_meets(model.rank(grade), low, high, PY)
        return held

    base_grade = model.grade_of(model.base)
    timeline = [(dt.date.min, model.base, base_grade), *dispatch.timeline(subject, records, scheme, as_of)]
    entries: list[ListEntry] = []
    start: dt.date | None = None
    for i, (day, _score, grade) in enumerate(timeline):
        if meets(grade) and start is None and day != dt.date.min:
            start = day
        if start is not None and (not meets(grade) or i == len(timeline) - 1):
            ended = day if not meets(grade) else None
            notice = kernel.notice_days(lst)
            since = start + dt.timedelta(days=notice)
            planned = since + dt.timedelta(days=lst.period_days)
            if ended is not None and ended <= since:
                start = None
                continue  # the grade recovered during the notice period: never listed
            ground = f"grade {grade if ended is None else 'reached'}"
            if ended is not None and ended > planned:
                # the listing period ended first (DOMAIN: removal at the end of the period), so
                # a later change of grade does not reach back and turn an expired entry into a
                # removed one: asked on any day after its planned end, it is the same entry
                ended = None
            reason = "grade changed" if ended is not None else None
            if ended is None and planned <= today:
                reason = "expired"
            entries.append(
                ListEntry(
                    scheme.id,
                    lst.id,
                    lst.title,
                    lst.kind,
                    subject,
                    _status(since, planned, ended, today),
                    start,
                    since,
                    planned,
                    ended,
                    reason,
                    (ground,),
                    lst.legal_basis,
                )
            )
            start = None
    return entries


def _rated(subject: str, kinds: Sequence[str]) -> bool:
    """Whether a model that rates ``kinds`` rates ``subject`` (an enterprise rating: organisations
    only), so its grade lists hold only subjects it scores."""
    return len(set(kinds)) > 1 or codes.validate(subject).kind in kinds


def entries_for(
    subject: str,
    records: Sequence[Record],
    registry: Registry,
    as_of: dt.datetime,
    *,
    represented: Mapping[str, Sequence[Record]] | None = None,
    holidays: frozenset[dt.date] = frozenset(),
) -> list[ListEntry]:
    """Every entry of ``subject`` on every list, past and present, at ``as_of``.

    ``records`` are the subject's effective records; ``represented`` maps the code of each
    organisation the subject legally represents to that organisation's effective records."""
    out: list[ListEntry] = []
    for scheme, lst in registry.lists():
        if isinstance(lst.criteria, ItemCriteria):
            out.extend(_item_entries(subject, scheme, lst, records, as_of, holidays))
            if lst.lists_representative and represented:
                for org, org_records in represented.items():
                    for e in _item_entries(org, scheme, lst, org_records, as_of, holidays):
                        out.append(
                            ListEntry(
                                e.scheme,
                                e.list_id,
                                e.title,
                                e.kind,
                                subject,
                                e.status,
                                e.noticed_on,
                                e.since,
                                e.planned_end,
                                e.ended_on,
                                e.end_reason,
                                e.grounds,
                                e.legal_basis,
                                via=org,
                                removal_due=e.removal_due,
                            )
                        )
        elif scheme.model is not None and _rated(subject, scheme.model.subjects):
            out.extend(_grade_entries(subject, scheme, lst, records, as_of))
    out.sort(key=lambda e: (e.since, e.qualified_id))
    return out
