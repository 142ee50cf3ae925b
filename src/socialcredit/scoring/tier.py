"""The tier model: very good / good / bad from rules over records (in the manner of Honest Shanghai).

A tier model has no points. Its rules are tried in the order the scheme writes them; the first
whose conditions hold gives the tier, and none holding gives the scheme's default. A condition
selects counting records (:mod:`socialcredit.scoring.records`: retention and decay as for every
model) by item, polarity, severity or area, optionally only those that occurred in the last
``within_days`` days, and bounds how many there are or the sum of their points. So "bad if any
serious negative record in the last 2 years" is one rule with one condition, and "very good if no
negative record in 3 years and at least 2 positive ones" one rule with two ``all_of`` conditions.

The reasons name what decided the tier: the records that made the deciding rule hold, and for each
better tier the condition that failed (the records that block it, or how many more are needed),
so a subject rated "good" learns what "very good" would take.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from typing import Any

from socialcredit.i18n import N_, Text
from socialcredit.ledger import Record
from socialcredit.rules import kernel
from socialcredit.rules.days import day_of
from socialcredit.rules.ops import PY, Ops
from socialcredit.schemes.model import Condition, Scheme, TierModel, TierRule
from socialcredit.scoring.explanation import Explanation, records_section
from socialcredit.scoring.kinds import Feed, SweptKind
from socialcredit.scoring.records import Counting, change_days, counting
from socialcredit.scoring.result import ReasonCode, Score, Title

WORDS = {
    "positive": N_("positive"),
    "negative": N_("negative"),
    "neutral": N_("neutral"),
    "minor": N_("minor"),
    "general": N_("general"),
    "serious": N_("serious"),
}
"""A selector's polarity and severities, worded in the reader's language."""


def _joined(parts: list[str], template: str) -> str:
    """``parts`` folded with ``template`` (``N_("{a} or {b}")``'s English), as a Text."""
    out = parts[0]
    for p in parts[1:]:
        out = N_("{a} or {b}", a=out, b=p) if template == "or" else N_("{a} and {b}", a=out, b=p)
    return out


def describe(c: Condition) -> str:
    """A condition in plain words (a :class:`~socialcredit.i18n.Text`: the reader's language).

    >>> from socialcredit.schemes.model import Selector
    >>> describe(Condition(of=Selector(polarity="negative", severities=["serious"]), at_least=1,
    ...                    within_days=730))
    'at least 1 serious negative record in the last 730 days'
    """
    sel = c.of
    kind: str | None = _joined([WORDS[x] for x in sel.severities], "or") if sel.severities else None
    if sel.polarity:
        polarity = WORDS[sel.polarity]
        kind = N_("{severity} {polarity}", severity=kind, polarity=polarity) if kind else polarity
    what = N_("{kind} record", kind=kind) if kind else N_("record")
    if sel.items:
        what = N_("{what} of {items}", what=what, items=", ".join(sel.items))
    if sel.areas:
        what = N_("{what} in {areas} affairs", what=what, areas=" or ".join(sel.areas))
    parts: list[str] = []
    if c.at_least is not None:
        parts.append(N_("at least {count} {what}", count=c.at_least, what=what))
    if c.at_most is not None:
        parts.append(
            N_("no {what}", what=what)
            if c.at_most == 0
            else N_("at most {count} {what}", count=c.at_most, what=what)
        )
    if c.points_at_least is not None:
        parts.append(N_("points of {what}s at least {points}", what=what, points=c.points_at_least))
    if c.points_at_most is not None:
        parts.append(N_("points of {what}s at most {points}", what=what, points=c.points_at_most))
    out = _joined(parts, "and")
    return (
        N_("{condition} in the last {days} days", condition=out, days=c.within_days) if c.within_days else out
    )


def _selected(c: Condition, records: Sequence[Counting], on: dt.date) -> list[Counting]:
    return [
        x for x in records if c.of.matches(x.item) and kernel.within(c, (on - x.record.occurred_on).days, PY)
    ]


def _holds(c: Condition, sel: Sequence[Counting]) -> bool:
    held: bool = kernel.condition_holds(c, len(sel), sum(x.points for x in sel), PY)
    return held


def _rule_holds(
    rule: TierRule, records: Sequence[Counting], on: dt.date
) -> tuple[bool, list[tuple[Condition, list[Counting], bool]]]:
    """Whether ``rule`` holds, and each condition with its selected records and whether it held."""
    checked = [
        (c, sel, _holds(c, sel)) for c in (*rule.all_of, *rule.any_of) for sel in [_selected(c, records, on)]
    ]
    held: bool = kernel.rule_holds(rule, [ok for _, _, ok in checked], PY)
    return held, checked


def _tier(name: str, scheme: str) -> Title:
    """A tier by its title in the reader's language (its name in the scheme, in English)."""
    return Title("tier", name, name, scheme)


def _rule_name(rule: TierRule, scheme: str) -> Title:
    """A rule by its title in the reader's language (catalogued by the tier it gives), or by
    its tier when the scheme gives it no title."""
    if rule.title:
        return Title("rule", rule.tier, rule.title, scheme)
    return _tier(rule.tier, scheme)


def _record_text(x: Counting, scheme: str) -> Text:
    r = x.record
    return N_(
        "{title} on {day} (reported by {source})",
        title=Title("item", r.item, x.item.title, scheme),
        day=r.occurred_on.isoformat(),
        source=r.source,
    )


def score_tier(subject: str, records: Sequence[Record], scheme: Scheme, as_of: dt.datetime) -> Score:
    """Rate ``subject`` from its effective records at ``as_of`` under a tier model.

    >>> from socialcredit.schemes.loader import shipped_scheme
    >>> s = score_tier("11010519491231002X", [], shipped_scheme("honest-shanghai"), dt.datetime(2025, 1, 1))
    >>> (s.grade, s.kind)
    ('good', 'tier')
    """
    model = scheme.model
    if not isinstance(model, TierModel):
        raise ValueError(f"scheme {scheme.id} has no tier model")
    on = day_of(as_of)
    read = counting(records, scheme, as_of, model.items_read(scheme))
    tier, deciding = model.default, None
    checks: dict[int, tuple[bool, list[tuple[Condition, list[Counting], bool]]]] = {}
    for i, rule in enumerate(model.rules):
        checks[i] = _rule_holds(rule, read, on)
        if checks[i][0]:
            tier, deciding = rule.tier, i
            break
    level = model.level(tier)
    reasons: list[ReasonCode] = []
    met: dict[str, Counting] = {}
    held_conditions: list[str] = []
    needs: list[tuple[int, str]] = []  # (rank of the better tier, what it needs)
    if deciding is not None:
        rule = model.rules[deciding]
        why = _rule_name(rule, scheme.id) if rule.title else N_("rated {tier}", tier=_tier(tier, scheme.id))
        effect = level - model.base
        for c, sel, held in checks[deciding][1]:
            if not held:
                continue
            held_conditions.append(describe(c))
            met.update((x.record.record_id, x) for x in sel)
            if c.at_least is not None or c.points_at_least is not None or c.points_at_most is not None:
                for x in sorted(sel, key=lambda x: x.record.occurred_on, reverse=True):
                    reasons.append(
                        ReasonCode(
                            x.record.record_id,
                            x.record.item,
                            N_(
                                "{record}: {why} ({condition})",
                                record=_record_text(x, scheme.id),
                                why=why,
                                condition=describe(c),
                            ),
                            effect,
                        )
                    )
            else:
                reasons.append(
                    ReasonCode(None, None, N_("{why}: {condition}", why=why, condition=describe(c)), effect)
                )
    else:
        reasons.append(
            ReasonCode(
                None,
                None,
                N_(
                    "no rule for another tier holds, so the rating is the default {tier}",
                    tier=_tier(tier, scheme.id),
                ),
                0,
            )
        )
    # what each better tier would take: the first failed condition of each rule for a better tier
    for i, rule in enumerate(model.rules):
        if model.rank(rule.tier) >= model.rank(tier) or i == deciding:
            continue
        holds, checked = checks[i] if i in checks else _rule_holds(rule, read, on)
        failed = [(c, sel) for c, sel, good in checked if not good]
        if holds or not failed:
            continue
        c, sel = failed[0]
        gap = level - model.level(rule.tier)
        needs.append(
            (
                model.rank(rule.tier),
                N_(
                    "{tier} needs {condition}; there are {count}.",
                    tier=_tier(rule.tier, scheme.id),
                    condition=describe(c),
                    count=len(sel),
                ),
            )
        )
        blocking = [x for x in sel if c.at_most is not None or c.points_at_most is not None]
        if blocking:
            for x in sorted(blocking, key=lambda x: x.record.occurred_on, reverse=True):
                reasons.append(
                    ReasonCode(
                        x.record.record_id,
                        x.record.item,
                        N_(
                            "{record} stands in the way of {tier}, which needs {condition}",
                            record=_record_text(x, scheme.id),
                            tier=_tier(rule.tier, scheme.id),
                            condition=describe(c),
                        ),
                        gap,
                    )
                )
        else:
            reasons.append(
                ReasonCode(
                    None,
                    None,
                    N_(
                        "{tier} needs {condition}; there are {count}",
                        tier=_tier(rule.tier, scheme.id),
                        condition=describe(c),
                        count=len(sel),
                    ),
                    gap,
                )
            )
    score = Score(
        scheme.id,
        subject,
        as_of,
        model.base,
        level,
        tier,
        tuple(x.line for x in read),
        kind="tier",
        reason_codes=tuple(reasons),
    )
    if deciding is None:
        headline = N_(
            "Rated {tier}, the scheme's default: no rule for another tier holds.", tier=_tier(tier, scheme.id)
        )
    else:
        rule = model.rules[deciding]
        headline = N_(
            "Rated {tier} by the rule “{rule}”: {conditions}.",
            tier=_tier(tier, scheme.id),
            rule=_rule_name(rule, scheme.id),
            conditions=_joined(held_conditions, "and"),
        )
    if deciding is not None and model.rank(model.default) < model.rank(tier):
        # the default is a better tier: it needs the deciding rule no longer to hold
        needs.append(
            (
                model.rank(model.default),
                N_(
                    "{tier}, the default, needs the rule “{rule}” no longer to hold: {conditions}.",
                    tier=_tier(model.default, scheme.id),
                    rule=_rule_name(model.rules[deciding], scheme.id),
                    conditions=_joined(held_conditions, "and"),
                ),
            )
        )
    # the nearest better tier's need (of the better tiers, the least better)
    nearest = max(needs, key=lambda n: n[0])[1] if needs else None
    met_section = (
        ()
        if deciding is None
        else (
            records_section(
                N_("The records that met the deciding rule"), [x.line for x in met.values()], scheme.id
            ),
        )
    )
    explained = Explanation(
        headline,
        score.score,
        tier,
        (),
        (
            *met_section,
            records_section(
                N_("The other records the rules read (their item points shown for information)"),
                [x.line for x in read if x.record.record_id not in met],
                scheme.id,
            ),
        ),
        tuple(score.adverse),
        nearest,
    )
    return dataclasses.replace(score, explained=explained)


def explain_tier(score: Score, scheme: Scheme) -> Explanation:
    """The deciding rule, the records that met it and what the next tier needs, as
    :func:`score_tier` worked them out."""
    assert score.explained is not None, f"{scheme.id}: a tier score is explained as it is made"
    return score.explained


def windows(model: TierModel) -> set[int]:
    """The rule windows (``within_days``) of a tier model, days on which a record leaves a rule."""
    return {c.within_days for r in model.rules for c in (*r.any_of, *r.all_of) if c.within_days}


def tier_change_days(records: Sequence[Record], scheme: Scheme, until: dt.datetime) -> list[dt.date]:
    """The days a tier model's rating can change (see :func:`~socialcredit.scoring.records.change_days`)."""
    model = scheme.model
    assert isinstance(model, TierModel)
    return change_days(records, scheme, until, model.items_read(scheme), windows(model))


def _model(scheme: Scheme) -> TierModel:
    model = scheme.model
    if not isinstance(model, TierModel):
        raise ValueError(f"scheme {scheme.id} has no tier model")
    return model


def _columns(scheme: Scheme) -> list[tuple[Feed, ...]]:
    """Each condition of each rule (``all_of`` then ``any_of``, in the order written) as the feeds
    it reads: the number of records it selects if it bounds it, then their points if it bounds
    them, each within its window."""
    out = []
    for rule in _model(scheme).rules:
        for cond in (*rule.all_of, *rule.any_of):
            read = frozenset(x.code for x in scheme.items if cond.of.matches(x))
            feeds = []
            if cond.at_least is not None or cond.at_most is not None:
                feeds.append(Feed(read, counts=True, within=cond.within_days))
            if cond.points_at_least is not None or cond.points_at_most is not None:
                feeds.append(Feed(read, counts=False, within=cond.within_days))
            out.append(tuple(feeds))
    return out


def feeds(scheme: Scheme) -> tuple[Feed, ...]:
    """A count and/or a points sum for each condition, as :func:`_columns` lays them out."""
    return tuple(f for cond in _columns(scheme) for f in cond)


def score_of(scheme: Scheme, sums: Sequence[Any], ops: Ops) -> Any:
    """The tier's level from each condition's sums: its bounds, each rule's conditions, the first
    rule that holds (the kernel's, as :func:`score_tier` decides them)."""
    model = _model(scheme)
    position = iter(range(len(sums)))
    conditions = iter(_columns(scheme))
    rules_held = []
    for rule in model.rules:
        held = []
        for cond in (*rule.all_of, *rule.any_of):
            count = total = None
            for f in next(conditions):
                if f.counts:
                    count = sums[next(position)]
                else:
                    total = sums[next(position)]
            held.append(kernel.condition_holds(cond, count, total, ops))
        rules_held.append(kernel.rule_holds(rule, held, ops))
    return kernel.tier_level(model, rules_held, ops)


MODEL = SweptKind(
    "tier",
    lambda subject, records, scheme, as_of, _contacts: score_tier(subject, records, scheme, as_of),
    tier_change_days,
    feeds,
    score_of,
    lambda scheme: (0, len(_model(scheme).tiers) - 1),
    explain_tier,
    frozenset(
        {
            "TierModel.kind",
            "TierModel.subjects",
            "TierModel.tiers",
            "TierModel.default",
            "TierModel.rules",
            "Tier.tier",
            "TierRule.tier",
            "TierRule.any_of",
            "TierRule.all_of",
            "Condition.of",
            "Condition.within_days",
            "Condition.at_least",
            "Condition.at_most",
            "Condition.points_at_least",
            "Condition.points_at_most",
            "Selector.items",
            "Selector.polarity",
            "Selector.severities",
            "Selector.areas",
        }
    ),
)
"""The tier model behind :class:`~socialcredit.scoring.kinds.ScoringModel`."""
