"""The rules kernel's operations on Ibis expressions: how the relational engines evaluate it.

Every relational definition (scores, tiers, factors, lists) builds its columns with the formulas
of :mod:`socialcredit.rules.kernel`, passing :data:`IBIS`, so DuckDB and Spark compute what the
per-subject walk computes, by the same expression.
"""

from __future__ import annotations

import datetime as dt
import functools
import operator
from collections.abc import Callable, Sequence
from typing import Any

import ibis
import ibis.expr.types as ir

from socialcredit.rules import days, kernel
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


def china_day(moment: ir.TimestampValue) -> ir.IntegerValue:
    """The day (days since 1970-01-01) a naive UTC timestamp column falls on in China: the
    kernel's :func:`~socialcredit.rules.kernel.local_day` over its whole seconds since 1970,
    which both engines take from a naive timestamp as UTC (Spark's session is pinned to UTC,
    ``engines.spark``)."""
    day: ir.IntegerValue = kernel.local_day(moment.epoch_seconds().cast("int64"), days.china(), IBIS)
    return day


EPOCH = dt.date(1970, 1, 1)
"""Day 0 of the engines' day numbers."""


def day_numbers(day: ir.DateValue) -> ir.IntegerValue:
    """A date as whole days since 1970-01-01: the walks' arithmetic is on integers, which both
    engines add and compare alike (date plus a column of days is spelt differently by each)."""
    days: ir.IntegerValue = day.delta(ibis.literal(EPOCH, type="date"), unit="day").cast("int64")
    return days


def dates(days: ir.IntegerValue) -> ir.DateValue:
    """Whole days since 1970-01-01 as a date."""
    # DuckDB's date + interval is a timestamp whatever Ibis believes: through a timestamp and
    # back, so a written file holds dates on both engines (Ibis drops a cast to the same type)
    moment = ibis.literal(EPOCH, type="date") + days.cast("int64").as_interval("D")
    out: ir.DateValue = moment.cast("timestamp").date()
    return out
