"""The rules kernel's operations on NumPy arrays: how the simulator evaluates it.

The simulator's compiled scores and lists (:mod:`socialcredit.sim.compiled`) build their arrays
with the formulas of :mod:`socialcredit.rules.kernel`, passing :data:`NP`. A null is ``None`` or
NaN (a half-life column of floats with NaN where an item has none).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from socialcredit.rules.ops import Ops


class NumpyOps:
    """NumPy arrays (and scalars, which broadcast)."""

    def where(self, cond: Any, then: Any, otherwise: Any) -> Any:
        return np.where(cond, then, otherwise)

    def cases(self, branches: Sequence[tuple[Any, Any]], default: Any) -> Any:
        if not branches:
            return default
        return np.select([c for c, _ in branches], [v for _, v in branches], default)

    def all(self, conds: Sequence[Any]) -> Any:
        return np.logical_and.reduce(conds) if conds else np.True_

    def any(self, conds: Sequence[Any]) -> Any:
        return np.logical_or.reduce(conds) if conds else np.False_

    def floor(self, x: Any) -> Any:
        return np.floor(x).astype(np.int64)

    def half_pow(self, exponent: Any) -> Any:
        return np.power(0.5, exponent)

    def to_float(self, x: Any) -> Any:
        return np.asarray(x, dtype=np.float64)

    def const(self, x: float) -> Any:
        return float(x)

    def if_null(self, x: Any, then: Any, otherwise: Callable[[Any], Any]) -> Any:
        if x is None:
            return then
        values = np.asarray(x, dtype=np.float64)
        null = np.isnan(values)
        return np.where(null, then, otherwise(np.where(null, 1.0, values)))


NP: Ops = NumpyOps()
"""The simulator's operations."""
