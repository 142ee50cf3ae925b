"""The relational form of each kind of scoring model, keyed as the core's one registry.

``scoring.dispatch.KINDS`` names every kind of model the per-subject evaluator runs; here each
kind has its population form (an Ibis definition run on DuckDB or Spark), under the same name.
``rescore`` looks a scheme's form up by its model's ``kind``, never by ``isinstance``, and
``tests/test_rules_fields.py`` checks every registered kind has a form here or is refused by the
engines' declaration (``engines/fields.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Protocol

import ibis.expr.types as ir
import pyarrow as pa

from socialcredit.engines import counting, factors, relational, tiers
from socialcredit.schemes.model import Scheme

Register = Callable[[pa.Table, str], ir.Table]
"""A backend's way to register a small Arrow table (``Engine.table``)."""


class RelationalForm(Protocol):
    """Every subject's score and grade under each of ``schemes`` (all of one kind) at ``as_of``,
    in :data:`relational.SCORE_SCHEMA`."""

    def __call__(
        self,
        records: ir.Table,
        subjects: ir.Table,
        register: Register,
        schemes: Sequence[Scheme],
        as_of: dt.datetime,
    ) -> ir.Table: ...


def _points(
    records: ir.Table, subjects: ir.Table, register: Register, schemes: Sequence[Scheme], as_of: dt.datetime
) -> ir.Table:
    items = register(relational.item_table(schemes), "items")
    ids = register(relational.scheme_table(schemes), "schemes")
    return relational.population_scores(records, subjects, items, ids, schemes, as_of)


def _tiers(
    records: ir.Table, subjects: ir.Table, register: Register, schemes: Sequence[Scheme], as_of: dt.datetime
) -> ir.Table:
    items = register(counting.model_items(schemes), "tier_items")
    return tiers.population_tiers(records, subjects, items, schemes, as_of)


def _factors(
    records: ir.Table, subjects: ir.Table, register: Register, schemes: Sequence[Scheme], as_of: dt.datetime
) -> ir.Table:
    items = register(counting.model_items(schemes), "factor_items")
    return factors.population_factors(records, subjects, items, schemes, as_of)


FORMS: Mapping[str, RelationalForm] = {"points": _points, "tier": _tiers, "factor": _factors}
"""The relational form of each kind, by the ``kind`` a scheme file names."""
