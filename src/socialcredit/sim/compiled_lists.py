"""List membership and measure triggers compiled to arrays, for whole populations at once.

Why: :mod:`socialcredit.lists` derives a subject's entries by walking its records; a population
run (the simulator) needs the same rules for a million subjects a month. Each class here is built
from the same :class:`~socialcredit.schemes.model.ListDef` or
:class:`~socialcredit.schemes.model.Measure` the live code reads and keeps, per subject, exactly
the state the live walk keeps (the open entry, the qualifying records not yet used), advanced by
the same events in the same order. ``tests/test_sim_parity.py`` checks the state month by month
against :func:`socialcredit.lists.entries_for` and :func:`socialcredit.decisions.decide` on
simulated records turned into real ledger records.

Scope, stated rather than hidden:

- An item list's criteria with ``min_records > 1`` *and* a ``window_days`` keep, per subject, the
  days of the last ``min_records - 1`` qualifying records since the window last started over
  (``ItemListState.recent``). That is the whole window, not an approximation, because records here
  occur on the day they are reported: days only grow along the walk, so the walk drops the oldest
  first, and a record opens an entry exactly when the ``min_records - 1``-th before it is within
  ``window_days`` of it.
- The removal deadline (``within_working_days``) and suspension by an open objection are not
  state here: an entry ends on the day of the fulfilment record, as in ``lists.py``, and the
  caller applies suspensions (the simulator files objections against records, which suspend no
  shipped list: the court's list stays, Art. 12, and a grade list's grounds are a grade).
- Events must be given in the order the live walk sees them: by subject, then reporting day, then
  ledger sequence. Records here are reported on the day they occur.

Days are proleptic ordinals (:meth:`datetime.date.toordinal`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from socialcredit.rules import kernel
from socialcredit.schemes.model import GradeCriteria, ItemCriteria, ListDef, Measure, Scheme
from socialcredit.sim.ops import NP
from socialcredit.sim.scorers import Scorer

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

__all__ = ["CompiledGradeList", "CompiledItemList", "CompiledMeasure", "GradeListState", "ItemListState"]

NO_VALUE = np.iinfo(np.int64).min


def _rounds(agent: IntArray, day: IntArray) -> tuple[IntArray, IntArray]:
    """A stable order by (agent, day) and each event's rank within its agent: events of rank r
    touch distinct agents, so one vectorised pass per rank applies them in order."""
    order = np.lexsort((day, agent))  # stable: equal (agent, day) keep their given (ledger) order
    a = agent[order]
    if len(a) == 0:
        return order, np.zeros(0, dtype=np.int64)
    first = np.r_[True, a[1:] != a[:-1]]
    starts = np.flatnonzero(first)
    group = np.cumsum(first) - 1
    rank = np.arange(len(a)) - starts[group]
    return order, rank.astype(np.int64)


@dataclass
class ItemListState:
    """Per subject: the open entry (if any) and the qualifying records not yet used."""

    current: BoolArray
    since: IntArray
    end: IntArray
    pending: IntArray
    wrong: BoolArray
    """The open entry was started by a record flagged wrong (for the simulator's counts)."""
    recent: IntArray
    """For a list with a window: the days of the last qualifying records, oldest first, one
    column per record before the one that would open an entry (``min_records - 1``); only the last
    ``pending`` of them are in the window."""
    extensions: IntArray
    """How many further grounds extended the open entry."""
    opened: int = 0
    extended: int = 0
    removed: int = 0
    expired: int = 0

    @classmethod
    def empty(cls, n: int, depth: int = 0) -> ItemListState:
        """No entries for ``n`` subjects; ``depth`` is the list's ``CompiledItemList.depth``."""
        return cls(
            np.zeros(n, dtype=np.bool_),
            np.zeros(n, dtype=np.int64),
            np.zeros(n, dtype=np.int64),
            np.zeros(n, dtype=np.int64),
            np.zeros(n, dtype=np.bool_),
            np.zeros((n, depth), dtype=np.int64),
            np.zeros(n, dtype=np.int64),
        )


@dataclass(frozen=True)
class CompiledItemList:
    """An item-based list (e.g. the court's list): grounds open or extend an entry, fulfilment
    items end it, the period ends it otherwise (``lists._item_entries``)."""

    qualified_id: str
    grounds: BoolArray
    """Over the caller's item universe: which items are grounds."""
    removal: BoolArray
    notice_days: int
    period_days: int
    extension_days: int
    max_period_days: int | None
    min_records: int
    window_days: int | None
    lists_representative: bool
    kind: str
    definition: ListDef
    """The list as the scheme writes it: its period, extension and cap are the kernel's
    (:func:`~socialcredit.rules.kernel.listing_days`)."""
    suspends: bool = False
    """Whether an open objection to one of an entry's grounds suspends its measures
    (``during_objection: suspend``); the simulator uses it, membership does not."""

    @classmethod
    def of(cls, scheme: Scheme, lst: ListDef, items: Sequence[str]) -> CompiledItemList:
        crit = lst.criteria
        if not isinstance(crit, ItemCriteria):
            raise ValueError(f"{scheme.id}/{lst.id} is a grade list")
        codes = list(items)
        return cls(
            qualified_id=f"{scheme.id}/{lst.id}",
            grounds=np.array([c in crit.items for c in codes], dtype=np.bool_),
            removal=np.array([c in lst.removal.on_items for c in codes], dtype=np.bool_),
            notice_days=kernel.notice_days(lst),
            period_days=lst.period_days,
            extension_days=lst.extension_days,
            max_period_days=lst.max_period_days,
            min_records=crit.min_records,
            window_days=crit.window_days,
            lists_representative=lst.lists_representative,
            kind=lst.kind,
            definition=lst,
            suspends=lst.during_objection == "suspend",
        )

    @property
    def depth(self) -> int:
        """How many earlier qualifying days a subject's state keeps (``ItemListState.recent``)."""
        return self.min_records - 1 if self.window_days else 0

    def step(
        self, state: ItemListState, agent: IntArray, day: IntArray, item: IntArray, wrong: BoolArray
    ) -> None:
        """Apply records (subject index, reporting day, item index, flagged wrong), given in ledger
        order; only grounds and fulfilment items matter."""
        keep = self.grounds[item] | self.removal[item]
        agent, day, item, wrong = agent[keep], day[keep], item[keep], wrong[keep]
        order, rank = _rounds(agent, day)
        agent, day, item, wrong = agent[order], day[order], item[order], wrong[order]
        for r in range(int(rank.max()) + 1 if len(rank) else 0):
            sel = rank == r
            a, d, it, w = agent[sel], day[sel], item[sel], wrong[sel]
            cur = state.current[a]
            expired = cur & (state.end[a] <= d)
            state.expired += int(expired.sum())
            state.current[a[expired]] = False
            cur &= ~expired
            rm = self.removal[it]
            gone = rm & cur
            state.removed += int(gone.sum())
            state.current[a[gone]] = False
            state.pending[a[rm]] = 0
            g = self.grounds[it]
            ext = g & cur
            if self.extension_days and ext.any():
                ae = a[ext]
                state.extensions[ae] += 1
                state.end[ae] = state.since[ae] + kernel.listing_days(
                    state.extensions[ae], self.definition, NP
                )
            state.extended += int(ext.sum())
            new = g & ~cur
            an = a[new]
            if self.depth:
                # enough earlier records since the window started over, the earliest needed
                # within the window of this one (days only grow, so all between are too)
                dn = d[new]
                in_window = kernel.in_window(state.recent[an, 0], dn, self.window_days, NP)
                ready = (state.pending[an] >= self.depth) & in_window
                state.recent[an, :-1] = state.recent[an, 1:]
                state.recent[an, -1] = dn
                state.pending[an] += 1
            else:
                state.pending[an] += 1
                ready = state.pending[an] >= self.min_records
            ao = an[ready]
            since = d[new][ready] + self.notice_days
            state.current[ao] = True
            state.since[ao] = since
            state.extensions[ao] = 0
            state.end[ao] = since + kernel.listing_days(state.extensions[ao], self.definition, NP)
            state.pending[ao] = 0
            state.wrong[ao] = w[new][ready]
            state.opened += len(ao)

    def active(self, state: ItemListState, day: int) -> BoolArray:
        """Who is on the list on ``day`` (after the events up to it)."""
        return state.current & (state.since <= day) & (day < state.end)

    def pending_notice(self, state: ItemListState, day: int) -> BoolArray:
        """Who has been noticed and is not yet listed."""
        return state.current & (day < state.since)


@dataclass
class GradeListState:
    """Per subject: the day the current run of qualifying grades began (-1: none) and the last
    score value the timeline emitted."""

    run_start: IntArray
    last: IntArray
    listed: int = 0
    recovered_in_notice: int = 0

    @classmethod
    def empty(cls, n: int) -> GradeListState:
        return cls(np.full(n, -1, dtype=np.int64), np.full(n, NO_VALUE, dtype=np.int64))


@dataclass(frozen=True)
class CompiledGradeList:
    """A grade list (e.g. Rongcheng's D list, its honour roll): a run of qualifying grades starts
    an entry after the notice period for the listing period; the run ending ends it; a run that
    ends within the notice period never lists (``lists._grade_entries``)."""

    qualified_id: str
    meets: BoolArray
    """Over the scheme's grades (0 = best): which grades qualify."""
    notice_days: int
    period_days: int
    kind: str

    @classmethod
    def of(cls, scheme: Scheme, lst: ListDef) -> CompiledGradeList:
        model = scheme.model
        crit = lst.criteria
        if model is None or not isinstance(crit, GradeCriteria):
            raise ValueError(f"{scheme.id}/{lst.id} is not a grade list of a scored scheme")
        ranks = np.arange(len(model.grades))
        at_most = model.rank(crit.grade_at_most) if crit.grade_at_most is not None else None
        at_least = model.rank(crit.grade_at_least) if crit.grade_at_least is not None else None
        ok = np.broadcast_to(kernel.grade_meets(ranks, at_most, at_least, NP), ranks.shape).copy()
        return cls(
            qualified_id=f"{scheme.id}/{lst.id}",
            meets=ok,
            notice_days=kernel.notice_days(lst),
            period_days=lst.period_days,
            kind=lst.kind,
        )

    def step(
        self, state: GradeListState, agent: IntArray, day: IntArray, value: IntArray, grade: IntArray
    ) -> None:
        """Apply score change points: one per (subject, day) with the value at the end of that day
        (as ``score_timeline`` gives it), sorted by subject then day."""
        order, rank = _rounds(agent, day)
        agent, day, value, grade = agent[order], day[order], value[order], grade[order]
        for r in range(int(rank.max()) + 1 if len(rank) else 0):
            sel = rank == r
            a, d, v, g = agent[sel], day[sel], value[sel], grade[sel]
            emitted = v != state.last[a]
            a, d, v, g = a[emitted], d[emitted], v[emitted], g[emitted]
            state.last[a] = v
            m = self.meets[g]
            start = state.run_start[a]
            begin = m & (start < 0)
            state.run_start[a[begin]] = d[begin]
            close = ~m & (start >= 0)
            ended_in_notice = close & (d <= start + self.notice_days)
            state.recovered_in_notice += int(ended_in_notice.sum())
            state.listed += int((close & ~ended_in_notice).sum())
            state.run_start[a[close]] = -1

    def active(self, state: GradeListState, day: int) -> BoolArray:
        since = state.run_start + self.notice_days
        return (state.run_start >= 0) & (since <= day) & (day < since + self.period_days)

    def pending_notice(self, state: GradeListState, day: int) -> BoolArray:
        return (state.run_start >= 0) & (day < state.run_start + self.notice_days)


@dataclass(frozen=True)
class CompiledMeasure:
    """A measure's trigger over list membership and one scheme's grade and score
    (``decisions._triggers``): applied = applicable to the subject's kind and triggered."""

    id: str
    kind: str
    to_person: bool
    to_organisation: bool
    lists: tuple[int, ...]
    """Indices of the trigger lists in the caller's list order."""
    grades: BoolArray | None = None
    score_at_least: float | None = None
    score_below: float | None = None
    scheme: str | None = field(default=None)

    @classmethod
    def of(cls, measure: Measure, list_order: Sequence[str], scored: Scorer | None) -> CompiledMeasure:
        """Compile ``measure`` for lists in ``list_order`` and the scored scheme ``scored``; a
        trigger naming a list or scheme not among them cannot be compiled (ValueError)."""
        t = measure.trigger
        missing = [x for x in t.lists if x not in list_order]
        if missing:
            raise ValueError(f"measure {measure.id}: trigger list {missing[0]} is not in force")
        grades = None
        if t.scheme is not None:
            if scored is None or scored.scheme != t.scheme:
                raise ValueError(f"measure {measure.id}: scheme {t.scheme} is not the scored scheme")
            grades = np.array([g in t.grades for g in scored.grade_names], dtype=np.bool_)
        return cls(
            id=measure.id,
            kind=measure.kind,
            to_person="person" in measure.applies_to,
            to_organisation="organisation" in measure.applies_to,
            lists=tuple(list_order.index(x) for x in t.lists),
            grades=grades,
            score_at_least=t.score_at_least,
            score_below=t.score_below,
            scheme=t.scheme,
        )

    def signature(self) -> tuple[Any, ...]:
        """Equal for measures whose triggers and kinds of subject are equal (they apply alike)."""
        grades = None if self.grades is None else tuple(self.grades.tolist())
        return (
            self.lists,
            grades,
            self.score_at_least,
            self.score_below,
            self.to_person,
            self.to_organisation,
        )

    def applied(
        self,
        active: BoolArray,
        is_person: BoolArray,
        grade: IntArray | None = None,
        score: IntArray | None = None,
        scored: BoolArray | None = None,
    ) -> BoolArray:
        """Who the measure applies to now: a punishment denied, a reward granted.

        ``active`` is subjects x lists (entries in force and not suspended); ``grade`` and
        ``score`` are under the trigger's scheme (needed only if it names one), and ``scored``
        says who has a score under it at all (an opt-in scheme: who joined; default everyone)."""
        hit = np.zeros(len(is_person), dtype=np.bool_)
        for j in self.lists:
            hit |= active[:, j]
        if self.scheme is not None:
            assert grade is not None and score is not None and self.grades is not None
            by_score = np.zeros(len(is_person), dtype=np.bool_)
            if self.grades.any():
                by_score |= self.grades[grade]
            if self.score_at_least is not None:
                by_score |= score >= self.score_at_least
            if self.score_below is not None:
                by_score |= score < self.score_below
            hit |= by_score if scored is None else by_score & scored
        kind_ok = np.where(is_person, self.to_person, self.to_organisation)
        return hit & kind_ok
