"""The simulation: a population lives under a scheme month by month, and the scheme acts on it.

Why this shape: the rules (scores, grades, lists, measures) are not re-implemented here; they are
the scheme files compiled by :mod:`socialcredit.sim.scorers` and
:mod:`socialcredit.sim.compiled_lists`, which are proven equal to the live per-subject code. This
module adds only what the live system does not have: behaviour (who does what, with what
probability), sources that err, people who object, and the feedback between sanctions and lives.

Time: step ``t`` is a calendar month from ``START`` (or a fixed number of days, ``step_days``, for
tests against theory). Records of a step occur, and are reported, on the step's first day; the
step's snapshot is taken at the end of that day, after them. Between snapshots, records stop
counting on the exact day their window ends (``counts_for_days``), so grade lists see the same
daily score timeline as ``score_timeline``.

Behaviour (:mod:`socialcredit.sim.behaviour`): for each kind of subject, items are split into
classes (positive; "economic" negative items, those of the commercial and judicial areas, which
unemployment makes more likely; other negative or neutral conduct; with heterogeneity on, economic
rates are scaled by income band, ``INCOME_DEFAULT``). A subject's records of a class in a step are
Poisson with mean ``sum(base_rate_per_year) x days/365.25 x weight``, the weight being the subject's
propensity
times its state; which item is Poisson-split by base rate. Drawing class totals and assigning them
to subjects by weight is exactly independent Poisson counts per subject and item, at a cost
proportional to the records rather than to subjects x items.

Fulfilment (the items that remove a listing) is not drawn at a base rate: a subject on an item
list fulfils in a month with probability ``FULFIL_EMPLOYED`` (``FULFIL_UNEMPLOYED`` when out of
work and feedback is on), recorded with one of the list's removal items.

Feedback (``Settings.feedback``): any punishment in force multiplies a person's monthly hazard of
losing work by ``PUNISHED_JOB_LOSS`` and divides the chance of finding work by
``PUNISHED_JOB_FIND``; any reward scales them the other way (``REWARD_...``); being out of work
multiplies economic negative rates by ``UNEMPLOYED_DEFAULT``; a reward lowers negative rates by
``REWARD_CONDUCT``. Spiral: a person is *in a spiral* at a month when they have been under at
least one punishment for 3 or more consecutive months and lost their job after that run began.

Errors: each record is about the wrong person with probability ``error_rate`` (given to another
subject of the same kind), and ``error_rate`` times as many records are reported that never
happened (to random subjects). With due process on, a wrongly recorded subject objects with
``object_propensity``; the objection is filed within 40 days, decided within the scheme's review
period (upheld with probability ``dueprocess.REVIEW_ACCURACY``), corrected within the correction period;
a rejected one is appealed with probability ``APPEAL_PROPENSITY`` and decided within the appeal
period. An upheld record stops counting on the day of correction, and a list entry it started
ends then. While an objection is open, an item list that suspends its measures during objections
(``during_objection: suspend``) applies none against the objector's entry; the subject stays
listed (:mod:`socialcredit.sim.suspension`). This is where the simulator is *not* the live
rule: the live ledger treats a withdrawn record as never having existed, so a past entry it
started vanishes, and a later genuine ground that only extended that entry would have started its
own; the simulator ends the entry from the correction day onward (present membership agrees
except in that rare case). Restoration: a
negative scored record that credit restoration may end (not a judicial record, nor one that can
start a judicial listing: :mod:`socialcredit.dueprocess.restoration`) is restored (its effect
ends) with ``restore_propensity`` after its minimum publication period plus up to 90 days.

Relationships (hypothetical, no shipped scheme has it): with weight w, a person's score is
``round((1 - w) * own + w * mean(contacts' scores))``, graded by the scheme's thresholds; grade
lists then follow that score month by month. Ostracism: each month a person drops each contact
graded in the bottom two grades with probability ``ostracism``.

Black market: a share of persons buys ``black_market_per_month`` fabricated records a month of the
positive person item with the largest points x base rate, all from that item's first source.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp  # type: ignore[import-untyped]

from socialcredit.schemes.model import Scheme
from socialcredit.sim import behaviour, events, figures, optin, versions
from socialcredit.sim.behaviour import ECONOMIC_AREAS as ECONOMIC_AREAS
from socialcredit.sim.behaviour import FULFIL_EMPLOYED as FULFIL_EMPLOYED
from socialcredit.sim.behaviour import FULFIL_UNEMPLOYED as FULFIL_UNEMPLOYED
from socialcredit.sim.behaviour import INCOME_DEFAULT as INCOME_DEFAULT
from socialcredit.sim.behaviour import REWARD_CONDUCT as REWARD_CONDUCT
from socialcredit.sim.behaviour import UNEMPLOYED_DEFAULT as UNEMPLOYED_DEFAULT
from socialcredit.sim.behaviour import Behaviour
from socialcredit.sim.compiled_lists import (
    GradeListState,
)
from socialcredit.sim.dueprocess import record_ends
from socialcredit.sim.figures import _any_column
from socialcredit.sim.population import Population
from socialcredit.sim.scenario import Settings
from socialcredit.sim.suspension import OpenObjections
from socialcredit.sim.world import Records, Trace, World

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

START = dt.date(2025, 1, 1)
JOB_LOSS = 0.01
JOB_FIND = 0.15
PUNISHED_JOB_LOSS = 3.0
PUNISHED_JOB_FIND = 2.5
REWARD_JOB_LOSS = 0.8
SPIRAL_MONTHS = 3


def _with_representatives(on: BoolArray, pop: Population) -> BoolArray:
    """``on`` with each listed organisation's legal representative listed through it."""
    orgs = np.flatnonzero(on[pop.n_persons :])
    out = on.copy()
    out[pop.representative[orgs]] = True
    return out


def step_days(n_steps: int, step: int | None) -> IntArray:
    """Day ordinal of the first day of each step (and of the step after the last)."""
    if step is not None:
        return START.toordinal() + step * np.arange(n_steps + 1, dtype=np.int64)
    out = []
    for t in range(n_steps + 1):
        y, m = divmod(START.month - 1 + t, 12)
        out.append(dt.date(START.year + y, m + 1, 1).toordinal())
    return np.array(out, dtype=np.int64)


class Simulation:
    """One arm: a world, a population, a seed. :meth:`run` returns every figure per step."""

    def __init__(
        self,
        schemes: Sequence[Scheme],
        settings: Settings,
        population: Population,
        *,
        seed: int,
        months: int,
        step: int | None = None,
        trace: IntArray | None = None,
    ) -> None:
        self.settings = settings
        self.pop = population
        self.months = months
        self.days = step_days(months, step)
        self.versions = versions.timeline(schemes, settings, self.days, months)
        self.world: World = self.versions.first
        self.log: list[versions.Logged] | None = [] if self.versions.changes else None
        """Each month's records while a change of version lies ahead (``sim/versions.py``)."""
        self.rng = np.random.default_rng([seed, 2])
        self.trace = Trace(np.asarray(trace, dtype=np.int64)) if trace is not None else None
        w = self.world
        n = population.n
        registry_items = w.registry.items()
        kinds = w.registry.kinds_by_item
        self.behave(w)
        removal, rate = self.removal_items, np.array([registry_items[c].base_rate_per_year for c in w.items])
        self.is_person = population.is_person
        rates = w.scorer.rates
        self.rated = np.where(self.is_person, "person" in rates, "organisation" in rates)
        """The kinds of subject the scheme's model rates."""
        self.scored = self.rated.copy()
        """Who has a score under the scheme now: the kinds its model rates and, for an opt-in
        scheme, those whose latest enrolment or withdrawal record is an enrolment, as the live
        rules decide (``scoring.dispatch.enrolled``); records move it on the day they occur."""
        self.joins = np.zeros(n, dtype=np.bool_)
        """Under an opt-in scheme: the share ``settings.enrolment`` of the rated who join on the
        first day (drawn once), each by an enrolment record."""
        self.enrolment_item = self.withdrawal_item = -1
        if w.scheme.enrolment is not None:
            self.enrolment_item = w.items.index(w.scheme.enrolment.item)
            if w.scheme.enrolment.withdrawal_item is not None:
                self.withdrawal_item = w.items.index(w.scheme.enrolment.withdrawal_item)
            self.joins = self.rated & (self.rng.random(n) < settings.enrolment)
            self.scored = np.zeros(n, dtype=np.bool_)
        self.left = self.rejoined = 0
        """How many members left the opt-in scheme (``settings.withdrawal``), and how many of
        those joined it again (``settings.rejoin``), starting afresh (``sim/optin.py``)."""
        self.ever_left = np.zeros(n, dtype=np.bool_)
        # state
        # one running sum per column of the scorer's state (the points; a factor model's factor sums)
        self.raw = np.zeros((n, w.scorer.columns), dtype=np.int64)
        self.wrong_raw = np.zeros_like(self.raw)
        self.fab_raw = np.zeros_like(self.raw)
        self.employed = population.employed.copy()
        self.item_state = [x.empty(n) for x in w.item_lists]
        self.grade_state = [GradeListState.empty(n) for _ in w.grade_lists]
        self.expiries: dict[int, list[tuple[IntArray, IntArray, IntArray, IntArray, IntArray, IntArray]]] = {}
        self.closures: dict[int, list[IntArray]] = {}
        self.contacts: sp.csr_matrix = population.contacts.copy()
        self.punished_run = np.zeros(n, dtype=np.int64)
        self.lost_in_run = np.zeros(n, dtype=np.bool_)
        self.ever_spiral = np.zeros(n, dtype=np.bool_)
        self.prev_punished = np.zeros(n, dtype=np.bool_)
        self.prev_rewarded = np.zeros(n, dtype=np.bool_)
        self.prev_listed_item = np.zeros((n, len(w.item_lists)), dtype=np.bool_)
        self.seq = 0
        self.source_records = np.zeros(len(w.sources), dtype=np.int64)
        self.source_positive = np.zeros((months, len(w.sources)), dtype=np.int64)
        self.source_overturned = np.zeros(len(w.sources), dtype=np.int64)
        self.open_objections = OpenObjections()
        self.item_source_counts = np.zeros((len(w.items), len(w.sources)), dtype=np.int64)
        self.buyers = np.zeros(n, dtype=np.bool_)
        if settings.black_market > 0:
            self.buyers[: population.n_persons] = (
                self.rng.random(population.n_persons) < settings.black_market
            )
        person_pos = np.array(
            [
                "person" in kinds[c] and registry_items[c].polarity == "positive" and not removal[i]
                for i, c in enumerate(w.items)
            ]
        )
        score = np.where(person_pos, w.item_points * rate, -np.inf)
        self.bm_item = int(np.argmax(score)) if person_pos.any() else -1
        self.bm_source = w.item_sources[self.bm_item][0] if self.bm_item >= 0 else -1
        self.stats: dict[str, Any] = {}
        self.grade_transitions = np.zeros((len(w.scorer.grade_names),) * 2, dtype=np.int64)
        self.prev_grade: IntArray | None = None
        self.last_relational = np.full(n, np.iinfo(np.int64).min, dtype=np.int64)

    # ------------------------------------------------------------------------------ behaviour

    def behave(self, world: World) -> None:
        """Draw from now on as ``world``'s items say (its version's base rates, removal items,
        restoration rule: ``sim/behaviour.py``); the population's propensities stay."""
        self.behaviour = b = Behaviour.of(world)
        self.removal_items, self.severity_months, self.restorable = (
            b.removal_items,
            b.severity_months,
            b.restorable,
        )

    def _draw(self, t: int) -> Records:
        """Month ``t``'s records as behaviour draws them (the contract test gives a history instead)."""
        return behaviour.draw(self, t)

    def _records(self, agents: IntArray, items: IntArray, wrong: BoolArray) -> Records:
        return behaviour.records(self, agents, items, wrong)

    # ------------------------------------------------------------------------------ due process

    def _enrol(self, rec: Records) -> None:
        """Enrolment and withdrawal records move who is scored, the latest (in ledger order) for
        each subject deciding, within the kinds the model rates."""
        if self.enrolment_item < 0:
            return
        marks = np.flatnonzero((rec.item == self.enrolment_item) | (rec.item == self.withdrawal_item))
        if not len(marks):
            return
        last = marks[::-1][np.unique(rec.agent[marks][::-1], return_index=True)[1]]  # each subject's latest
        who = rec.agent[last]
        self.scored[who] = (rec.item[last] == self.enrolment_item) & self.rated[who]

    def _schedule(
        self, day_values: IntArray, payload: tuple[IntArray, ...], store: dict[int, list[Any]]
    ) -> None:
        step_of = np.searchsorted(self.days, day_values, side="left")  # first step whose day >= value
        for t in np.unique(step_of):
            if t > self.months:
                continue
            sel = step_of == t
            store.setdefault(int(t), []).append(tuple(x[sel] for x in payload))

    # ------------------------------------------------------------------------------ the step

    def step(self, t: int) -> dict[str, Any]:
        if t in self.versions.changes:  # this month is under a new version (sim/versions.py)
            versions.switch(self, t, self.versions.changes[t])
        w = self.world
        pop = self.pop
        day = int(self.days[t])
        rec = self._draw(t)
        n_rec = len(rec.agent)
        self._enrol(rec)
        seqs = self.seq + np.arange(n_rec, dtype=np.int64)
        self.seq += n_rec
        np.add.at(self.source_records, rec.source, 1)
        np.add.at(self.item_source_counts, (rec.item, rec.source), 1)
        pos = w.item_points[rec.item] > 0
        np.add.at(self.source_positive[t], rec.source[pos], 1)
        end, corrected, dp_counts = record_ends(self, t, rec)
        if self.trace is not None:
            hit = np.isin(rec.agent, self.trace.agents)
            for a, it, sq in zip(rec.agent[hit], rec.item[hit], seqs[hit], strict=True):
                self.trace.records.append((int(a), int(it), day, int(sq)))
        if self.log is not None:
            self.log.append(versions.logged(self, day, rec, end))
        # list entries started by a record corrected later end on the correction day
        grounds = np.zeros(len(rec.agent), dtype=np.bool_)
        for lst in w.item_lists:
            grounds |= lst.grounds[rec.item]
        closing = grounds & (corrected >= 0)
        self._schedule(corrected[closing], (rec.agent[closing],), self.closures)
        fed, fed_end = optin.cut(self, rec, end)  # a leaver's earlier records no longer count
        self.feed(t, day, fed, fed_end)

        # item lists: corrections first (they fall before today), then today's records in ledger order
        for day_closures in self.closures.pop(t, []):
            for lst, st in zip(w.item_lists, self.item_state, strict=True):
                lst.close_wrong(st, day_closures[0])
        for lst, st in zip(w.item_lists, self.item_state, strict=True):
            lst.step(st, rec.agent, np.full(n_rec, day, dtype=np.int64), rec.item, rec.wrong, seqs)

        # the snapshot
        score = w.scorer.score_columns(self.raw)
        if self.settings.relationships > 0:
            score = self._relational(score, day)
        grade = w.scorer.grades(score)
        cf_score = w.scorer.score_columns(self.raw - self.wrong_raw)
        cf_grade = w.scorer.grades(cf_score)
        n_lists = len(w.item_lists) + len(w.grade_lists)
        active = np.zeros((pop.n, n_lists), dtype=np.bool_, order="F")  # columns are written whole
        cf_active = np.zeros_like(active)
        # in force: listed and not suspended by an open objection (sim/suspension.py); measures
        # follow this, list sizes the listing
        enforced = np.zeros_like(active)
        pending = np.zeros(n_lists, dtype=np.int64)
        objecting = self.open_objections.open_on(day)
        for j, (lst, st) in enumerate(zip(w.item_lists, self.item_state, strict=True)):
            on = lst.active(st, day)
            self.prev_listed_item[:, j] = on
            pending[j] = int(lst.pending_notice(st, day).sum())
            cf_on = lst.active_rightly(st, day)
            enf = on & ~OpenObjections.suspended(*objecting, lst.grounds, pop.n) if lst.suspends else on
            if lst.lists_representative:
                on, cf_on, enf = (_with_representatives(x, pop) for x in (on, cf_on, enf))
            active[:, j] = on
            cf_active[:, j] = cf_on
            enforced[:, j] = enf
        k0 = len(w.item_lists)
        for j, (glst, gst) in enumerate(zip(w.grade_lists, self.grade_state, strict=True)):
            on = glst.active(gst, day)
            active[:, k0 + j] = on
            enforced[:, k0 + j] = on  # objections here are to records; a grade list's ground is a grade
            cf_active[:, k0 + j] = on & glst.meets[cf_grade]
            pending[k0 + j] = int(glst.pending_notice(gst, day).sum())
        applied = np.zeros((pop.n, len(w.measures)), dtype=np.bool_, order="F")
        cf_applied = np.zeros_like(applied)
        done: dict[tuple[Any, ...], int] = {}
        for m, measure in enumerate(w.measures):
            key = measure.signature()
            if key in done:  # the memorandum's measures share one trigger: compute it once
                applied[:, m] = applied[:, done[key]]
                cf_applied[:, m] = cf_applied[:, done[key]]
                continue
            done[key] = m
            applied[:, m] = measure.applied(enforced, self.is_person, grade, score, self.scored)
            cf_applied[:, m] = measure.applied(cf_active, self.is_person, cf_grade, cf_score, self.scored)
        is_pun = np.array([m.kind == "punishment" for m in w.measures], dtype=np.bool_)
        punished = _any_column(applied[:, is_pun])
        rewarded = _any_column(applied[:, ~is_pun])
        wrongly = punished & ~_any_column(cf_applied[:, is_pun])
        if self.trace is not None:
            self.trace.scores.append(score[self.trace.agents])
            self.trace.scored.append(self.scored[self.trace.agents].copy())
            self.trace.active.append(active[self.trace.agents])
            self.trace.applied.append(applied[self.trace.agents])

        out = figures.step_figures(
            self, t, score, grade, active, pending, applied, punished, rewarded, wrongly, dp_counts
        )
        out["in_force"] = self.versions.in_force[t]  # the version of each scheme this month
        suspended = (active & ~enforced).sum(axis=0)
        out["list_suspended"] = suspended.tolist()
        out["suspended_entry_days"] = int(suspended.sum()) * int(self.days[t + 1] - self.days[t])
        self._lives(punished, rewarded)
        out["employment_rate"] = (
            float(self.employed[pop.labour_force].mean()) if pop.labour_force.any() else 0.0
        )
        out["in_spiral"] = int(self._spiral().sum())
        out["ever_in_spiral"] = int(self.ever_spiral.sum())
        self.prev_punished, self.prev_rewarded = punished, rewarded
        if self.settings.relationships > 0 and self.settings.ostracism > 0:
            self._ostracise(grade)
        return out

    def feed(self, t: int, day: int, fed: Records, fed_end: IntArray) -> None:
        """Month ``t``'s records (reported on ``day``) into the running sums, after the changes
        scheduled since the last month (expiries and decay on their days); grade lists see each
        day's score (``sim/versions.py`` replays the months so far through this too)."""
        a_s, p_s, wrong_s, fab_s, c_s = events.feed(self, day, fed, fed_end)
        due = self.expiries.pop(t, [])
        ea = [x[0] for x in due] + [a_s]
        ed = [x[1] for x in due] + [np.full(len(a_s), day, dtype=np.int64)]
        ep = [x[2] for x in due] + [p_s]
        ew = [x[3] for x in due] + [wrong_s]
        ef = [x[4] for x in due] + [fab_s]
        ec = [x[5] for x in due] + [c_s]
        ca, cd, cp, cc = (np.concatenate(x) for x in (ea, ed, ep, ec))
        np.add.at(self.wrong_raw, (ca, cc), np.concatenate(ew))
        np.add.at(self.fab_raw, (ca, cc), np.concatenate(ef))
        if self.settings.relationships == 0:
            self._grade_changes(ca, cd, cc, cp)
        else:
            np.add.at(self.raw, (ca, cc), cp)

    def _grade_changes(self, agent: IntArray, day: IntArray, column: IntArray, delta: IntArray) -> None:
        """Apply point changes (to each subject's running sums, a column each) in day order, and
        feed grade lists the score at the end of each day it changed (as ``score_timeline``)."""
        w = self.world
        if len(agent) == 0:
            return
        order = np.lexsort((day, agent))
        a, d = agent[order], day[order]
        steps = np.zeros((len(a), w.scorer.columns), dtype=np.int64)
        steps[np.arange(len(a)), column[order]] = delta[order]
        csum = np.cumsum(steps, axis=0)
        first = np.r_[True, a[1:] != a[:-1]]
        starts = np.flatnonzero(first)
        group = np.cumsum(first) - 1
        before = np.where((starts > 0)[:, None], csum[np.maximum(starts - 1, 0)], 0)
        running = csum - before[group] + self.raw[a]
        last = np.r_[(a[1:] != a[:-1]) | (d[1:] != d[:-1]), True]
        a, d, running = a[last], d[last], running[last]
        ends = np.r_[a[1:] != a[:-1], True]
        self.raw[a[ends]] = running[ends]
        rated = self.scored[
            a
        ]  # grade lists hold only those the model scores (an enterprise rating: organisations)
        a, d, running = a[rated], d[rated], running[rated]
        value = w.scorer.score_columns(running)
        grade = w.scorer.grades(value)
        for glst, gst in zip(w.grade_lists, self.grade_state, strict=True):
            glst.step(gst, a, d, value, grade)

    def _relational(self, own: IntArray, day: int) -> IntArray:
        """The hypothetical relationships factor: persons' scores blended with their contacts'."""
        n_p = self.pop.n_persons
        c = self.contacts
        joined = self.scored[:n_p].astype(np.float64)  # contacts with a score (an opt-in scheme: who joined)
        deg = c @ joined
        mean = np.where(deg > 0, (c @ (own[:n_p] * joined)) / np.maximum(deg, 1), own[:n_p])
        wgt = self.settings.relationships
        out = own.copy()
        out[:n_p] = np.rint((1 - wgt) * own[:n_p] + wgt * mean).astype(np.int64)
        out = self.world.scorer.clip(out)
        changed = np.flatnonzero((out != self.last_relational) & self.scored)
        self.last_relational = out
        g = self.world.scorer.grades(out[changed])
        for glst, gst in zip(self.world.grade_lists, self.grade_state, strict=True):
            glst.step(gst, changed, np.full(len(changed), day, dtype=np.int64), out[changed], g)
        return out

    def _ostracise(self, grade: IntArray) -> None:
        n_grades = len(self.world.scorer.grade_names)
        low = (grade[: self.pop.n_persons] >= n_grades - 2) & self.scored[: self.pop.n_persons]
        c = self.contacts
        drop = low[c.indices] & (self.rng.random(len(c.indices)) < self.settings.ostracism)
        if drop.any():
            c.data[drop] = 0.0
            c.eliminate_zeros()

    def _lives(self, punished: BoolArray, rewarded: BoolArray) -> None:
        """Employment moves; under feedback, sanctions and rewards move it."""
        pop = self.pop
        loss = np.full(pop.n, JOB_LOSS)
        find = np.full(pop.n, JOB_FIND)
        if self.settings.feedback:
            loss = np.where(punished, loss * PUNISHED_JOB_LOSS, loss)
            find = np.where(punished, find / PUNISHED_JOB_FIND, find)
            loss = np.where(rewarded, loss * REWARD_JOB_LOSS, loss)
        u = self.rng.random(pop.n)
        lose = pop.labour_force & self.employed & (u < loss)
        gain = pop.labour_force & ~self.employed & (u < find)
        started = punished & ~self.prev_punished
        self.punished_run = np.where(punished, self.punished_run + 1, 0)
        self.lost_in_run = np.where(started, False, self.lost_in_run) & punished
        self.lost_in_run |= lose & punished
        self.employed = (self.employed & ~lose) | gain
        self.ever_spiral |= self._spiral()

    def _spiral(self) -> BoolArray:
        return (self.punished_run >= SPIRAL_MONTHS) & self.lost_in_run

    # ------------------------------------------------------------------------------ figures

    def run(self, progress: Callable[[int], None] | None = None) -> dict[str, Any]:
        """Every step's figures, plus the totals over the run."""
        steps = []
        for t in range(self.months):
            steps.append(self.step(t))
            if progress is not None:
                progress(1)
        return self.summary(steps)

    def summary(self, steps: list[dict[str, Any]]) -> dict[str, Any]:
        """Every step's figures with the totals over the run (:func:`~socialcredit.sim.figures.summary`)."""
        return figures.summary(self, steps)
