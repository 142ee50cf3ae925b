"""The factor model (Sesame) as one relational definition, for the subjects who joined.

The rules are exactly those of :func:`socialcredit.scoring.factor.score_factor` and
:func:`socialcredit.scoring.dispatch.enrolled`, at a time ``as_of``:

1. who is scored: every subject whose kind the model rates and, for an opt-in scheme
   (``Scheme.enrolment``), whose latest enrolment or withdrawal record in force (latest by
   ``reported_at``, then ledger position) is an enrolment; nobody else gets a row;
2. a factor's value is the sum of the (decayed) points of its items' counting records
   (:func:`socialcredit.engines.counting.counting`);
3. the scheme's piecewise-linear map turns it into [0, 1] (the first segment that holds the value,
   the end's value beyond the ends); a factor that counts is worth
   ``(maximum - minimum) * weight * mapped / total weight``; the score is ``minimum`` plus the
   factors' worth in the order written, rounded half up, clamped; the grade by threshold.

Identical answers in floating point: the map and the score are the kernel's
(:func:`~socialcredit.rules.kernel.mapped`, :func:`~socialcredit.rules.kernel.factor_score`),
every constant an exact double (:func:`~socialcredit.engines.ops.exact`), so both engines perform
the same IEEE operations as the per-subject path and round the same way;
``tests/test_engines_models.py`` holds them to it.

Not relational: the relationships factor (``source: contacts``). Its value is the mean score of
a subject's declared contacts, which no store or export keeps (a caller passes them), so a scheme
in which it counts is refused with a :class:`ValueError` naming the scheme; in ``sesame`` it is
off, as the linter requires.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import ibis
import ibis.expr.types as ir

from socialcredit.engines import relational
from socialcredit.engines.counting import counting, rated
from socialcredit.engines.fields import RELATIONAL
from socialcredit.engines.ops import IBIS
from socialcredit.rules import kernel
from socialcredit.schemes.model import FactorModel, Scheme


def _factored(schemes: Sequence[Scheme]) -> list[tuple[Scheme, FactorModel]]:
    out = []
    for s in schemes:
        if not isinstance(s.model, FactorModel):
            raise ValueError(f"population_factors scores factor models only; {s.id} has another model")
        RELATIONAL.check(s)  # the relationships factor, named
        out.append((s, s.model))
    if not out:
        raise ValueError("population_factors needs at least one factor scheme")
    return out


def scores(read: ir.Table, grid: ir.Table, schemes: Sequence[Scheme], keys: Sequence[str]) -> ir.Table:
    """``grid`` with ``score``, the factor score (rules 2 and 3) of each of its rows, from the
    counting records ``read`` (``scheme, item, points`` and ``keys``) that share the row's
    ``scheme`` and ``keys``: one aggregate with a column per factor.

    The keys say what a row is: a subject at ``as_of`` (:func:`population_factors`: ``subject``),
    or a subject on one day of its history (:mod:`~socialcredit.engines.gradelists`:
    ``subject_no, day``, each record's points decayed as of that day)."""
    factored = _factored(schemes)
    c = read
    aggs: dict[str, ir.Value] = {}
    for n, (s, model) in enumerate(factored):
        for k, f in enumerate(model.factors):
            if f.counts:
                sel = (c.scheme == s.id) & c.item.isin(f.items)
                aggs[f"v_{n}_{k}"] = ibis.cases((sel, c.points), else_=0).sum()
    # a view: a history's grid and records share their ancestry (Ibis tells the sides apart by views)
    totals = c.group_by("scheme", *keys).agg(**aggs).view()
    on = [grid.scheme == totals.scheme, *(grid[k] == totals[k] for k in keys)]
    j = grid.left_join(totals, on)
    t = j.select(
        *[grid[col] for col in grid.columns],
        **{name: totals[name].coalesce(0).cast("float64") for name in aggs},
    )
    branches: list[tuple[ir.BooleanValue, ir.IntegerValue]] = []
    for n, (s, model) in enumerate(factored):
        mapped = {
            f.id: kernel.mapped(t[f"v_{n}_{k}"], f, IBIS) for k, f in enumerate(model.factors) if f.counts
        }
        branches.append((t.scheme == s.id, kernel.factor_score(model, mapped, IBIS)))
    return t.select(*grid.columns, score=ibis.cases(*branches).cast("int64"))


def population_factors(
    records: ir.Table,
    subjects: ir.Table,
    items: ir.Table,
    schemes: Sequence[Scheme],
    as_of: dt.datetime,
) -> ir.Table:
    """Every scored subject's score and grade under every factor scheme at ``as_of``, in
    :data:`relational.SCORE_SCHEMA`; an opt-in scheme has rows only for subjects who joined.

    ``items`` is :func:`socialcredit.engines.counting.model_items` of ``schemes`` on the same
    backend. Raises :class:`ValueError` for a scheme whose relationships factor counts."""
    factored = _factored(schemes)
    c = counting(records, items, as_of)
    c = c.filter(c.scheme.isin([s.id for s, _ in factored]))
    open_ = [s for s, _ in factored if s.enrolment is None]
    opt_in = [s for s, _ in factored if s.enrolment is not None]
    parts = [rated(subjects, open_)] if open_ else []
    joined = relational.enrolled(records, opt_in, as_of)
    if joined is not None:
        candidates = rated(subjects, opt_in)
        parts.append(
            candidates.semi_join(
                joined, (candidates.subject == joined.subject) & (candidates.scheme == joined.scheme)
            )
        )
    grid = ibis.union(*parts, distinct=False)
    scored = scores(c, grid, [s for s, _ in factored], ["subject"])
    scored = scored.select("subject", "kind", "scheme", "score")
    return scored.mutate(grade=relational.grade_expr(scored.scheme, scored.score, [s for s, _ in factored]))
