"""Lists by grade: a grade of the scheme's own model at or below (or above) a level puts a subject
on the list (Rongcheng's honour roll and D list, the enterprise red rating).

The per-subject walk follows the score's whole history (``scoring.dispatch.timeline``): a run of
days whose grade meets the criteria is one entry, noticed on its first day, in effect after the
notice, planned to end ``period_days`` later; the grade leaving the criteria ends it ("grade
changed") unless the period ended first, and a grade that recovers during the notice never
lists.

Every evaluator computes a list by grade with the formulas here, over its
:class:`~socialcredit.rules.ops.Ops` (decision 0063): :func:`qualifies` (whether a grade meets the
criteria) and :func:`run_entry` (a run of qualifying days as an entry: when it takes effect, its
planned end, whether it lists at all, and why it ends) and :func:`in_force`. The per-subject walk
below calls them with plain Python on one subject's timeline; ``engines/gradelists.py`` with Ibis
columns over every subject's runs, ``sim/compiled_lists.CompiledGradeList`` with NumPy arrays over
the population's open runs. What stays with each evaluator is how it finds the runs in a history
(a loop here, window functions in SQL, rounds of events in the simulator): a scan, not a formula.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from socialcredit import codes
from socialcredit.entries import ListEntry, status_at
from socialcredit.i18n import N_
from socialcredit.ledger import Record
from socialcredit.rules import kernel
from socialcredit.rules.days import day_of
from socialcredit.rules.ops import PY, Ops
from socialcredit.schemes.listdef import GradeCriteria, ListCriteria, ListDef
from socialcredit.schemes.model import Scheme
from socialcredit.scoring import dispatch

NEVER = 1 << 40
"""The day a run that has not ended ends, for :func:`run_entry`: later than any day evaluated
(day numbers and ordinals alike), so the formulas need no null."""


def qualifies(rank: Any, scheme: Scheme, lst: ListDef, ops: Ops) -> Any:
    """Whether a grade of rank ``rank`` (0 = best: ``kernel.grade_index``) meets ``lst``'s
    criteria: at or below ``grade_at_most`` (a black list), at or above ``grade_at_least``."""
    model = scheme.model
    crit = lst.criteria
    assert model is not None and isinstance(crit, GradeCriteria), "a list by grade of a scored scheme"
    low, high = kernel.grade_bounds(model.grades, crit.grade_at_most, crit.grade_at_least)
    return kernel.grade_meets(rank, low, high, ops)


class Run(NamedTuple):
    """A run of qualifying days as an entry (:func:`run_entry`); each a value of the evaluator's
    (a day, or a condition)."""

    since: Any
    """The day it takes effect: the notice period after the run's first day."""
    planned: Any
    """Its planned end: ``period_days`` after it takes effect."""
    listed: Any
    """It lists at all: the grade did not recover during the notice."""
    changed: Any
    """It ended on a change of grade, by its planned end ("grade changed")."""
    expired: Any
    """It ran to its planned end, by ``today`` ("expired")."""


def run_entry(start: Any, off: Any, lst: ListDef, today: Any, ops: Ops) -> Run:
    """The entry a run of qualifying days makes: ``start`` its first day, ``off`` the first day
    the grade no longer qualifies (:data:`NEVER` if it still does), ``today`` the day evaluated.

    A change of grade after the planned end does not reach back and turn an expired entry into a
    removed one (DOMAIN: removal at the end of the period); one on or before the day it took
    effect means it never listed.

    >>> from socialcredit.schemes.listdef import Notice
    >>> honour = ListDef.model_construct(notice=Notice(required=True, days=7), period_days=365)
    >>> run_entry(10, NEVER, honour, 500, PY)
    Run(since=17, planned=382, listed=True, changed=False, expired=True)
    >>> run_entry(10, 17, honour, 500, PY).listed  # the grade recovered during the notice
    False
    """
    since = start + kernel.notice_days(lst)
    planned = since + (lst.period_days or 0)  # required of a list by grade
    return Run(since, planned, off > since, off <= planned, (off > planned) & (planned <= today))


def in_force(run: Run, off: Any, day: Any) -> Any:
    """Whether the entry of ``run`` (:func:`run_entry`, ended by ``off``) is in force on ``day``."""
    return (run.since <= day) & (day < off) & (day < run.planned)


def _grade_entries(
    subject: str, scheme: Scheme, lst: ListDef, records: Sequence[Record], as_of: dt.datetime
) -> list[ListEntry]:
    model = scheme.model
    assert model is not None
    today = day_of(as_of)

    def meets(grade: str) -> bool:
        held: bool = qualifies(model.rank(grade), scheme, lst, PY)
        return held

    base_grade = model.grade_of(model.base)
    timeline = [(dt.date.min, model.base, base_grade), *dispatch.timeline(subject, records, scheme, as_of)]
    entries: list[ListEntry] = []
    start: dt.date | None = None
    for i, (day, _score, grade) in enumerate(timeline):
        if meets(grade) and start is None and day != dt.date.min:
            start = day
        if start is not None and (not meets(grade) or i == len(timeline) - 1):
            off = day.toordinal() if not meets(grade) else NEVER
            run = run_entry(start.toordinal(), off, lst, today.toordinal(), PY)
            if not run.listed:
                start = None
                continue  # the grade recovered during the notice period: never listed
            since, planned = dt.date.fromordinal(run.since), dt.date.fromordinal(run.planned)
            ended = day if run.changed else None
            reason = "grade changed" if run.changed else "expired" if run.expired else None
            entries.append(
                ListEntry(
                    scheme.id,
                    lst.id,
                    lst.title,
                    lst.kind,
                    subject,
                    status_at(since, planned, ended, today),
                    start,
                    since,
                    planned,
                    ended,
                    reason,
                    (f"grade {grade if off == NEVER else 'reached'}",),
                    lst.legal_basis,
                )
            )
            start = None
    return entries


@dataclass(frozen=True)
class ByGrade:
    """The criterion by grade (:class:`~socialcredit.criteria.ListCriterion`)."""

    by: str = "grade"
    criteria: type[ListCriteria] = GradeCriteria
    by_records: bool = False

    def check(self, scheme: Scheme, lst: ListDef) -> str | None:
        crit = lst.criteria
        assert isinstance(crit, GradeCriteria), "a list by grade"
        if scheme.model is None:
            return N_("list {list}: grade criteria need a scoring model", list=lst.id)
        grades = {g.grade for g in scheme.model.grades}
        for g in (crit.grade_at_most, crit.grade_at_least):
            if g is not None and g not in grades:
                return N_("list {list}: grade {grade!r} is not a grade of this scheme", list=lst.id, grade=g)
        if scheme.enrolment is not None:
            # an opt-in score exists only for those who joined (dispatch.enrolled); a list by
            # its grade would list, and publish, people by a score they never agreed to
            return N_(
                "list {list}: an opt-in scheme (enrolment) cannot list by grade: its score "
                "exists only for those who joined; use measures by score threshold instead",
                list=lst.id,
            )
        return None

    def rates(self, subject: str, scheme: Scheme) -> bool:
        """Only subjects its model scores (an enterprise rating: organisations only)."""
        kinds = scheme.model.subjects if scheme.model is not None else []
        return scheme.model is not None and (len(set(kinds)) > 1 or codes.validate(subject).kind in kinds)

    def entries(
        self,
        subject: str,
        scheme: Scheme,
        lst: ListDef,
        records: Sequence[Record],
        as_of: dt.datetime,
        holidays: frozenset[dt.date],
    ) -> list[ListEntry]:
        return _grade_entries(subject, scheme, lst, records, as_of)


CRITERION = ByGrade()
