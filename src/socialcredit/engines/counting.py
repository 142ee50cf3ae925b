"""The records a tier or factor model reads, as one relational definition shared by both.

This is :func:`socialcredit.scoring.records.counting` for a whole population: a record counts
from the day it occurred, once reported, until ``counts_for_days`` after it, worth its item's
points decayed by ``half_life_days`` (rounded half up to whole points). The rule is the same for
every model (docs/decisions/0009-tier-and-factor-models.md), so the tier and factor definitions
(:mod:`~socialcredit.engines.tiers`, :mod:`~socialcredit.engines.factors`) both read records
only through :func:`counting`.

The arithmetic is :func:`socialcredit.engines.relational.contributions`'s, over another item
table: the points model skips items without points (they cannot move a points score), while a
tier rule counts them ("any serious negative record"), so :func:`model_items` keeps them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from socialcredit.engines import relational
from socialcredit.schemes.model import FactorModel, Scheme, TierModel


def items_read(scheme: Scheme) -> set[str]:
    """The catalogue items a tier or factor model reads, as the per-subject path reads them:
    a tier model every item some rule selects, a factor model every item of every factor."""
    model = scheme.model
    if isinstance(model, TierModel):
        return model.items_read(scheme)
    if isinstance(model, FactorModel):
        return {code for f in model.factors for code in f.items}
    raise ValueError(f"scheme {scheme.id} has no tier or factor model")


def model_items(schemes: Sequence[Scheme]) -> pa.Table:
    """The items each tier or factor model reads, in :data:`relational.ITEM_SCHEMA`, including
    items without points (a tier rule may count them). Register it on a backend with
    ``Engine.table(model_items(schemes), "model_items")``."""
    rows = [(s.id, s.item_index[code]) for s in schemes for code in sorted(items_read(s))]
    return pa.table(
        {
            "scheme": [sid for sid, _ in rows],
            "item": [i.code for _, i in rows],
            "points": [i.points for _, i in rows],
            "counts_for_days": [i.counts_for_days for _, i in rows],
            "half_life_days": [i.half_life_days for _, i in rows],
        },
        schema=relational.ITEM_SCHEMA,
    )


def counting(records: ir.Table, items: ir.Table, as_of: dt.datetime) -> ir.Table:
    """Each record in force at ``as_of`` that counts under each scheme of ``items``:
    ``scheme, subject, record_id, item, occurred_on, age, points`` (``age`` in whole days,
    ``points`` decayed), as :func:`socialcredit.scoring.records.counting` gives them."""
    c = relational.contributions(records, items, as_of)
    return c.select("scheme", "subject", "record_id", "item", "occurred_on", "age", "points")


def rated(subjects: ir.Table, schemes: Iterable[Scheme]) -> ir.Table:
    """``subject, kind, scheme``: each subject once for each scheme whose model rates its kind
    (the enterprise rating rates organisations only), as ``scoring.scores_for`` chooses them."""
    parts = []
    for s in schemes:
        assert isinstance(s.model, TierModel | FactorModel)
        kinds = list(s.model.subjects)
        part = subjects.filter(subjects.kind.isin(kinds))
        parts.append(part.select(subject=part.code, kind=part.kind, scheme=ibis.literal(s.id, type="string")))
    if not parts:
        raise ValueError("no schemes to rate")
    return ibis.union(*parts, distinct=False)
