"""A simulation across a change of version: each month under the versions in force that month.

Why here and this way (decision 0064): the per-subject evaluator answers each day under the
version in force that day, over the whole history (a score, a grade, a grade list), except that a
list whose rules changed with ``earlier_listings: stay-ended`` is walked in segments
(``schemes/segments.py``, decision 0051): an entry made under the old version keeps the period and
removal grounds that version set, and the new version judges only grounds reported from its
``effective_from`` on. The simulator keeps running sums and per-list state compiled from one
version, so at the first month a new version is in force (:func:`switch`) it

- compiles the new version's world (``World.of`` on that day) and checks that it simulates the
  same things (items, sources, lists, grades, measures), refusing by name a change that does not;
- rebuilds the score state (the running sums, the changes scheduled ahead, the grade lists) by
  replaying the months so far from a log of their records under the new rules: that is what
  "each day answered by its version over the whole history" means for a running sum;
- keeps each item list the change leaves as it was, state and all, and turns each list it changes
  into a :class:`SegmentedItemList`: the old version's list, closed (it opens nothing more, but its
  entries still end by its removal records and extension decisions), beside the new version's,
  fed from the change on.

The log (each month's records, the day each stops counting for a reason other than its window,
and who was scored) is kept only when a change lies ahead.

Behaviour follows the version in force (decision 0072): from the month of the change, records are
drawn at the new version's base rates (``Item.base_rate_per_year``, what the version says its
items typically occur at), its items that remove a listing are the fulfilment drawn, and its
restoration rule applies to the records drawn from then on (``sim/behaviour.py``). The population
itself (propensities, employment, who buys on the black market and which item) stays as it was:
people do not change when the rules do.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from socialcredit.i18n import N_
from socialcredit.schemes.loader import SchemeError
from socialcredit.schemes.model import Scheme
from socialcredit.schemes.segments import list_segments
from socialcredit.sim import optin
from socialcredit.sim.compiled_lists import FOREVER, CompiledItemList, GradeListState, ItemListState
from socialcredit.sim.scenario import Settings, scenario_registry
from socialcredit.sim.world import Records, World

if TYPE_CHECKING:  # the simulation imports this module
    from socialcredit.sim.engine import Simulation

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

Logged = tuple[Records, IntArray, BoolArray]
"""A month's records, the day each stops counting for a reason other than its window (a
correction, a restoration; :data:`FOREVER`: none), and who was scored after them."""


@dataclass
class Versions:
    """The worlds of a run: the first month's, and each later month whose versions differ."""

    first: World
    changes: dict[int, World]
    in_force: list[dict[str, str]]
    """The version of each scheme in the world, month by month (what the report shows)."""

    def world_at(self, t: int) -> World:
        """The compiled world of the versions in force in month ``t``."""
        found = self.first
        for start in sorted(self.changes):
            if start <= t:
                found = self.changes[start]
        return found


def timeline(schemes: Sequence[Scheme], settings: Settings, days: IntArray, months: int) -> Versions:
    """The worlds of the ``months`` starting on ``days`` (ordinals): with one version of each
    scheme given, that one throughout, as ever; with several, each month under those in force on
    its first day (the day its records are reported)."""
    full = scenario_registry(schemes, settings)
    if all(len(full.versions(sid)) <= 1 for sid in full.timeline):
        world = World.of(schemes, settings)
        return Versions(world, {}, [{s.id: s.version for s in world.registry.schemes.values()}] * months)
    on = [dt.date.fromordinal(int(d)) for d in days[:months]]
    first = current = World.of(schemes, settings, on[0])
    found = Versions(first, {}, [full.in_force(on[0])])
    for t in range(1, months):
        now = full.in_force(on[t])
        if now != found.in_force[-1]:
            world = World.of(schemes, settings, on[t])
            _compatible(current, world, found.in_force[-1], now, on[t])
            found.changes[t] = current = world
        found.in_force.append(now)
    if found.changes and settings.relationships > 0:
        raise SchemeError(
            N_(
                "relationships: a scheme changes version within the simulated months, and the "
                "relationships factor is not replayed across a change of version"
            )
        )
    return found


def _compatible(old: World, new: World, was: dict[str, str], now: dict[str, str], day: dt.date) -> None:
    """Refuse, by name, a change of version the simulator cannot carry its state across."""
    changed = ", ".join(f"{sid} {was.get(sid, '-')} -> {v}" for sid, v in now.items() if was.get(sid) != v)
    what = [
        ("items", old.items, new.items),
        ("sources", old.sources, new.sources),
        ("lists", old.list_ids, new.list_ids),
        ("grades", old.scorer.grade_names, new.scorer.grade_names),
        ("measures", [m.id for m in old.measures], [m.id for m in new.measures]),
        ("subjects rated", sorted(old.scorer.rates), sorted(new.scorer.rates)),
        ("enrolment", old.scheme.enrolment, new.scheme.enrolment),
    ]
    for name, before, after in what:
        if before != after:
            raise SchemeError(
                N_(
                    "{changed} on {day}: the new version changes the {what} simulated ({before} -> "
                    "{after}); the simulator carries a run across a change of rules, not of what "
                    "is simulated",
                    changed=changed,
                    day=day.isoformat(),
                    what=name,
                    before=before,
                    after=after,
                )
            )


def logged(sim: Simulation, day: int, rec: Records, end: IntArray) -> Logged:
    """A month's entry in the log (:data:`Logged`), its records' window ends left out."""
    cut = np.where(end < day + sim.world.item_windows[rec.item], end, FOREVER)
    return rec, cut, sim.scored.copy()


@dataclass(frozen=True)
class SegmentedItemList(CompiledItemList):
    """A list whose rules changed with earlier listings staying ended: the new version's list
    (this one's own fields and tracks) beside the earlier versions' lists, ``closed`` (latest
    first). A subject is on it by an entry of any of them. The state holds this list's tracks,
    then each closed list's, in order."""

    closed: tuple[CompiledItemList, ...] = ()

    def _parts(self, state: ItemListState) -> list[tuple[CompiledItemList, ItemListState]]:
        at = len(self.tracks)
        out = [(_plain(self), ItemListState(state.tracks[:at]))]
        for c in self.closed:
            out.append((c, ItemListState(state.tracks[at : at + len(c.tracks)])))
            at += len(c.tracks)
        return out

    def empty(self, n: int) -> ItemListState:
        return ItemListState([ts for lst in (_plain(self), *self.closed) for ts in lst.empty(n).tracks])

    def step(
        self,
        state: ItemListState,
        agent: IntArray,
        day: IntArray,
        item: IntArray,
        wrong: BoolArray,
        seq: IntArray | None = None,
    ) -> None:
        for lst, part in self._parts(state):
            lst.step(part, agent, day, item, wrong, seq)
            _count(state, part)

    def close_wrong(self, state: ItemListState, who: IntArray) -> None:
        for lst, part in self._parts(state):
            lst.close_wrong(part, who)
            _count(state, part)

    def active(self, state: ItemListState, day: int) -> BoolArray:
        return _either([lst.active(part, day) for lst, part in self._parts(state)])

    def active_rightly(self, state: ItemListState, day: int) -> BoolArray:
        return _either([lst.active_rightly(part, day) for lst, part in self._parts(state)])

    def pending_notice(self, state: ItemListState, day: int) -> BoolArray:
        return _either([lst.pending_notice(part, day) for lst, part in self._parts(state)])


def _either(parts: Sequence[BoolArray]) -> BoolArray:
    out = parts[0].copy()
    for p in parts[1:]:
        out |= p
    return out


def _count(state: ItemListState, part: ItemListState) -> None:
    state.opened += part.opened
    state.extended += part.extended
    state.removed += part.removed
    state.expired += part.expired


def _plain(lst: CompiledItemList) -> CompiledItemList:
    """``lst``'s own list, without the closed ones beside it."""
    return CompiledItemList(**{f.name: getattr(lst, f.name) for f in dataclasses.fields(CompiledItemList)})


def _closing(lst: CompiledItemList) -> CompiledItemList:
    """``lst`` as a segment that ended: its grounds open and extend nothing more (those that are
    also extension decisions still extend), its removal records and extension decisions still
    act (``criteria.items._in_segment``)."""
    tracks = tuple(dataclasses.replace(ct, grounds=ct.grounds & ct.extension) for ct in lst.tracks)
    return dataclasses.replace(_plain(lst), tracks=tracks)


def _segmented(new: CompiledItemList, before: CompiledItemList) -> SegmentedItemList:
    earlier = before.closed if isinstance(before, SegmentedItemList) else ()
    own = {f.name: getattr(new, f.name) for f in dataclasses.fields(CompiledItemList)}
    own |= {"grounds": new.grounds | before.grounds, "removal": new.removal | before.removal}
    return SegmentedItemList(**own, closed=(_closing(before), *earlier))


def switch(sim: Simulation, t: int, world: World) -> None:
    """Carry ``sim`` into month ``t`` under ``world`` (see the module docstring)."""
    n = sim.pop.n
    lists: list[CompiledItemList] = []
    states: list[ItemListState] = []
    for before, state, new in zip(sim.world.item_lists, sim.item_state, world.item_lists, strict=True):
        if before.definition.model_dump() == new.definition.model_dump():
            lists.append(before)
            states.append(state)
            continue
        sid, _, lid = new.qualified_id.partition("/")
        if len(list_segments(world.registry, world.registry.scheme(sid), lid)) < 2:
            raise SchemeError(
                N_(
                    "{list}: changed on {day} without keeping earlier listings (stay-ended): not simulated",
                    list=new.qualified_id,
                    day=dt.date.fromordinal(int(sim.days[t])).isoformat(),
                )
            )
        lists.append(_segmented(new, before))
        states.append(ItemListState(new.empty(n).tracks + state.tracks))
    sim.world = dataclasses.replace(world, item_lists=lists)
    sim.item_state = states
    sim.behave(sim.world)  # from this month on, the new version's base rates (decision 0072)
    # the score state: every month so far again, under the new rules
    sim.raw, sim.wrong_raw, sim.fab_raw = (np.zeros((n, world.scorer.columns), dtype=np.int64) for _ in "abc")
    sim.expiries = {}
    sim.grade_state = [GradeListState.empty(n) for _ in world.grade_lists]
    scored = sim.scored
    for month, (rec, cut, joined) in enumerate(sim.log or []):
        day = int(sim.days[month])
        sim.scored = joined
        fed, fed_end = optin.cut(sim, rec, np.minimum(day + world.item_windows[rec.item], cut))
        sim.feed(month, day, fed, fed_end)
    sim.scored = scored
