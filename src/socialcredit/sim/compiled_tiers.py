"""The tier model compiled to arrays (Honest Shanghai, the enterprise rating), for the simulator.

A subject's state is one running sum per column: for each condition of each rule, the number of
the records it selects and/or the sum of their (decayed) points, a record leaving the condition
``within_days`` after it occurred (or when it stops counting, whichever is first). The tier is
the kernel's: each condition's bounds (:func:`~socialcredit.rules.kernel.condition_holds`), each
rule's (:func:`~socialcredit.rules.kernel.rule_holds`), the first rule that holds
(:func:`~socialcredit.rules.kernel.tier_level`), on NumPy arrays, so it is the tier
``scoring.tier.score_tier`` gives the same records (``tests/test_sim_parity.py``).

>>> from socialcredit.schemes.loader import shipped_scheme
>>> ct = CompiledTiers.of(shipped_scheme("honest-shanghai"))
>>> [ct.grade_names[g] for g in ct.grades(ct.score_columns(np.zeros((1, ct.columns), dtype=np.int64)))]
['good']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from socialcredit.rules import kernel
from socialcredit.schemes.model import Condition, Grade, Scheme, TierModel
from socialcredit.sim import columns
from socialcredit.sim.ops import NP

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

__all__ = ["CompiledTiers"]


@dataclass(frozen=True)
class Column:
    """One running sum of a condition: its records' count or their points."""

    items: frozenset[str]
    counts: bool
    within: int | None


@dataclass(frozen=True)
class CompiledTiers:
    """A scheme's tier model as columns of condition sums."""

    scheme: str
    model: TierModel
    items: tuple[str, ...]
    points: IntArray
    windows: IntArray
    specs: tuple[Column, ...]
    conditions: tuple[tuple[int, Condition, int | None, int | None], ...]
    """Each condition as (rule index, condition, its count column, its points column)."""
    grade_names: tuple[str, ...]
    grade_defs: tuple[Grade, ...]

    @classmethod
    def of(cls, scheme: Scheme) -> CompiledTiers:
        model = scheme.model
        if not isinstance(model, TierModel):
            raise ValueError(f"scheme {scheme.id} has no tier model")
        specs: list[Column] = []
        conditions = []
        for i, rule in enumerate(model.rules):
            for cond in (*rule.all_of, *rule.any_of):
                read = frozenset(x.code for x in scheme.items if cond.of.matches(x))
                count = points = None
                if cond.at_least is not None or cond.at_most is not None:
                    count = len(specs)
                    specs.append(Column(read, True, cond.within_days))
                if cond.points_at_least is not None or cond.points_at_most is not None:
                    points = len(specs)
                    specs.append(Column(read, False, cond.within_days))
                conditions.append((i, cond, count, points))
        return cls(
            scheme=scheme.id,
            model=model,
            items=tuple(i.code for i in scheme.items),
            points=np.array([i.points for i in scheme.items], dtype=np.int64),
            windows=np.array([i.counts_for_days for i in scheme.items], dtype=np.int64),
            specs=tuple(specs),
            conditions=tuple(conditions),
            grade_names=tuple(t.tier for t in model.tiers),
            grade_defs=tuple(model.grades),
        )

    @property
    def columns(self) -> int:
        return len(self.specs)

    @property
    def base(self) -> int:
        """The default tier's level: no rule holds without records."""
        return self.model.base

    @property
    def rates(self) -> tuple[str, ...]:
        return tuple(self.model.subjects)

    def reindex(self, codes: tuple[str, ...] | list[str]) -> tuple[IntArray, IntArray]:
        """``(points, windows)`` over another item universe (items no rule reads: 0, one day)."""
        read = np.array([any(c in s.items for s in self.specs) for c in self.items], dtype=np.bool_)
        return columns.over(self.items, codes, read, self.points, self.windows)

    def column_feeds(self, codes: tuple[str, ...] | list[str]) -> tuple[BoolArray, BoolArray, IntArray]:
        """Which items feed each column, whether it counts records, and after how many days a
        record leaves it (0: when it stops counting)."""
        feeds = np.array([[c in s.items for c in codes] for s in self.specs], dtype=np.bool_)
        counts = np.array([s.counts for s in self.specs], dtype=np.bool_)
        within = np.array([s.within or 0 for s in self.specs], dtype=np.int64)
        return feeds.reshape(len(self.specs), len(codes)), counts, within

    def score_columns(self, raw: npt.ArrayLike) -> IntArray:
        """Tier levels (0 = the lowest tier) from the condition sums."""
        sums = np.asarray(raw, dtype=np.int64)
        held: list[list[object]] = [[] for _ in self.model.rules]
        for i, cond, count, points in self.conditions:
            n = sums[:, count] if count is not None else None
            total = sums[:, points] if points is not None else None
            held[i].append(np.broadcast_to(kernel.condition_holds(cond, n, total, NP), (len(sums),)))
        rules = [kernel.rule_holds(r, h, NP) for r, h in zip(self.model.rules, held, strict=True)]
        level = kernel.tier_level(self.model, rules, NP)
        return np.broadcast_to(np.asarray(level, dtype=np.int64), (len(sums),)).copy()

    def grades(self, scores: npt.ArrayLike) -> IntArray:
        return columns.grade_indices(scores, self.grade_defs)

    def clip(self, scores: npt.ArrayLike) -> IntArray:
        top = len(self.model.tiers) - 1
        return np.asarray(kernel.clamp(np.asarray(scores, dtype=np.int64), 0, top, NP), dtype=np.int64)
