"""The operations the kernel's formulas need, and their plain-Python implementation.

Why an interface at all: ``+ - * /``, comparisons and ``& |`` already mean the same on Python
numbers, NumPy arrays and Ibis expressions, so a formula written with them runs on all three.
What they lack in common is a handful of operations (a conditional, a floor, a power, nulls),
which each evaluator supplies here: :data:`PY` for the per-subject walk (below), the simulator's
NumPy implementation in :mod:`socialcredit.sim.ops`, the engines' Ibis one in
:mod:`socialcredit.engines.ops`. The kernel never imports an evaluator's library.

Booleans are combined with ``&`` and ``|`` only (never ``and``/``or``/``not``, which Ibis and
NumPy cannot overload, and never ``~``, which is ``-2`` on a Python ``True``).

>>> PY.cases([(3 >= 5, "A"), (3 >= 2, "B")], "C"), PY.if_null(None, 7, lambda h: h * 2)
('B', 7)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, Protocol


class Ops(Protocol):
    """One evaluator's library, as the kernel's formulas use it. Values are ``Any``: a Python
    number, an array or an expression, whatever the evaluator computes with."""

    def where(self, cond: Any, then: Any, otherwise: Any) -> Any:
        """``then`` where ``cond`` holds, ``otherwise`` elsewhere."""
        ...

    def cases(self, branches: Sequence[tuple[Any, Any]], default: Any) -> Any:
        """The value of the first branch whose condition holds, ``default`` if none does."""
        ...

    def all(self, conds: Sequence[Any]) -> Any:
        """Every condition holds (true for none)."""
        ...

    def any(self, conds: Sequence[Any]) -> Any:
        """Some condition holds (false for none)."""
        ...

    def floor(self, x: Any) -> Any:
        """The largest whole number not above ``x``, as an integer."""
        ...

    def half_pow(self, exponent: Any) -> Any:
        """``0.5 ** exponent``, a float."""
        ...

    def to_float(self, x: Any) -> Any:
        """``x`` as a double."""
        ...

    def const(self, x: float) -> Any:
        """The double ``x``, evaluated to exactly ``x`` (a decimal literal may not be)."""
        ...

    def if_null(self, x: Any, then: Any, otherwise: Callable[[Any], Any]) -> Any:
        """``then`` where ``x`` is null (None, NaN, SQL NULL), else ``otherwise(x)``; ``otherwise``
        receives ``x`` with its nulls filled, so it may divide by it."""
        ...


class PythonOps:
    """The per-subject evaluator's operations: plain Python values."""

    def where(self, cond: Any, then: Any, otherwise: Any) -> Any:
        return then if cond else otherwise

    def cases(self, branches: Sequence[tuple[Any, Any]], default: Any) -> Any:
        for cond, value in branches:
            if cond:
                return value
        return default

    def all(self, conds: Sequence[Any]) -> Any:
        return all(conds)

    def any(self, conds: Sequence[Any]) -> Any:
        return any(conds)

    def floor(self, x: Any) -> Any:
        return math.floor(x)

    def half_pow(self, exponent: Any) -> Any:
        value: float = 0.5**exponent
        return value

    def to_float(self, x: Any) -> Any:
        return float(x)

    def const(self, x: float) -> Any:
        return float(x)

    def if_null(self, x: Any, then: Any, otherwise: Callable[[Any], Any]) -> Any:
        return then if x is None else otherwise(x)


PY: Ops = PythonOps()
"""Plain Python: what one subject's score, entries and decisions are computed with."""
