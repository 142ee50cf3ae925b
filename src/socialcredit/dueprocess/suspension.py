"""Which list entries an open objection suspends.

Whether measures stay in force while an objection is open is the list's choice
(``during_objection``): the court's list keeps them (Art. 12), other lists suspend them by
default, so a person contesting a wrong record is not punished while the contest runs.

An objection suspends an entry when it was filed by the entry's subject or, for a legal
representative's entry through an organisation, by that organisation (``via``), and it names the
entry's list or one of the entry's grounds. Of several, the first filed is named. The same rule
runs for whole populations in :mod:`socialcredit.engines.suspending`, from each objection's
:func:`open_spans`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from socialcredit.dueprocess.cases import CaseEvent, Deadlines, Objection, fold_objection
from socialcredit.lists import ListEntry
from socialcredit.schemes.loader import Registry

_ANY_DEADLINES = Deadlines()
"""Whether an objection is open depends on its events only, never on its deadlines."""


def open_spans(events: Sequence[CaseEvent]) -> list[tuple[dt.datetime, dt.datetime | None]]:
    """When one objection (its events, in chain order) was open: half-open spans ``[from,
    until)``, ``until`` None while it still is. An objection seen at ``at`` knows the events with
    ``e.at <= at`` (as the service folds them), so it is open at ``at`` exactly when ``at`` lies in
    a span. Why spans: a population job asks about any day without the case files' events."""
    spans: list[tuple[dt.datetime, dt.datetime | None]] = []
    opened: dt.datetime | None = None
    for k, e in enumerate(events):
        if k + 1 < len(events) and events[k + 1].at == e.at:
            continue  # events of one instant are seen together
        is_open = fold_objection(events[: k + 1], _ANY_DEADLINES).is_open
        if is_open and opened is None:
            opened = e.at
        elif not is_open and opened is not None:
            spans.append((opened, e.at))
            opened = None
    if opened is not None:
        spans.append((opened, None))
    return spans


def suspends(o: Objection, e: ListEntry) -> bool:
    """Whether open objection ``o`` is about entry ``e`` (the list's ``during_objection`` aside)."""
    if o.subject != e.subject and o.subject != e.via:
        return False
    return o.list_id == e.qualified_id or bool(set(o.record_ids) & set(e.grounds))


def apply_suspensions(
    entries: Sequence[ListEntry], objections: Sequence[Objection], registry: Registry
) -> list[ListEntry]:
    """The entries with ``suspended_by`` set where an open objection is about the entry (see the
    module docstring) and the list suspends its measures during objections."""
    open_ = sorted((o for o in objections if o.is_open), key=_filed)
    if not open_:
        return list(entries)
    out = []
    for e in entries:
        hit = None
        if registry.list_def(e.qualified_id).during_objection == "suspend":
            hit = next((o.id for o in open_ if suspends(o, e)), None)
        out.append(dataclasses.replace(e, suspended_by=hit) if hit else e)
    return out


def _filed(o: Objection) -> tuple[int, dt.datetime, str]:
    """Filing order: the chain position of the filing event (then time and id, for objections
    built without stored events)."""
    return (o.events[0].seq if o.events else 0, o.filed_at, o.id)
