"""Lists by grade: a grade of the scheme's own model at or below (or above) a level puts a subject
on the list (Rongcheng's honour roll and D list, the enterprise red rating).

The per-subject walk follows the score's whole history (``scoring.dispatch.timeline``): a run of
days whose grade meets the criteria is one entry, noticed on its first day, in effect after the
notice, planned to end ``period_days`` later; the grade leaving the criteria ends it ("grade
changed") unless the period ended first, and a grade that recovers during the notice never
lists. Its population forms: ``engines/gradelists.py`` and ``sim/compiled_lists.CompiledGradeList``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from socialcredit import codes
from socialcredit.entries import ListEntry, status_at
from socialcredit.ledger import Record
from socialcredit.rules import kernel
from socialcredit.rules.days import day_of
from socialcredit.rules.ops import PY
from socialcredit.schemes.listdef import GradeCriteria, ListCriteria, ListDef
from socialcredit.schemes.model import Scheme
from socialcredit.scoring import dispatch


def _grade_entries(
    subject: str, scheme: Scheme, lst: ListDef, records: Sequence[Record], as_of: dt.datetime
) -> list[ListEntry]:
    model = scheme.model
    assert model is not None
    crit = lst.criteria
    assert isinstance(crit, GradeCriteria), "a list by grade"
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
                    status_at(since, planned, ended, today),
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
            return f"list {lst.id}: grade criteria need a scoring model"
        grades = {g.grade for g in scheme.model.grades}
        for g in (crit.grade_at_most, crit.grade_at_least):
            if g is not None and g not in grades:
                return f"list {lst.id}: grade {g!r} is not a grade of this scheme"
        if scheme.enrolment is not None:
            # an opt-in score exists only for those who joined (dispatch.enrolled); a list by
            # its grade would list, and publish, people by a score they never agreed to
            return (
                f"list {lst.id}: an opt-in scheme (enrolment) cannot list by grade: its score "
                "exists only for those who joined; use measures by score threshold instead"
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
