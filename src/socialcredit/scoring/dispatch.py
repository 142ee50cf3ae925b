"""One entry point for every scoring model: :func:`score` and :func:`timeline`.

Why one dispatch: the subject's view, population scans, grade lists, decisions and the portal
used to call the points model directly; a second and third model would otherwise mean a special
case in each. Everything that needs a score calls :func:`score` (or :func:`timeline` for history)
and reads the common :class:`~socialcredit.scoring.result.Score`; only this module knows which
model function to call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from socialcredit.ledger import Record
from socialcredit.schemes.model import FactorModel, PointsModel, Scheme, TierModel
from socialcredit.scoring.factor import factor_change_days, score_factor
from socialcredit.scoring.points import score_points, score_timeline
from socialcredit.scoring.result import Score
from socialcredit.scoring.tier import score_tier, tier_change_days


def score(
    subject: str,
    records: Sequence[Record],
    scheme: Scheme,
    as_of: dt.datetime,
    *,
    contacts: Sequence[int] = (),
) -> Score:
    """``subject``'s score under ``scheme``'s model from its effective records at ``as_of``.

    ``contacts`` (declared contacts' scores) are read only by a factor model's enabled
    relationships factor, which no shipped scheme enables."""
    model = scheme.model
    if isinstance(model, PointsModel):
        return score_points(subject, records, scheme, as_of)
    if isinstance(model, TierModel):
        return score_tier(subject, records, scheme, as_of)
    if isinstance(model, FactorModel):
        return score_factor(subject, records, scheme, as_of, contacts)
    raise ValueError(f"scheme {scheme.id} has no scoring model")


def scores_for(
    subject: str, kind: str, records: Sequence[Record], schemes: Iterable[Scheme], as_of: dt.datetime
) -> dict[str, Score]:
    """``subject``'s scores by scheme id under every scheme whose model rates its kind (an
    enterprise rating scores organisations only) and, for an opt-in scheme, that the subject has
    joined: what a view, a scan or a decision reads."""
    return {
        s.id: score(subject, records, s, as_of)
        for s in schemes
        if s.model is not None and kind in s.model.subjects and enrolled(s, records, as_of)
    }


def enrolled(scheme: Scheme, records: Sequence[Record], as_of: dt.datetime) -> bool:
    """Whether an opt-in scheme may score this subject at ``as_of``: its latest enrolment or
    withdrawal record (reported by then) is an enrolment. A scheme without ``enrolment`` scores
    everyone its model rates. Why: a private, opt-in score (Sesame Credit) must not silently
    become a score of everyone once an operator puts it in force."""
    rule = scheme.enrolment
    if rule is None:
        return True
    marks = [r for r in records if r.reported_at <= as_of and r.item in (rule.item, rule.withdrawal_item)]
    if not marks:
        return False
    latest = max(marks, key=lambda r: (r.reported_at, r.seq))
    return latest.item == rule.item


def timeline(
    subject: str, records: Sequence[Record], scheme: Scheme, until: dt.datetime
) -> list[tuple[dt.date, int, str]]:
    """``(date, score, grade)`` on each day the score changes, up to ``until``: the value at the end
    of that day, exactly as :func:`score` gives it then.

    The points model has its own sweep (:func:`~socialcredit.scoring.points.score_timeline`); the
    others are evaluated with :func:`score` itself on every day their value can change (a record
    starts or stops counting, decays a step, or leaves a rule's window), so the history cannot
    disagree with the score."""
    model = scheme.model
    if isinstance(model, PointsModel):
        return score_timeline(subject, records, scheme, until)
    if isinstance(model, TierModel):
        days = tier_change_days(records, scheme, until)
    elif isinstance(model, FactorModel):
        days = factor_change_days(records, scheme, until)
    else:
        raise ValueError(f"scheme {scheme.id} has no scoring model")
    out: list[tuple[dt.date, int, str]] = []
    previous = model.base
    for day in days:
        at = min(until, dt.datetime.combine(day, dt.time.max))
        s = score(subject, [r for r in records if r.reported_at <= at], scheme, at)
        if s.score != (out[-1][1] if out else previous):
            out.append((day, s.score, s.grade))
    return out
