"""The factor model: a bounded score from weighted factors (in the manner of Sesame Credit).

Each factor's value is the sum of the (decayed) points of the counting records of its declared items
(retention and decay as for every model, :mod:`socialcredit.scoring.records`). The scheme's
piecewise-linear map turns the value into [0, 1]; the score is
``minimum + (maximum - minimum) * sum(weight * mapped) / sum(weight)`` over the factors that count,
rounded half up, clamped. The explanation has one line per factor (value, mapped, weight, points) and
one per record (what it added to its factor's value); the factor lines start from the minimum, and
the rounding is a line of its own, so they add up to the score (as would the clamp be, though maps
within [0, 1] keep the sum within the bounds).

A record's reason-code effect is exact and needs no attribution model: it is what the score would
lose without that record, ``points(factor at value) - points(factor at value - record's points)``,
since a record moves only its own factor.

The relationships factor (``source: contacts``): the mean score of the subject's declared contacts
under the same scheme. Sesame Credit counted "interpersonal relationships"; it is what critics
object to most (one's score falls for whom one knows), so it exists here to be examined, is off in
every shipped scheme, and the linter flags any scheme that switches it on. No store keeps declared
contacts; a caller passes their scores (the simulator's ``--relationships``, a test).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from socialcredit.i18n import N_, Text
from socialcredit.ledger import Record
from socialcredit.rules import kernel
from socialcredit.rules.ops import PY, Ops
from socialcredit.schemes.model import FactorModel, Scheme
from socialcredit.scoring.explanation import Explanation, Line, adjustment_lines, graded, records_section
from socialcredit.scoring.kinds import Feed, SweptKind
from socialcredit.scoring.records import change_days, counting
from socialcredit.scoring.result import (
    FactorLine,
    ReasonCode,
    Score,
    Title,
    bound_adjustment,
    rounding_adjustment,
)


def _moved(effect: float, what: Text) -> Text:
    """A reason in plain words: what raised or lowered the score, by how many points."""
    points = f"{abs(effect):.0f}"
    if effect >= 0:
        return N_("{what}, raised the score by {points} points", what=what, points=points)
    return N_("{what}, lowered the score by {points} points", what=what, points=points)


def score_factor(
    subject: str,
    records: Sequence[Record],
    scheme: Scheme,
    as_of: dt.datetime,
    contacts: Sequence[int] = (),
) -> Score:
    """Score ``subject`` from its effective records at ``as_of`` under a factor model;
    ``contacts`` are its declared contacts' scores under the same scheme (read only by an enabled
    contacts factor).

    >>> from socialcredit.schemes.loader import shipped_scheme
    >>> s = score_factor("11010519491231002X", [], shipped_scheme("sesame"), dt.datetime(2025, 1, 1))
    >>> (s.score, s.grade, s.score == s.base)
    (650, 'very-good', True)
    """
    model = scheme.model
    if not isinstance(model, FactorModel):
        raise ValueError(f"scheme {scheme.id} has no factor model")
    read = counting(records, scheme, as_of, {code for f in model.factors for code in f.items})
    values: dict[str, float] = {}
    lines: list[FactorLine] = []
    reasons: list[ReasonCode] = []
    for f in model.factors:
        if f.source == "contacts":
            value = sum(contacts) / len(contacts) if contacts else float(f.default_value or 0.0)
            if f.counts and contacts:
                effect = model.points_of(f, value) - model.points_of(f, float(f.default_value or 0.0))
                reasons.append(
                    ReasonCode(
                        None,
                        None,
                        _moved(
                            effect,
                            N_(
                                "{factor}: the mean score of {count} declared contacts, {value}",
                                factor=Title("factor", f.id, f.title, scheme.id),
                                count=len(contacts),
                                value=format(value, ".0f"),
                            ),
                        ),
                        effect,
                    )
                )
        else:
            mine = [x for x in read if x.record.item in f.items]
            value = float(sum(x.points for x in mine))
            if f.counts:
                for x in mine:
                    effect = model.points_of(f, value) - model.points_of(f, value - x.points)
                    r = x.record
                    reasons.append(
                        ReasonCode(
                            r.record_id,
                            r.item,
                            _moved(
                                effect,
                                N_(
                                    "{title} on {day} (reported by {source}), counted under {factor}",
                                    title=Title("item", r.item, x.item.title, scheme.id),
                                    day=r.occurred_on.isoformat(),
                                    source=r.source,
                                    factor=Title("factor", f.id, f.title.lower(), scheme.id),
                                ),
                            ),
                            effect,
                        )
                    )
        values[f.id] = value
        lines.append(
            FactorLine(f.id, f.title, value, f.mapped(value), f.weight, model.points_of(f, value), f.counts)
        )
    value_now = model.score_of(values)
    unrounded = kernel.factor_sum(model, {x.factor: x.mapped for x in lines if x.enabled}, PY)
    rounded: int = kernel.round_half_up(unrounded, PY)
    reasons.sort(key=lambda c: (-abs(c.effect), c.text))
    return Score(
        scheme.id,
        subject,
        as_of,
        model.base,
        value_now,
        model.grade_of(value_now),
        tuple(x.line for x in read),
        kind="factor",
        factors=tuple(lines),
        reason_codes=tuple(r for r in reasons if round(r.effect) != 0 or r.record_id is None),
        start=model.minimum,
        adjustments=rounding_adjustment(unrounded, rounded) + bound_adjustment(rounded, value_now),
    )


def explain_factor(score: Score, scheme: Scheme) -> Explanation:
    """The minimum, one line per factor (its value, mapped, weight and points), the rounding:
    adding up to the score; and per factor of items, the records behind its value."""
    model = _model(scheme)
    lines = [Line(N_("Minimum"), model.minimum, "start")]
    sections = []
    by_id = {f.id: f for f in model.factors}
    for x in score.factors:
        title = Title("factor", x.factor, x.title, scheme.id)
        if x.enabled:
            label = N_(
                "{factor}: value {value}, mapped to {mapped}, weight {weight}",
                factor=title,
                value=format(x.value, "g"),
                mapped=format(x.mapped, ".2f"),
                weight=format(x.weight, "g"),
            )
        else:
            label = N_("{factor}: value {value}, switched off", factor=title, value=format(x.value, "g"))
        lines.append(Line(label, x.points))
        f = by_id.get(x.factor)
        if f is not None and f.source == "items":
            mine = [c for c in score.contributions if c.item in f.items]
            caption = N_(
                "{factor}: the records behind its value of {value}", factor=title, value=format(x.value, "g")
            )
            sections.append(records_section(caption, mine, scheme.id))
    headline = N_(
        "{score} points, grade {grade}: the minimum of {minimum} points plus each factor's worth, "
        "its value mapped to between 0 and 1 times its weight's share of the range.",
        score=score.score,
        grade=score.grade,
        minimum=model.minimum,
    )
    return graded(headline, score, [*lines, *adjustment_lines(score.adjustments)], sections, model.grades)


def factor_change_days(records: Sequence[Record], scheme: Scheme, until: dt.datetime) -> list[dt.date]:
    """The days a factor score can change (see :func:`~socialcredit.scoring.records.change_days`)."""
    model = scheme.model
    assert isinstance(model, FactorModel)
    return change_days(records, scheme, until, {code for f in model.factors for code in f.items})


def _model(scheme: Scheme) -> FactorModel:
    model = scheme.model
    if not isinstance(model, FactorModel):
        raise ValueError(f"scheme {scheme.id} has no factor model")
    return model


def feeds(scheme: Scheme) -> tuple[Feed, ...]:
    """The points of each counting factor of items, in the order written. A counting
    relationships factor has no feed: contacts' scores are in no population's records, and every
    population evaluator refuses it (``rules.fields.CONTACTS``)."""
    return tuple(Feed(frozenset(f.items)) for f in _model(scheme).factors if f.counts and f.source == "items")


def score_of(scheme: Scheme, sums: Sequence[Any], ops: Ops) -> Any:
    """The score from each factor's points: mapped, weighted, rounded half up and clamped in
    floating point (the kernel's, as :func:`score_factor` computes it)."""
    model = _model(scheme)
    counted = [f for f in model.factors if f.counts and f.source == "items"]
    mapped = {f.id: kernel.mapped(ops.to_float(v), f, ops) for f, v in zip(counted, sums, strict=True)}
    return kernel.factor_score(model, mapped, ops)


MODEL = SweptKind(
    "factor",
    lambda subject, records, scheme, as_of, contacts: score_factor(subject, records, scheme, as_of, contacts),
    factor_change_days,
    feeds,
    score_of,
    lambda scheme: (_model(scheme).minimum, _model(scheme).maximum),
    explain_factor,
    frozenset(
        {
            "FactorModel.kind",
            "FactorModel.subjects",
            "FactorModel.grades",
            "FactorModel.minimum",
            "FactorModel.maximum",
            "FactorModel.factors",
            "Factor.id",
            "Factor.source",
            "Factor.items",
            "Factor.weight",
            "Factor.enabled",
            "Factor.map",
            "Factor.default_value",
        }
    ),
)
"""The factor model behind :class:`~socialcredit.scoring.kinds.ScoringModel`."""
