"""Red and black lists: who is on which list, since when, until when, and why.

List entries are derived state: a pure function of the effective records, the scheme and the
time. An entry starts when its criteria are met (on the day the qualifying record was reported,
plus the notice period where the list requires notice), runs for the listing period, and ends
early on a removal record or at its planned end. Because entries are recomputed, an upheld
objection or a correction changes them at once, and no stored flag can drift from the records
that justify it.

Each list is walked by its kind of criterion, found by its ``criteria.by`` in one registry
(``criteria/dispatch.py``): records of given items (``criteria/items.py``, track by track, the
court's list with its periods by ground) or a grade of the scheme's model (``criteria/grade.py``,
over the score's history). This module dispatches, and adds what is the same for every kind: the
comparison with a revised scheme's replaced version, and the entries an organisation's listing
gives its legal representative.

An organisation's entry also lists its legal representative when the list says so
(``lists_representative``), as the court's rules do; the representative's entry names the
organisation it came through.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import replace

from socialcredit.criteria import ListCriterion, items
from socialcredit.criteria.dispatch import criterion_of
from socialcredit.dueprocess.calendar import add_working_days as add_working_days
from socialcredit.entries import ListEntry as ListEntry
from socialcredit.entries import Status as Status
from socialcredit.entries import status_at
from socialcredit.i18n import N_
from socialcredit.ledger import Record
from socialcredit.rules import kernel
from socialcredit.rules.days import day_of
from socialcredit.rules.ops import PY
from socialcredit.schemes.loader import Registry
from socialcredit.schemes.model import ListDef, Scheme
from socialcredit.schemes.segments import Segment, list_segments
from socialcredit.schemes.titles import Reason
from socialcredit.subjects import Tenure


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
    head = dict(version=scheme.version, since=scheme.effective_from, replaced=rev.replaces)
    out = []
    for e in entries:
        was = old.get(e.grounds[0])
        if was is not None and _same(was, e):
            out.append(e)
            continue
        if was is None:
            then = N_("its ground was part of another listing")
        elif was.ended_on is not None:
            then = N_("it ended on {day} ({why})", day=was.ended_on, why=was.end_reason)
        elif was.status == "expired":
            then = N_("it expired on {day}", day=was.planned_end)
        else:
            then = N_("it was to end on {day}", day=was.planned_end)
        note = N_(
            "re-evaluated under version {version} of these rules (in force from {since}), which "
            "corrects a modelling error in version {replaced}: listings that ended under it are "
            "derived again (see the scheme's revision); under version {replaced} {then}.",
            **head,
            then=then,
        )
        out.append(replace(e, revised=note))
    return out


def _walked(
    crit: ListCriterion,
    subject: str,
    segments: Sequence[Segment],
    before: tuple[Scheme, ListDef] | None,
    records: Sequence[Record],
    as_of: dt.datetime,
    holidays: frozenset[dt.date],
) -> list[ListEntry]:
    """One subject's entries on one list by records: in segments where the rules changed and
    earlier listings stay ended, else walked whole, and against the replaced version (``before``)
    where a correction re-evaluates them."""
    if len(segments) > 1:
        return _kept(subject, segments, records, as_of, holidays)
    seg = segments[0]
    assert seg.lst is not None
    found = crit.entries(subject, seg.version, seg.lst, records, as_of, holidays)
    if before is not None:
        old = crit.entries(subject, *before, records, as_of, holidays)
        return _revised(found, old, seg.version)
    return found


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
    subjects concerned"). Only lists by items change so (the loader refuses a list by grade)."""
    out: list[ListEntry] = []
    for n, seg in enumerate(segments):
        if seg.lst is None:
            continue
        found = items.segment_entries(subject, seg.version, seg.lst, records, as_of, holidays, seg)
        later = segments[n + 1] if n + 1 < len(segments) else None
        if later is not None:
            note = _stayed(seg, later)
            found = [replace(e, revised=note) for e in found]
        out.extend(found)
    return out


def _stayed(seg: Segment, later: Segment) -> str:
    """What an entry made under ``seg``'s version says of the change at ``later``."""
    rev = later.version.revision
    values = dict(version=seg.version.version, later=later.version.version, since=later.start)
    if rev is None:
        return N_(
            "made under version {version} of these rules; version {later} changed them from {since}, "
            "and listings made before then stay as that version set them: this one keeps its period "
            "and removal grounds.",
            **values,
        )
    return N_(
        "made under version {version} of these rules; version {later} changed them from {since}, "
        "and listings made before then stay as that version set them: this one keeps its period "
        "and removal grounds ({why}).",
        **values,
        why=Reason(rev.reason),  # the operator's words, in the reader's language where given
    )


def no_longer_representative(organisation: str, day: dt.date) -> str:
    """Why an organisation's entry ended for a former legal representative (every evaluator)."""
    return N_(
        "no longer the legal representative of {organisation} from {day}",
        organisation=organisation,
        day=day.isoformat(),
    )


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
        status=status_at(since, entry.planned_end, ended_on, today),
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
        crit = criterion_of(lst)
        if not crit.rates(subject, scheme):
            continue
        if not crit.by_records:
            out.extend(crit.entries(subject, scheme, lst, records, as_of, holidays))
            continue
        segments = list_segments(registry, scheme, lst.id)
        before = _replaced(registry, scheme, lst) if len(segments) == 1 else None
        out.extend(_walked(crit, subject, segments, before, records, as_of, holidays))
        if lst.lists_representative and represented:
            for org, org_records in represented.items():
                theirs = _walked(crit, org, segments, before, org_records, as_of, holidays)
                held = terms.get(org) if terms is not None else None
                for e in theirs:
                    if held is None:
                        out.append(replace(e, subject=subject, via=org))
                    else:
                        out.extend(x for term in held if (x := through(e, term, day_of(as_of))))
    out.sort(key=lambda e: (e.since, e.qualified_id))
    return out
