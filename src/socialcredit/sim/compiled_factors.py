"""The factor model compiled to arrays (Sesame Credit), for the simulator.

A subject's state is one running sum per counting factor: the (undecayed) points of the counting
records of the factor's items. The score is the kernel's: each sum mapped by the factor's
piecewise-linear map (:func:`~socialcredit.rules.kernel.mapped`), weighted, rounded half up and
clamped (:func:`~socialcredit.rules.kernel.factor_score`), on NumPy arrays, so it is the score
``scoring.factor.score_factor`` gives the same records (``tests/test_sim_parity.py``).

What is not compiled is refused by the simulator's declaration (``sim/fields.py``): decaying items,
and a relationships factor that counts (the simulator's ``--relationships`` setting blends
contacts' scores into any model instead).

>>> from socialcredit.schemes.loader import shipped_scheme
>>> cf = CompiledFactors.of(shipped_scheme("sesame"))
>>> cf.score_columns(np.zeros((2, cf.columns), dtype=np.int64)).tolist(), cf.grade_names[1]
([650, 650], 'very-good')
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from socialcredit.rules import kernel
from socialcredit.schemes.model import FactorModel, Grade, Scheme
from socialcredit.sim import columns
from socialcredit.sim.ops import NP

IntArray = npt.NDArray[np.int64]

__all__ = ["CompiledFactors"]


@dataclass(frozen=True)
class CompiledFactors:
    """A scheme's factor model over its catalogue: which counting factor each item feeds."""

    scheme: str
    model: FactorModel
    items: tuple[str, ...]
    points: IntArray
    windows: IntArray
    column: IntArray
    """Per catalogue item: the index of its counting items-factor in :attr:`factors`, or -1."""
    factors: tuple[str, ...]
    """The counting items-factors, one column of state each."""
    grade_names: tuple[str, ...]
    grade_defs: tuple[Grade, ...]

    @classmethod
    def of(cls, scheme: Scheme) -> CompiledFactors:
        model = scheme.model
        if not isinstance(model, FactorModel):
            raise ValueError(f"scheme {scheme.id} has no factor model")
        counted = [f for f in model.factors if f.counts and f.source == "items"]
        owner = {code: k for k, f in enumerate(counted) for code in f.items}
        return cls(
            scheme=scheme.id,
            model=model,
            items=tuple(i.code for i in scheme.items),
            points=np.array([i.points for i in scheme.items], dtype=np.int64),
            windows=np.array([i.counts_for_days for i in scheme.items], dtype=np.int64),
            column=np.array([owner.get(i.code, -1) for i in scheme.items], dtype=np.int64),
            factors=tuple(f.id for f in counted),
            grade_names=tuple(g.grade for g in model.grades),
            grade_defs=tuple(model.grades),
        )

    @property
    def columns(self) -> int:
        return len(self.factors)

    @property
    def base(self) -> int:
        """The score with no counting record."""
        return self.model.base

    @property
    def rates(self) -> tuple[str, ...]:
        """The kinds of subject the model rates (Sesame: persons)."""
        return tuple(self.model.subjects)

    def reindex(self, codes: tuple[str, ...] | list[str]) -> tuple[IntArray, IntArray]:
        """``(points, windows)`` over another item universe; items outside a counting factor add
        nothing (0 points, a window of one day)."""
        return columns.over(self.items, codes, self.column >= 0, self.points, self.windows)

    def column_feeds(
        self, codes: tuple[str, ...] | list[str]
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], IntArray]:
        """Which items feed each factor's column (their points, until they stop counting)."""
        idx = columns.positions(self.items, codes)
        col = np.where(idx >= 0, self.column[np.maximum(idx, 0)], -1)
        pts, _win = self.reindex(codes)
        return columns.point_feeds(np.where(pts != 0, col, -1), self.columns)

    def score_columns(self, raw: npt.ArrayLike) -> IntArray:
        """Scores from each subject's factor sums (subjects x :attr:`columns`)."""
        values = np.asarray(raw, dtype=np.float64)
        counted = [f for f in self.model.factors if f.counts and f.source == "items"]
        mapped = {f.id: kernel.mapped(values[:, k], f, NP) for k, f in enumerate(counted)}
        return np.asarray(kernel.factor_score(self.model, mapped, NP), dtype=np.int64)

    def grades(self, scores: npt.ArrayLike) -> IntArray:
        """Grade of each score as an index into :attr:`grade_names` (0 = the best grade)."""
        return columns.grade_indices(scores, self.grade_defs)

    def clip(self, scores: npt.ArrayLike) -> IntArray:
        """Scores held within ``minimum`` and ``maximum``."""
        value = kernel.clamp(np.asarray(scores, dtype=np.int64), self.model.minimum, self.model.maximum, NP)
        return np.asarray(value, dtype=np.int64)
