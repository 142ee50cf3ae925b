"""The rules kernel's operations on Ibis expressions: how the relational engines evaluate it.

Every relational definition (scores, tiers, factors, lists) builds its columns with the formulas
of :mod:`socialcredit.rules.kernel`, passing :data:`IBIS`, so DuckDB and Spark compute what the
per-subject walk computes, by the same expression.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Sequence
from typing import Any

import ibis
import ibis.expr.types as ir

from socialcredit.rules.ops import Ops


def exact(x: float) -> ir.FloatingValue:
    """The double ``x`` as an expression both engines evaluate to exactly ``x``.

    Why not a plain literal: DuckDB and Spark read ``0.1`` as a DECIMAL and convert it to a double
    themselves, and a 17-digit decimal can convert to a neighbouring double. ``x`` is written as
    ``n / 2**k`` with whole ``n`` and ``k`` (:meth:`float.as_integer_ratio`): both are exact
    doubles, and so is their quotient."""
    n, d = float(x).as_integer_ratio()
    value = ibis.literal(n, type="int64").cast("float64")
    if d == 1:
        return value
    return value / ibis.literal(d, type="int64").cast("float64")


class IbisOps:
    """Ibis expressions (any backend)."""

    def where(self, cond: Any, then: Any, otherwise: Any) -> Any:
        return ibis.cases((cond, then), else_=otherwise)

    def cases(self, branches: Sequence[tuple[Any, Any]], default: Any) -> Any:
        if not branches:
            return ibis.literal(default)
        return ibis.cases(*branches, else_=default)

    def all(self, conds: Sequence[Any]) -> Any:
        return functools.reduce(operator.and_, conds) if conds else ibis.literal(True)

    def any(self, conds: Sequence[Any]) -> Any:
        return functools.reduce(operator.or_, conds) if conds else ibis.literal(False)

    def floor(self, x: Any) -> Any:
        return x.floor().cast("int64")

    def half_pow(self, exponent: Any) -> Any:
        return ibis.literal(0.5).pow(exponent)

    def to_float(self, x: Any) -> Any:
        return x.cast("float64")

    def const(self, x: float) -> Any:
        return exact(x)

    def if_null(self, x: Any, then: Any, otherwise: Callable[[Any], Any]) -> Any:
        return ibis.cases((x.isnull(), then), else_=otherwise(x))


IBIS: Ops = IbisOps()
"""The engines' operations."""
