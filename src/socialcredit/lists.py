"""Red and black lists: who is on which list, since when, until when, and why.

List entries are derived state: a pure function of the effective records, the scheme and the
time. An entry starts when its criteria are met (on the day the qualifying record was reported,
plus the notice period where the list requires notice), runs for the listing period, and ends
early on a removal record or at its planned end. Because entries are recomputed, an upheld
objection or a correction changes them at once, and no stored flag can drift from the records
that justify it.

A list by items is walked track by track (``ListDef.tracks``): a list written with ``periods``
(the court's list) has one per period, each with its own grounds, period, extension and removal
items, so that ground (1) runs until an Art. 10 removal ground while grounds (2) to (6) run two
calendar years from the listing decision, extended once by the court's decision and ended early
only by its decision (SPC Art. 2 and 10); a list with ``period_days`` has one track, whose period
runs in days from the listing taking effect, extended by each further ground where the list says
so. Days are days in China (``rules.days``): a record's reporting day, "today", and the working
days of a removal deadline, which runs from the removal ground's own date (or the period's last
day), not from when its record arrived.

An organisation's entry also lists its legal representative when the list says so
(``lists_representative``), as the court's rules do; the representative's entry names the
organisation it came through.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from socialcredit import codes
from socialcredit.dueprocess.calendar import add_working_days
from socialcredit.ledger import Record
from socialcredit.rules import kernel
from socialcredit.rules.days import day_of
from socialcredit.rules.ops import PY
from socialcredit.schemes.loader import Registry
from socialcredit.schemes.model import GradeCriteria, ItemCriteria, ListDef, Scheme, Track
from socialcredit.schemes.segments import Segment, list_segments
from socialcredit.scoring import dispatch
from socialcredit.subjects import Tenure

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
    planned_end: dt.date | None
    """The first day it is no longer in force unless removed first; None: no fixed period (the
    court's list, ground (1): until a removal ground of Art. 10)."""
    ended_on: dt.date | None
    end_reason: str | None
    grounds: tuple[str, ...]
    legal_basis: str | None
    via: str | None = None
    removal_due: dt.date | None = None
    """The day by which an ended entry must be off the list: ``within_working_days`` working days
    after its removal ground's own date (the removal record's ``occurred_on``), or after the
    last day of its period; it was removed late where ``ended_on``, the day the removal was
    reported, is after it."""
    suspended_by: str | None = None  # an open objection that suspends the measures of this entry
    ended_by: str | None = None
    """The record that removed it (its id), if one did."""
    extended_by: str | None = None
    """The decision record that extended its period (``Period.extension``), if one did."""
    revised: str | None = None
    """Where a revised scheme's correction changed this entry, what it was under the version
    replaced and why it changed (``Scheme.revision``), in words for the subject."""

    @property
    def qualified_id(self) -> str:
        return f"{self.scheme}/{self.list_id}"

    @property
    def until(self) -> dt.date | None:
        """The first day it is not in force: the day it ended, else its planned end (None: none
        fixed)."""
        return self.ended_on or self.planned_end

    @property
    def days_late(self) -> int:
        """Days the removal was reported after its deadline (0 if in time or not removed)."""
        if self.ended_on is None or self.removal_due is None or self.ended_by is None:
            return 0
        return max(0, (self.ended_on - self.removal_due).days)

    def active_on(self, day: dt.date) -> bool:
        end = self.until
        return self.since <= day and (end is None or day < end)


def _status(since: dt.date, end: dt.date | None, ended: dt.date | None, today: dt.date) -> Status:
    if today < since:
        return "pending"
    if ended is not None and ended <= today:
        return "removed"
    if end is not None and end <= today:
        return "expired"
    return "active"


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


def _item_entries(
    subject: str,
    scheme: Scheme,
    lst: ListDef,
    records: Sequence[Record],
    as_of: dt.datetime,
    holidays: frozenset[dt.date],
    segment: Segment | None = None,
) -> list[ListEntry]:
    known = sorted((r for r in records if r.reported_at <= as_of), key=lambda r: (r.reported_at, r.seq))
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
    return [
        r for r in known if (segment.opens if r.item in grounds else segment.reads)(day_of(r.reported_at))
    ]


def _kept(
    subject: str,
    segments: Sequence[Segment],
    records: Sequence[Record],
    as_of: dt.datetime,
    holidays: frozenset[dt.date],
) -> list[ListEntry]:
    """The entries of a list walked in segments (a ``stay-ended`` revision, decision 0051): each
    segment's by its own version's rules; an entry made before the rules changed says so, with the
    revision's reason, for the subject (issue 16: "the choice is recorded and shown to the
    subjects concerned")."""
    out: list[ListEntry] = []
    for n, seg in enumerate(segments):
        if seg.lst is None:
            continue
        found = _item_entries(subject, seg.version, seg.lst, records, as_of, holidays, seg)
        later = segments[n + 1] if n + 1 < len(segments) else None
        if later is not None:
            note = _stayed(seg, later)
            found = [replace(e, revised=note) for e in found]
        out.extend(found)
    return out


def _stayed(seg: Segment, later: Segment) -> str:
    """What an entry made under ``seg``'s version says of the change at ``later``."""
    rev = later.version.revision
    why = f" ({rev.reason})" if rev is not None else ""
    return (
        f"made under version {seg.version.version} of these rules; version {later.version.version} "
        f"changed them from {later.start}, and listings made before then stay as that version set "
        f"them: this one keeps its period and removal grounds{why}."
    )


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
    assert isinstance(crit, ItemCriteria)
    removal, extending, grounds = set(track.removal.on_items), set(track.extension_items), set(track.grounds)
    notice_days = kernel.notice_days(lst)
    entries: list[ListEntry] = []
    current: _Open | None = None
    window: list[Record] = []
    one = dt.timedelta(days=1)

    def close(entry: _Open, by: Record | None) -> None:
        due = ended = reason = None
        if by is not None:  # removed: due from the removal ground's own date
            ended = day_of(by.reported_at)
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
                _status(entry.since, entry.planned_end, ended, today),
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
        day = day_of(r.reported_at)
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


def _grade_entries(
    subject: str, scheme: Scheme, lst: ListDef, records: Sequence[Record], as_of: dt.datetime
) -> list[ListEntry]:
    model = scheme.model
    assert model is not None
    crit = lst.criteria
    assert isinstance(crit, GradeCriteria)
    today = day_of(as_of)

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
            planned = since + dt.timedelta(days=lst.period_days or 0)  # required of a list by grade
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


def _replaced(registry: Registry, scheme: Scheme, lst: ListDef) -> tuple[Scheme, ListDef] | None:
    """The version of ``lst`` that ``scheme``'s correction replaced, where it is kept (a
    ``stay-ended`` revision replaces nothing back in time: ``schemes.segments``)."""
    rev = scheme.revision
    if rev is None or rev.earlier_listings != "re-evaluated":
        return None
    previous = registry.previous.get(scheme.id)
    old = previous.list_def(lst.id) if previous is not None else None
    return (previous, old) if previous is not None and old is not None else None


def _same(a: ListEntry, b: ListEntry) -> bool:
    """Whether two entries came to the same for their subject: the same status, since and end,
    and, while they have not ended, the same planned end (a removed entry's planned end is moot)."""
    return (a.status, a.since, a.ended_on) == (b.status, b.since, b.ended_on) and (
        a.ended_on is not None or a.planned_end == b.planned_end
    )


def _revised(entries: list[ListEntry], before: list[ListEntry], scheme: Scheme) -> list[ListEntry]:
    """``entries`` with a note on each that the revision of ``scheme`` changed, saying what it was
    under the replaced version (``before``: the same records walked by it) and why it changed
    (decision 0028: a correction is re-evaluated, and the subjects concerned are told). An entry
    is matched with the one the same record opened before; one whose record opened none then (it
    was a further ground of another listing) says so."""
    rev = scheme.revision
    assert rev is not None
    old = {e.grounds[0]: e for e in before}
    head = (
        f"re-evaluated under version {scheme.version} of these rules (in force from "
        f"{scheme.effective_from}), which corrects a modelling error in version {rev.replaces}: "
        "listings that ended under it are derived again (see the scheme's revision)"
    )
    out = []
    for e in entries:
        was = old.get(e.grounds[0])
        if was is not None and _same(was, e):
            out.append(e)
            continue
        if was is None:
            then = "its ground was part of another listing"
        elif was.ended_on is not None:
            then = f"it ended on {was.ended_on} ({was.end_reason})"
        elif was.status == "expired":
            then = f"it expired on {was.planned_end}"
        else:
            then = f"it was to end on {was.planned_end}"
        out.append(replace(e, revised=f"{head}; under version {rev.replaces} {then}."))
    return out


def _walked(
    subject: str,
    segments: Sequence[Segment],
    before: tuple[Scheme, ListDef] | None,
    records: Sequence[Record],
    as_of: dt.datetime,
    holidays: frozenset[dt.date],
) -> list[ListEntry]:
    """One subject's entries on one item list: in segments where the rules changed and earlier
    listings stay ended, else walked whole, and against the replaced version (``before``) where
    a correction re-evaluates them."""
    if len(segments) > 1:
        return _kept(subject, segments, records, as_of, holidays)
    seg = segments[0]
    assert seg.lst is not None
    found = _item_entries(subject, seg.version, seg.lst, records, as_of, holidays)
    if before is not None:
        old = _item_entries(subject, *before, records, as_of, holidays)
        return _revised(found, old, seg.version)
    return found


def _rated(subject: str, kinds: Sequence[str]) -> bool:
    """Whether a model that rates ``kinds`` rates ``subject`` (an enterprise rating: organisations
    only), so its grade lists hold only subjects it scores."""
    return len(set(kinds)) > 1 or codes.validate(subject).kind in kinds


def no_longer_representative(organisation: str, day: dt.date) -> str:
    """Why an organisation's entry ended for a former legal representative (every evaluator)."""
    return f"no longer the legal representative of {organisation} from {day.isoformat()}"


def through(entry: ListEntry, term: Tenure, today: dt.date) -> ListEntry | None:
    """An organisation's ``entry`` as it falls on its representative for one ``term``: only the
    days both share. It begins when the term does if that is later, and ends when the term ends
    if that is sooner, labelled so; ``None`` if they share no day. (Supreme People's Court
    provisions, Art. 2: the list names the organisation's legal representative; a person is that
    only while in office.)"""
    until = entry.until or dt.date.max
    if not kernel.term_overlaps(entry.since, until, term.valid_from, term.valid_to, today, PY):
        return None
    since = kernel.term_since(entry.since, term.valid_from, PY)
    ended_on, reason, ended_by, due = entry.ended_on, entry.end_reason, entry.ended_by, entry.removal_due
    if kernel.term_cuts(until, term.valid_to, PY):
        assert term.valid_to is not None
        ended_on, ended_by, due = term.valid_to, None, None
        reason = no_longer_representative(term.organisation, term.valid_to)
    return replace(
        entry,
        subject=term.person,
        via=term.organisation,
        since=since,
        noticed_on=since if since != entry.since else entry.noticed_on,
        status=_status(since, entry.planned_end, ended_on, today),
        ended_on=ended_on,
        end_reason=reason,
        ended_by=ended_by,
        removal_due=due,
    )


def entries_for(
    subject: str,
    records: Sequence[Record],
    registry: Registry,
    as_of: dt.datetime,
    *,
    represented: Mapping[str, Sequence[Record]] | None = None,
    terms: Mapping[str, Sequence[Tenure]] | None = None,
    holidays: frozenset[dt.date] = frozenset(),
) -> list[ListEntry]:
    """Every entry of ``subject`` on every list, past and present, at ``as_of``.

    ``records`` are the subject's effective records; ``represented`` maps the code of each
    organisation the subject legally represents, or did, to that organisation's effective
    records, and ``terms`` each such organisation to the subject's terms as its representative
    (an organisation absent from ``terms``: represented on every day). An organisation's entry
    reaches the subject only for the days of a term (:func:`through`)."""
    out: list[ListEntry] = []
    for scheme, lst in registry.lists():
        if isinstance(lst.criteria, ItemCriteria):
            segments = list_segments(registry, scheme, lst.id)
            before = _replaced(registry, scheme, lst) if len(segments) == 1 else None
            out.extend(_walked(subject, segments, before, records, as_of, holidays))
            if lst.lists_representative and represented:
                for org, org_records in represented.items():
                    theirs = _walked(org, segments, before, org_records, as_of, holidays)
                    held = terms.get(org) if terms is not None else None
                    for e in theirs:
                        if held is None:
                            out.append(replace(e, subject=subject, via=org))
                        else:
                            out.extend(x for term in held if (x := through(e, term, day_of(as_of))))
        elif scheme.model is not None and _rated(subject, scheme.model.subjects):
            out.extend(_grade_entries(subject, scheme, lst, records, as_of))
    out.sort(key=lambda e: (e.since, e.qualified_id))
    return out
