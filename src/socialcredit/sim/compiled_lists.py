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

- An item list is kept track by track (``ListDef.tracks``, :class:`TrackState`), as the live walk
  derives it: per period, its own grounds, removal items and extension decisions, and its end by
  the kernel's :func:`~socialcredit.rules.kernel.planned_end` (calendar years from the day the
  opening record occurred, which here is the day it is reported; or days from taking effect; or
  none). An extension decision states :func:`stated_years` of its ledger position.
- An item list's criteria with ``min_records > 1`` *and* a ``window_days`` keep, per subject, the
  days of the last ``min_records - 1`` qualifying records since the window last started over
  (``TrackState.recent``). That is the whole window, not an approximation, because records here
  occur on the day they are reported: days only grow along the walk, so the walk drops the oldest
  first, and a record opens an entry exactly when the ``min_records - 1``-th before it is within
  ``window_days`` of it.
- The removal deadline (``within_working_days``) and suspension by an open objection are not
  state here: an entry ends on the day of the removal record, as in ``lists.py`` (which reports a
  removal late only if its record came later than its deadline: never here), and the
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

from socialcredit.criteria import grade
from socialcredit.rules import kernel
from socialcredit.schemes.model import Extension, ItemCriteria, ListDef, Measure, Scheme, Track
from socialcredit.sim.ops import NP
from socialcredit.sim.scorers import Scorer

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

__all__ = [
    "CompiledGradeList",
    "CompiledItemList",
    "CompiledMeasure",
    "CompiledTrack",
    "GradeListState",
    "ItemListState",
    "TrackState",
]

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


FOREVER = np.iinfo(np.int64).max // 4
"""The end of an entry with no fixed period (only a removal ends it)."""


def stated_years(extension: Extension, seq: IntArray) -> IntArray:
    """The years the simulator's extension decisions state: spread evenly over the range the list
    allows (``min_years`` to ``max_years``) by the record's ledger position, a deterministic
    stand-in for the court's choice that ``tests/test_sim_parity.py`` writes into the records'
    details."""
    span = extension.max_years - extension.min_years + 1
    return extension.min_years + np.asarray(seq, dtype=np.int64) % span


@dataclass
class TrackState:
    """Per subject, for one track (``ListDef.tracks``): the open entry (if any) and the
    qualifying records not yet used."""

    current: BoolArray
    since: IntArray
    occurred: IntArray
    """The day the opening record occurred (reported the same day here)."""
    end: IntArray
    pending: IntArray
    wrong: BoolArray
    """The open entry was started by a record flagged wrong (for the simulator's counts)."""
    recent: IntArray
    """For a list with a window: the days of the last qualifying records, oldest first, one
    column per record before the one that would open an entry (``min_records - 1``); only the last
    ``pending`` of them are in the window."""
    extensions: IntArray
    """How many further grounds joined the open entry."""
    extended: BoolArray
    """An extension decision extended the open entry (once)."""

    @classmethod
    def empty(cls, n: int, depth: int = 0) -> TrackState:
        zeros = np.zeros(n, dtype=np.int64)
        no = np.zeros(n, dtype=np.bool_)
        return cls(no, zeros, zeros.copy(), zeros.copy(), zeros.copy(), no.copy(),
                   np.zeros((n, depth), dtype=np.int64), zeros.copy(), no.copy())  # fmt: skip


@dataclass
class ItemListState:
    """Per subject and track, the state of an item list (one :class:`TrackState` a track), and
    what happened to its entries so far."""

    tracks: list[TrackState]
    opened: int = 0
    extended: int = 0
    removed: int = 0
    expired: int = 0


def _none(state: ItemListState) -> BoolArray:
    """Nobody, over the subjects of ``state``."""
    return np.zeros(len(state.tracks[0].current), dtype=np.bool_)


@dataclass(frozen=True)
class CompiledTrack:
    """One track of an item list over the caller's item universe: its grounds, removal items and
    extension decisions as masks, and the track as the scheme writes it (its period, extension and
    cap are the kernel's: :func:`~socialcredit.rules.kernel.planned_end`)."""

    grounds: BoolArray
    removal: BoolArray
    extension: BoolArray
    track: Track

    def planned(self, since: IntArray, occurred: IntArray, further: IntArray, years: Any) -> IntArray:
        """The kernel's planned end (:data:`FOREVER` with no fixed period)."""
        if self.track.indefinite:
            return np.full(len(since), FOREVER, dtype=np.int64)
        end = kernel.planned_end(self.track, since, occurred, further, years, NP)
        return np.asarray(end, dtype=np.int64)


@dataclass(frozen=True)
class CompiledItemList:
    """An item-based list (e.g. the court's list): per track, grounds open an entry or join it,
    an extension decision extends it once, removal items end it, the period ends it otherwise
    (``criteria.items._track_entries``)."""

    qualified_id: str
    grounds: BoolArray
    """Over the caller's item universe: which items are grounds (of any track)."""
    removal: BoolArray
    """Which items end an entry (of any track): what a listed subject's fulfilment is drawn from."""
    tracks: tuple[CompiledTrack, ...]
    notice_days: int
    min_records: int
    window_days: int | None
    lists_representative: bool
    kind: str
    definition: ListDef
    suspends: bool = False
    """Whether an open objection to one of an entry's grounds suspends its measures
    (``during_objection: suspend``); the simulator uses it, membership does not."""

    @classmethod
    def of(cls, scheme: Scheme, lst: ListDef, items: Sequence[str]) -> CompiledItemList:
        crit = lst.criteria
        if not isinstance(crit, ItemCriteria):
            raise ValueError(f"{scheme.id}/{lst.id} is a grade list")
        codes = list(items)

        def mask(of: Sequence[str]) -> BoolArray:
            return np.array([c in of for c in codes], dtype=np.bool_)

        tracks = tuple(
            CompiledTrack(
                mask(t.grounds) & ~mask(t.removal.on_items),
                mask(t.removal.on_items),
                mask(t.extension_items),
                t,
            )
            for t in lst.tracks
        )
        return cls(
            qualified_id=f"{scheme.id}/{lst.id}",
            grounds=mask(crit.items),
            removal=mask(lst.removal_items),
            tracks=tracks,
            notice_days=kernel.notice_days(lst),
            min_records=crit.min_records,
            window_days=crit.window_days,
            lists_representative=lst.lists_representative,
            kind=lst.kind,
            definition=lst,
            suspends=lst.during_objection == "suspend",
        )

    @property
    def depth(self) -> int:
        """How many earlier qualifying days a subject's state keeps (``TrackState.recent``)."""
        return self.min_records - 1 if self.window_days else 0

    def empty(self, n: int) -> ItemListState:
        """No entries for ``n`` subjects."""
        return ItemListState([TrackState.empty(n, self.depth) for _ in self.tracks])

    def step(
        self,
        state: ItemListState,
        agent: IntArray,
        day: IntArray,
        item: IntArray,
        wrong: BoolArray,
        seq: IntArray | None = None,
    ) -> None:
        """Apply records (subject index, reporting day, item index, flagged wrong, ledger
        position), given in ledger order; only each track's grounds, removal items and extension
        decisions matter. An extension decision states :func:`stated_years` of its position."""
        seq = np.arange(len(agent), dtype=np.int64) if seq is None else seq
        for ct, ts in zip(self.tracks, state.tracks, strict=True):
            keep = ct.grounds[item] | ct.removal[item] | ct.extension[item]
            self._step_track(ct, ts, state, agent[keep], day[keep], item[keep], wrong[keep], seq[keep])

    def _step_track(
        self,
        ct: CompiledTrack,
        ts: TrackState,
        counts: ItemListState,
        agent: IntArray,
        day: IntArray,
        item: IntArray,
        wrong: BoolArray,
        seq: IntArray,
    ) -> None:
        order, rank = _rounds(agent, day)
        agent, day, item, wrong, seq = agent[order], day[order], item[order], wrong[order], seq[order]
        ext_def = ct.track.extension
        for r in range(int(rank.max()) + 1 if len(rank) else 0):
            sel = rank == r
            a, d, it, w, sq = agent[sel], day[sel], item[sel], wrong[sel], seq[sel]
            cur = ts.current[a]
            expired = cur & (ts.end[a] <= d)
            counts.expired += int(expired.sum())
            ts.current[a[expired]] = False
            cur &= ~expired
            rm = ct.removal[it]
            gone = rm & cur
            counts.removed += int(gone.sum())
            ts.current[a[gone]] = False
            ts.pending[a[rm]] = 0
            x = ct.extension[it] & cur & ~ts.extended[a]
            if ext_def is not None and x.any():
                ax = a[x]  # once, by the years the decision states, from the listing decision's date
                ts.extended[ax] = True
                ts.end[ax] = ct.planned(
                    ts.since[ax], ts.occurred[ax], ts.extensions[ax], stated_years(ext_def, sq[x])
                )
            g = ct.grounds[it]
            ext = g & cur
            if ct.track.extension_days and ext.any():
                ae = a[ext]
                ts.extensions[ae] += 1
                ts.end[ae] = ct.planned(ts.since[ae], ts.occurred[ae], ts.extensions[ae], 0)
            elif ext.any():
                ts.extensions[a[ext]] += 1
            counts.extended += int(ext.sum())
            new = g & ~cur
            an = a[new]
            if self.depth:
                # enough earlier records since the window started over, the earliest needed
                # within the window of this one (days only grow, so all between are too)
                dn = d[new]
                in_window = kernel.in_window(ts.recent[an, 0], dn, self.window_days, NP)
                ready = (ts.pending[an] >= self.depth) & in_window
                ts.recent[an, :-1] = ts.recent[an, 1:]
                ts.recent[an, -1] = dn
                ts.pending[an] += 1
            else:
                ts.pending[an] += 1
                ready = ts.pending[an] >= self.min_records
            ao = an[ready]
            opened_on = d[new][ready]
            since = opened_on + self.notice_days
            ts.current[ao] = True
            ts.since[ao] = since
            ts.occurred[ao] = opened_on  # records here occur on the day they are reported
            ts.extensions[ao] = 0
            ts.extended[ao] = False
            ts.end[ao] = ct.planned(since, opened_on, ts.extensions[ao], 0)
            ts.pending[ao] = 0
            ts.wrong[ao] = w[new][ready]
            counts.opened += len(ao)

    def active(self, state: ItemListState, day: int) -> BoolArray:
        """Who is on the list on ``day`` (after the events up to it): on it by some track."""
        out = (
            np.zeros(len(state.tracks[0].current), dtype=np.bool_) if state.tracks else np.zeros(0, np.bool_)
        )
        for ts in state.tracks:
            out |= ts.current & (ts.since <= day) & (day < ts.end)
        return out

    def active_rightly(self, state: ItemListState, day: int) -> BoolArray:
        """Who is on the list on ``day`` by an entry no wrong record started (the counterfactual)."""
        out = (
            np.zeros(len(state.tracks[0].current), dtype=np.bool_) if state.tracks else np.zeros(0, np.bool_)
        )
        for ts in state.tracks:
            out |= ts.current & (ts.since <= day) & (day < ts.end) & ~ts.wrong
        return out

    def close_wrong(self, state: ItemListState, who: IntArray) -> None:
        """End the open entries of ``who`` that a wrong record started (corrected on objection)."""
        for ts in state.tracks:
            close = ts.current[who] & ts.wrong[who]
            ts.current[who[close]] = False
            state.removed += int(close.sum())

    def pending_notice(self, state: ItemListState, day: int) -> BoolArray:
        """Who has been noticed and is not yet listed."""
        out = (
            np.zeros(len(state.tracks[0].current), dtype=np.bool_) if state.tracks else np.zeros(0, np.bool_)
        )
        for ts in state.tracks:
            out |= ts.current & (day < ts.since)
        return out


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
    ends within the notice period never lists. The runs are kept here round by round; whether a
    grade qualifies and what a run makes of an entry are the criterion's own formulas
    (``criteria.grade.qualifies``, ``run_entry`` and ``in_force``, with NumPy arrays)."""

    qualified_id: str
    meets: BoolArray
    """Over the scheme's grades (0 = best): which grades qualify."""
    notice_days: int
    period_days: int
    kind: str
    definition: ListDef

    @classmethod
    def of(cls, scheme: Scheme, lst: ListDef) -> CompiledGradeList:
        model = scheme.model
        if model is None or lst.criteria.by != "grade":
            raise ValueError(f"{scheme.id}/{lst.id} is not a grade list of a scored scheme")
        ranks = np.arange(len(model.grades))
        ok = np.broadcast_to(grade.qualifies(ranks, scheme, lst, NP), ranks.shape).copy()
        return cls(
            qualified_id=f"{scheme.id}/{lst.id}",
            meets=ok,
            notice_days=kernel.notice_days(lst),
            period_days=lst.period_days or 0,  # required of a list by grade
            kind=lst.kind,
            definition=lst,
        )

    def step(
        self, state: GradeListState, agent: IntArray, day: IntArray, value: IntArray, grades: IntArray
    ) -> None:
        """Apply score change points: one per (subject, day) with the value at the end of that day
        (as ``score_timeline`` gives it), sorted by subject then day."""
        order, rank = _rounds(agent, day)
        agent, day, value, grades = agent[order], day[order], value[order], grades[order]
        for r in range(int(rank.max()) + 1 if len(rank) else 0):
            sel = rank == r
            a, d, v, g = agent[sel], day[sel], value[sel], grades[sel]
            emitted = v != state.last[a]
            a, d, v, g = a[emitted], d[emitted], v[emitted], g[emitted]
            state.last[a] = v
            m = self.meets[g]
            start = state.run_start[a]
            begin = m & (start < 0)
            state.run_start[a[begin]] = d[begin]
            close = ~m & (start >= 0)
            listed = grade.run_entry(start, d, self.definition, d, NP).listed
            state.recovered_in_notice += int((close & ~listed).sum())
            state.listed += int((close & listed).sum())
            state.run_start[a[close]] = -1

    def active(self, state: GradeListState, day: int) -> BoolArray:
        run = grade.run_entry(state.run_start, grade.NEVER, self.definition, day, NP)
        on: BoolArray = (state.run_start >= 0) & grade.in_force(run, grade.NEVER, day)
        return on

    def pending_notice(self, state: GradeListState, day: int) -> BoolArray:
        run = grade.run_entry(state.run_start, grade.NEVER, self.definition, day, NP)
        pending: BoolArray = (state.run_start >= 0) & (day < run.since)
        return pending


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
