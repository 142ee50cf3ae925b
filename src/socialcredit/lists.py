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
from socialcredit.subjects import Tenure


def _replaced(registry: Registry, scheme: Scheme, lst: ListDef) -> tuple[Scheme, ListDef] | None:
    """The version of ``lst`` that ``scheme``'s revision replaced, where it is kept."""
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
        before = _replaced(registry, scheme, lst) if crit.by_records else None
        found = crit.entries(subject, scheme, lst, records, as_of, holidays)
        if before is not None:
            found = _revised(found, crit.entries(subject, *before, records, as_of, holidays), scheme)
        out.extend(found)
        if crit.by_records and lst.lists_representative and represented:
            for org, org_records in represented.items():
                theirs = crit.entries(org, scheme, lst, org_records, as_of, holidays)
                if before is not None:
                    old = crit.entries(org, *before, org_records, as_of, holidays)
                    theirs = _revised(theirs, old, scheme)
                held = terms.get(org) if terms is not None else None
                for e in theirs:
                    if held is None:
                        out.append(replace(e, subject=subject, via=org))
                    else:
                        out.extend(x for term in held if (x := through(e, term, day_of(as_of))))
    out.sort(key=lambda e: (e.since, e.qualified_id))
    return out
