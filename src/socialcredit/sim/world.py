"""The compiled scenario a simulation runs in, and the records of a step.

:class:`World` is the scheme files compiled once: the chosen scored scheme's model (a scorer of
its kind, ``sim/scorers.py``), every item in force with its points, window, state column and
decay schedule, the sources, the item and grade lists and the measures, all checked first against
the simulator's declaration of what it reads (``sim/fields.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from socialcredit.rules import kernel
from socialcredit.schemes.loader import Registry
from socialcredit.schemes.model import Scheme
from socialcredit.sim.compiled_lists import CompiledGradeList, CompiledItemList, CompiledMeasure
from socialcredit.sim.fields import FORMED, SIMULATOR
from socialcredit.sim.ops import NP
from socialcredit.sim.scenario import Settings, scenario_registry
from socialcredit.sim.scorers import Scorer, compile_scorer

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

COMPILED: dict[str, type[CompiledItemList] | type[CompiledGradeList]] = {
    "items": CompiledItemList,
    "grade": CompiledGradeList,
}
"""The vector form of each kind of list criterion, by ``by``; a list of a kind without one is left
out by name, with the measures it triggers (``sim.fields.FORMED``, the same kinds; ``World.skipped``)."""
assert COMPILED.keys() == FORMED, "sim.fields.FORMED names the kinds of criterion COMPILED compiles"


@dataclass
class Records:
    """The records of one step, in ledger order."""

    agent: IntArray
    item: IntArray
    source: IntArray
    wrong: BoolArray
    fabricated: BoolArray

    @classmethod
    def concat(cls, parts: Sequence[Records]) -> Records:
        return cls(
            np.concatenate([p.agent for p in parts]),
            np.concatenate([p.item for p in parts]),
            np.concatenate([p.source for p in parts]),
            np.concatenate([p.wrong for p in parts]),
            np.concatenate([p.fabricated for p in parts]),
        )


@dataclass
class Trace:
    """Everything about a few subjects, to replay them through the live code."""

    agents: IntArray
    records: list[tuple[int, int, int, int]] = field(default_factory=list)
    """(agent, item index, day ordinal, seq) of every record about a traced subject."""
    scores: list[IntArray] = field(default_factory=list)
    scored: list[BoolArray] = field(default_factory=list)
    """Whether each traced subject had a score then (rated, and joined an opt-in scheme)."""
    active: list[BoolArray] = field(default_factory=list)
    applied: list[BoolArray] = field(default_factory=list)


@dataclass
class World:
    """The compiled scenario: items, sources, lists and measures as arrays."""

    registry: Registry
    scheme: Scheme
    scorer: Scorer
    items: tuple[str, ...]
    item_points: IntArray
    item_windows: IntArray
    feeds: BoolArray
    """Columns x items: which items' records feed each column of the scorer's state."""
    counts: BoolArray
    """Per column: it counts records (else it sums their points, decayed)."""
    within: IntArray
    """Per column: days after it occurred that a record leaves it (0: when it stops counting)."""
    decay: dict[int, IntArray]
    """For each scoring item with a half-life: its whole points at each age while it counts
    (the kernel's :func:`~socialcredit.rules.kernel.decayed`), so a record's decay is a few
    scheduled changes, on the exact days the live score changes."""
    item_sources: list[tuple[int, ...]]
    sources: tuple[str, ...]
    item_lists: list[CompiledItemList]
    grade_lists: list[CompiledGradeList]
    measures: list[CompiledMeasure]
    skipped: dict[str, str] = field(default_factory=dict)
    """Lists (``scheme/list``) and measures (by id) left out, with the reason naming the field:
    a list by a kind of criterion with no vector form, and the measures it triggers (decision
    0063). The rest of their schemes is simulated."""

    @property
    def list_kinds(self) -> list[str]:
        return [x.kind for x in self.item_lists] + [x.kind for x in self.grade_lists]

    @property
    def list_ids(self) -> list[str]:
        return [x.qualified_id for x in self.item_lists] + [x.qualified_id for x in self.grade_lists]

    @classmethod
    def of(cls, schemes: Sequence[Scheme], settings: Settings, day: dt.date | None = None) -> World:
        """The world of the versions in force on ``day`` (None: the newest of each scheme given;
        several versions of a scheme: ``sim/versions.py``)."""
        registry = scenario_registry(schemes, settings)
        skipped: dict[str, str] = {}
        for s in registry.kept:
            SIMULATOR.check(s)  # a field it would otherwise ignore is refused, by name
            skipped.update(SIMULATOR.skipped(s))  # a list it has no form of is left out, by name
        if day is not None:
            registry = registry.at(day)
        scheme = registry.scheme(settings.scheme)
        scorer = compile_scorer(scheme)
        items = tuple(sorted(registry.items()))
        pts, win = scorer.reindex(items)
        decay = {}
        for k, code in enumerate(items):
            item = scheme.item(code)
            if item is not None and item.half_life_days is not None and pts[k] != 0:
                ages = np.arange(int(win[k]), dtype=np.int64)
                decay[k] = np.asarray(kernel.decayed(int(pts[k]), ages, float(item.half_life_days), NP))
        sources = tuple(sorted({s for it in registry.items().values() for s in it.sources}))
        item_sources = [tuple(sources.index(s) for s in registry.items()[c].sources) for c in items]
        item_lists, grade_lists = [], []
        for s, lst in registry.lists():  # each kind of criterion by its vector form (COMPILED)
            if f"{s.id}/{lst.id}" in skipped:
                continue
            if COMPILED[lst.criteria.by] is CompiledItemList:
                item_lists.append(CompiledItemList.of(s, lst, items))
            else:
                grade_lists.append(CompiledGradeList.of(s, lst))
        order = [x.qualified_id for x in item_lists] + [x.qualified_id for x in grade_lists]
        measures = []
        for m in registry.measures().values():
            left = [x for x in m.trigger.lists if x in skipped]
            if left:  # a measure on a list left out would apply to nobody for it: left out too
                skipped[m.id] = f"measure {m.id} is triggered by list {left[0]}, left out: {skipped[left[0]]}"
            else:
                measures.append(CompiledMeasure.of(m, order, scorer))
        return cls(
            registry,
            scheme,
            scorer,
            items,
            pts,
            win,
            *scorer.column_feeds(items),
            decay,
            item_sources,
            sources,
            item_lists,
            grade_lists,
            measures,
            skipped,
        )
