"""A list entry: one period of one subject on one list, as every evaluator derives it.

Split from :mod:`socialcredit.lists` so that the list criteria (:mod:`socialcredit.criteria`),
which make entries, and ``lists.entries_for``, which dispatches to them, import it without a
cycle; ``socialcredit.lists`` re-exports it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from socialcredit.i18n import N_

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


END_REASONS = (N_("expired"), N_("grade changed"), N_("fulfilled: {item} ({record})"))
"""The end reasons the engines write (``engines/walk.py``, ``engines/gradelists.py``), in English
in their own columns and in the golden results; marked here so that a page or a command words
them for its reader by finding them in the catalogue (``i18n.reword``, decision 0059)."""


def status_at(since: dt.date, end: dt.date | None, ended: dt.date | None, today: dt.date) -> Status:
    """An entry's status on ``today`` from its first day in force, planned end and end: one rule
    for every criterion's entries."""
    if today < since:
        return "pending"
    if ended is not None and ended <= today:
        return "removed"
    if end is not None and end <= today:
        return "expired"
    return "active"
