"""The vector form of each kind of scoring model, for the simulator, keyed as the core registry.

The simulator keeps, per subject, one running sum per column of a model's state (the points; a
factor model's factor sums; a tier model's condition counts and sums, each over its window) and
asks the model for scores and grades from them. Each kind the
per-subject evaluator registers (``scoring.dispatch.KINDS``) has its form here under the same
name, or is refused by the simulator's declaration (``sim/fields.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

import numpy as np
import numpy.typing as npt

from socialcredit.schemes.model import Scheme
from socialcredit.sim.compiled_factors import CompiledFactors
from socialcredit.sim.compiled_points import CompiledPoints
from socialcredit.sim.compiled_tiers import CompiledTiers

IntArray = npt.NDArray[np.int64]


class Scorer(Protocol):
    """A compiled scoring model over running sums."""

    @property
    def scheme(self) -> str: ...

    @property
    def grade_names(self) -> tuple[str, ...]: ...

    @property
    def columns(self) -> int:
        """How many running sums a subject's state holds."""
        ...

    @property
    def base(self) -> int:
        """The score with no counting record."""
        ...

    @property
    def rates(self) -> tuple[str, ...]:
        """The kinds of subject the model scores."""
        ...

    def reindex(self, codes: tuple[str, ...] | list[str]) -> tuple[IntArray, IntArray]:
        """``(points, windows)`` of each item of another universe (0 points: no effect)."""
        ...

    def column_feeds(
        self, codes: tuple[str, ...] | list[str]
    ) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_], IntArray]:
        """Over another item universe: which items' records feed each column (columns x items),
        whether a column counts records (else it sums their points, decayed), and how many days
        after it occurred a record leaves a column (0: when it stops counting)."""
        ...

    def score_columns(self, raw: npt.ArrayLike) -> IntArray:
        """Scores from the running sums (subjects x :attr:`columns`)."""
        ...

    def grades(self, scores: npt.ArrayLike) -> IntArray:
        """Grade indices (0 = best) of scores."""
        ...

    def clip(self, scores: npt.ArrayLike) -> IntArray:
        """Scores held within the model's bounds."""
        ...


VECTOR_FORMS: Mapping[str, Callable[[Scheme], Scorer]] = {
    "points": CompiledPoints.of,
    "factor": CompiledFactors.of,
    "tier": CompiledTiers.of,
}
"""The simulator's form of each kind of model, by the ``kind`` a scheme file names."""


def compile_scorer(scheme: Scheme) -> Scorer:
    """The vector form of ``scheme``'s model (ValueError for a kind without one)."""
    if scheme.model is None:
        raise ValueError(f"scheme {scheme.id} has no scoring model")
    form = VECTOR_FORMS.get(scheme.model.kind)
    if form is None:
        raise ValueError(f"the simulator has no vector form of {scheme.model.kind} models")
    return form(scheme)
