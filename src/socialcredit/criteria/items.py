"""Lists by items: records of given items put a subject on the list (the court's list of
dishonest judgment debtors, the enterprise list of serious violators).

The per-subject walk, track by track (``ListDef.tracks``): a list written with ``periods`` (the
court's list) has one track per period, each with its own grounds, period, extension and removal
items, so that ground (1) runs until an Art. 10 removal ground while grounds (2) to (6) run two
calendar years from the listing decision, extended once by the court's decision and ended early
only by its decision (SPC Art. 2 and 10); a list with ``period_days`` has one track, whose period
runs in days from the listing taking effect, extended by each further ground where the list says
so. Days are days in China (``rules.days``): a record's reporting day, "today", and the working
days of a removal deadline, which runs from the removal ground's own date (or the period's last
day), not from when its record arrived. A correction is walked where the report it corrects was
(``Record.walked_at``): a corrected listing decision is the same listing, not a new one. Its
population forms: ``engines/walk.py`` (through ``engines/listing.py``) and
``sim/compiled_lists.CompiledItemList``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from socialcredit.dueprocess.calendar import add_working_days
from socialcredit.entries import ListEntry, status_at
from socialcredit.ledger import Record
from socialcredit.rules import kernel
from socialcredit.rules.days import day_of
from socialcredit.rules.ops import PY
from socialcredit.schemes.listdef import ItemCriteria, ListCriteria, ListDef, Track
from socialcredit.schemes.model import Scheme

if TYPE_CHECKING:  # segments read the loader, which reads the criteria
    from socialcredit.schemes.segments import Segment


@dataclass(slots=True)
class _Open:
    """An entry being built while walking the records in reporting order."""

    noticed: dt.date
    since: dt.date
    occurred: dt.date
    planned_end: dt.date | None
    grounds: list[str]
    extensions: int = 0
    extended_by: str | None = None


def _ordinal(day: int) -> dt.date:
    return dt.date.fromordinal(day)


def _planned(track: Track, since: dt.date, occurred: dt.date, further: int, years: int) -> dt.date | None:
    """The kernel's planned end for an entry of ``track`` (None: no fixed period)."""
    if track.indefinite:
        return None
    day: int = kernel.planned_end(track, since.toordinal(), occurred.toordinal(), further, years, PY)
    return _ordinal(day)


def _stated_years(r: Record, track: Track) -> int | None:
    """The years an extension decision record states (checked at ingest), None if it does not."""
    ext = track.extension
    if ext is None:
        return None
    value = r.details.get(ext.years_field)
    return value if type(value) is int and ext.min_years <= value <= ext.max_years else None


def _track_entries(
    subject: str,
    scheme: Scheme,
    lst: ListDef,
    track: Track,
    known: Sequence[Record],
    today: dt.date,
    holidays: frozenset[dt.date],
) -> list[ListEntry]:
    """The entries of one track (``ListDef.tracks``) from the subject's records in walk order."""
    crit = lst.criteria
    assert isinstance(crit, ItemCriteria), "a list by items"
    removal, extending, grounds = set(track.removal.on_items), set(track.extension_items), set(track.grounds)
    notice_days = kernel.notice_days(lst)
    entries: list[ListEntry] = []
    current: _Open | None = None
    window: list[Record] = []
    one = dt.timedelta(days=1)

    def close(entry: _Open, by: Record | None) -> None:
        due = ended = reason = None
        if by is not None:  # removed: due from the removal ground's own date
            ended = day_of(by.walked_at)
            reason = f"fulfilled: {by.item} ({by.record_id})"
            due = add_working_days(by.occurred_on, track.removal.within_working_days, holidays)
        elif entry.planned_end is not None and entry.planned_end <= today:  # due from its last day
            reason = "expired"
            due = add_working_days(entry.planned_end - one, track.removal.within_working_days, holidays)
        entries.append(
            ListEntry(
                scheme.id,
                lst.id,
                lst.title,
                lst.kind,
                subject,
                status_at(entry.since, entry.planned_end, ended, today),
                entry.noticed,
                entry.since,
                entry.planned_end,
                ended,
                reason,
                tuple(entry.grounds),
                lst.legal_basis,
                removal_due=due,
                ended_by=by.record_id if by is not None else None,
                extended_by=entry.extended_by,
            )
        )

    for r in known:
        if r.item not in grounds and r.item not in removal and r.item not in extending:
            continue
        day = day_of(r.walked_at)
        if current is not None and current.planned_end is not None and current.planned_end <= day:
            close(current, None)
            current = None
        if r.item in removal:
            if current is not None:
                close(current, r)
                current = None
            window = []
            continue
        if r.item in extending:
            years = _stated_years(r, track)
            if current is not None and current.extended_by is None and years is not None:
                # once, by the years the decision states, from the listing decision's date
                current.extended_by = r.record_id
                current.planned_end = _planned(track, current.since, current.occurred, 0, years)
            continue
        if current is not None:
            current.grounds.append(r.record_id)
            current.extensions += 1
            if track.extension_days:  # a period in days extended by each further ground
                current.planned_end = _planned(track, current.since, current.occurred, current.extensions, 0)
            continue
        window.append(r)
        day_no = r.occurred_on.toordinal()
        window = [
            x for x in window if kernel.in_window(x.occurred_on.toordinal(), day_no, crit.window_days, PY)
        ]
        if len(window) >= crit.min_records:
            since = day + dt.timedelta(days=notice_days)
            planned = _planned(track, since, r.occurred_on, 0, 0)
            current = _Open(day, since, r.occurred_on, planned, [x.record_id for x in window])
            window = []
    if current is not None:
        close(current, None)
    return entries


@dataclass(frozen=True)
class ByItems:
    """The criterion by items (:class:`~socialcredit.criteria.ListCriterion`)."""

    by: str = "items"
    criteria: type[ListCriteria] = ItemCriteria
    by_records: bool = True

    def check(self, scheme: Scheme, lst: ListDef) -> str | None:
        return None  # its items are checked against the catalogue with every list's (loader)

    def rates(self, subject: str, scheme: Scheme) -> bool:
        return True  # anyone a record of its items is about

    def entries(
        self,
        subject: str,
        scheme: Scheme,
        lst: ListDef,
        records: Sequence[Record],
        as_of: dt.datetime,
        holidays: frozenset[dt.date],
    ) -> list[ListEntry]:
        return segment_entries(subject, scheme, lst, records, as_of, holidays)


def segment_entries(
    subject: str,
    scheme: Scheme,
    lst: ListDef,
    records: Sequence[Record],
    as_of: dt.datetime,
    holidays: frozenset[dt.date],
    segment: Segment | None = None,
) -> list[ListEntry]:
    """``subject``'s entries on ``lst``: every track walked over the records known at ``as_of``,
    or only what one segment of a list whose rules changed reads (``schemes.segments``, a
    ``stay-ended`` revision, decision 0051)."""
    known = sorted((r for r in records if r.reported_at <= as_of), key=lambda r: (r.walked_at, r.seq))
    out: list[ListEntry] = []
    for track in lst.tracks:
        walked = known if segment is None else _in_segment(known, track, segment)
        out.extend(_track_entries(subject, scheme, lst, track, walked, day_of(as_of), holidays))
    return out


def _in_segment(known: Sequence[Record], track: Track, segment: Segment) -> list[Record]:
    """The records one segment's walk reads (``schemes.segments``): its grounds reported on its
    days, and the removal records and extension decisions reported from its start on (an item
    that is both a removal and a ground is a removal, as the walk reads it)."""
    acting = {*track.removal.on_items, *track.extension_items}
    grounds = set(track.grounds) - acting
    return [r for r in known if (segment.opens if r.item in grounds else segment.reads)(day_of(r.walked_at))]


CRITERION = ByItems()
