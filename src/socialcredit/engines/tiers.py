"""The tier model (Honest Shanghai, the enterprise rating) as one relational definition.

The rules are exactly those of :func:`socialcredit.scoring.tier.score_tier` (and
docs/decisions/0009-tier-and-factor-models.md), at a time ``as_of``:

1. the records read are those that count (:func:`socialcredit.engines.counting.counting`:
   effective, reported, within retention, decayed points) of the items some rule selects;
2. each condition selects, among them, the records whose catalogue item its selector matches
   (items, polarity, severities, areas: resolved from the scheme into item codes here, since the
   scheme is data known when the expression is built) and, with ``within_days``, whose age in
   whole days is below it; it holds when the number and the sum of points of those records meet
   every bound it gives;
3. a rule holds when all its ``all_of`` and (if it has any) one of its ``any_of`` conditions
   hold; the first rule in the written order that holds gives the tier, none the default;
4. ``score`` is the tier's level (0 = the lowest tier), ``grade`` the tier, as ``Score`` has them.

Who is rated: every subject whose kind the model rates (``TierModel.subjects``), records or not,
and, for an opt-in scheme (``Scheme.enrolment``), who has joined it (:func:`relational.only_enrolled`),
as :func:`socialcredit.scoring.scores_for` chooses. All tier schemes are rated in one scan of the
records (one aggregate with a column per condition), as the points definition does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import ibis
import ibis.expr.types as ir

from socialcredit.engines import relational
from socialcredit.engines.counting import counting, rated
from socialcredit.engines.ops import IBIS
from socialcredit.rules import kernel
from socialcredit.schemes.model import Condition, Scheme, TierModel


def _tiered(schemes: Sequence[Scheme]) -> list[tuple[Scheme, TierModel]]:
    out = []
    for s in schemes:
        if not isinstance(s.model, TierModel):
            raise ValueError(f"population_tiers rates tier models only; {s.id} has another model")
        out.append((s, s.model))
    if not out:
        raise ValueError("population_tiers needs at least one tier scheme")
    return out


def _conditions(model: TierModel) -> list[tuple[int, int, Condition]]:
    """Every condition of every rule as ``(rule index, condition index, condition)``, ``all_of``
    first, as :func:`socialcredit.scoring.tier._rule_holds` reads them."""
    return [(i, k, c) for i, r in enumerate(model.rules) for k, c in enumerate((*r.all_of, *r.any_of))]


def population_tiers(
    records: ir.Table,
    subjects: ir.Table,
    items: ir.Table,
    schemes: Sequence[Scheme],
    as_of: dt.datetime,
) -> ir.Table:
    """Every rated subject's tier under every tier scheme at ``as_of``, in
    :data:`relational.SCORE_SCHEMA` (``score`` is the tier's level).

    ``records`` are in :data:`relational.RECORD_SCHEMA` (an export), ``subjects`` ``code, kind``,
    and ``items`` is :func:`socialcredit.engines.counting.model_items` of ``schemes`` (not the
    points item table: a tier rule counts items without points) on the same backend."""
    tiered = _tiered(schemes)
    c = counting(records, items, as_of)
    c = c.filter(c.scheme.isin([s.id for s, _ in tiered]))
    grid = rated(subjects, [s for s, _ in tiered])
    scored = levels(c, grid, [s for s, _ in tiered], ["subject"])
    scored = scored.select("subject", "kind", "scheme", "score")
    graded = scored.mutate(grade=relational.grade_expr(scored.scheme, scored.score, [s for s, _ in tiered]))
    return relational.only_enrolled(graded, records, [s for s, _ in tiered], as_of)


def levels(read: ir.Table, grid: ir.Table, schemes: Sequence[Scheme], keys: Sequence[str]) -> ir.Table:
    """``grid`` with ``score``, the tier level (rules 2 to 4) of each of its rows, from the counting
    records ``read`` (``scheme, item, age, points`` and ``keys``) that share the row's ``scheme``
    and ``keys``: one aggregate with a column per condition.

    The keys say what a row is: a subject at ``as_of`` (:func:`population_tiers`: ``subject``), or
    a subject on one day of its history (:mod:`~socialcredit.engines.gradelists`:
    ``subject_no, day``, each record's age and points as of that day)."""
    tiered = _tiered(schemes)
    c = read
    aggs: dict[str, ir.Value] = {}
    names: dict[tuple[str, int, int], tuple[str, str]] = {}
    for n, (s, model) in enumerate(tiered):
        for i, k, cond in _conditions(model):
            codes = sorted(x.code for x in s.items if cond.of.matches(x))
            sel: ir.BooleanValue = (c.scheme == s.id) & (c.item.isin(codes) if codes else ibis.literal(False))
            if cond.within_days is not None:
                sel = sel & kernel.within(cond, c.age, IBIS)
            count, points = f"n_{n}_{i}_{k}", f"p_{n}_{i}_{k}"
            names[(s.id, i, k)] = (count, points)
            if cond.at_least is not None or cond.at_most is not None:
                aggs[count] = ibis.cases((sel, 1), else_=0).sum()
            if cond.points_at_least is not None or cond.points_at_most is not None:
                aggs[points] = ibis.cases((sel, c.points), else_=0).sum()
    # a view: a history's grid and records share their ancestry (Ibis tells the sides apart by views)
    totals = c.group_by("scheme", *keys).agg(**aggs).view()
    on = [grid.scheme == totals.scheme, *(grid[k] == totals[k] for k in keys)]
    j = grid.left_join(totals, on)
    t = j.select(
        *[grid[col] for col in grid.columns],
        **{name: totals[name].coalesce(0) for name in aggs},
    )

    def holds(sid: str, i: int, k: int, cond: Condition) -> ir.BooleanValue:
        count, points = names[(sid, i, k)]
        held: ir.BooleanValue = kernel.condition_holds(
            cond, t[count] if count in aggs else None, t[points] if points in aggs else None, IBIS
        )
        return held

    branches: list[tuple[ir.BooleanValue, ir.IntegerValue]] = []
    for s, model in tiered:
        rules_held = []
        for i, rule in enumerate(model.rules):
            held = [holds(s.id, i, k, c) for ii, k, c in _conditions(model) if ii == i]
            rules_held.append(kernel.rule_holds(rule, held, IBIS))
        branches.append((t.scheme == s.id, kernel.tier_level(model, rules_held, IBIS)))
    return t.select(*grid.columns, score=ibis.cases(*branches).cast("int64"))
