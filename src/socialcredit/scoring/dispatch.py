"""One entry point for every scoring model: :func:`score` and :func:`timeline`.

Why one dispatch: the subject's view, population scans, grade lists, decisions and the portal
used to call the points model directly; a second and third model would otherwise mean a special
case in each. Everything that needs a score calls :func:`score` (or :func:`timeline` for history)
and reads the common :class:`~socialcredit.scoring.result.Score`; the kind of model is found in
one registry (:data:`KINDS`, the protocol in :mod:`socialcredit.scoring.kinds`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Sequence

from socialcredit.ledger import Record
from socialcredit.rules import days
from socialcredit.schemes.model import Scheme
from socialcredit.scoring import factor, points, tier
from socialcredit.scoring.explanation import Explanation
from socialcredit.scoring.kinds import ScoringModel, registry
from socialcredit.scoring.result import Score

KINDS = registry(points.MODEL, tier.MODEL, factor.MODEL)
"""Every kind of scoring model, by the ``kind`` a scheme file names: the one registry."""


def model_of(scheme: Scheme) -> ScoringModel:
    """The kind of scoring model ``scheme`` uses (ValueError for a scheme without one)."""
    if scheme.model is None:
        raise ValueError(f"scheme {scheme.id} has no scoring model")
    return KINDS[scheme.model.kind]


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
    relationships factor, which no shipped scheme enables. The score carries its explanation
    (:attr:`Score.explained`, :func:`explain`), so every adapter shows the same one. An opt-in
    scheme reads only the records its member's last withdrawal left it (:func:`usable`)."""
    model = model_of(scheme)
    s = model.score(subject, usable(scheme, records, as_of), scheme, as_of, contacts)
    return s if s.explained is not None else dataclasses.replace(s, explained=model.explain(s, scheme))


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


def usable(scheme: Scheme, records: Sequence[Record], as_of: dt.datetime) -> Sequence[Record]:
    """The records an opt-in scheme may read for this subject at ``as_of``: none known by the
    subject's latest withdrawal (by ``reported_at``, then ledger position). Why: leaving an
    opt-in scheme ends the platform's use of the member's data, as its own terms require, not
    only the score; a member who joins again starts afresh. Every evaluator (a score, its
    history, a decision, the engines' :func:`~socialcredit.engines.relational.withdrawal_cuts`)
    reads through this rule. A scheme without a withdrawal item reads every record."""
    rule = scheme.enrolment
    if rule is None or rule.withdrawal_item is None:
        return records
    cuts = [
        (r.reported_at, r.seq) for r in records if r.reported_at <= as_of and r.item == rule.withdrawal_item
    ]
    if not cuts:
        return records
    cut = max(cuts)
    return [r for r in records if (r.reported_at, r.seq) > cut]


def timeline(
    subject: str, records: Sequence[Record], scheme: Scheme, until: dt.datetime
) -> list[tuple[dt.date, int, str]]:
    """``(date, score, grade)`` on each day the score changes, up to ``until``: the value at the end
    of that day, exactly as :func:`score` gives it then.

    The points model has its own sweep (:func:`~socialcredit.scoring.points.score_timeline`); the
    others are evaluated with their own score on every day their value can change (a record starts
    or stops counting, decays a step, or leaves a rule's window:
    :func:`~socialcredit.scoring.kinds.timeline_on_change_days`), so the history cannot disagree
    with the score."""
    return model_of(scheme).timeline(subject, usable(scheme, records, until), scheme, until)


def explain(s: Score, scheme: Scheme) -> Explanation:
    """``s`` (a score under ``scheme``) explained in the one shape every adapter renders
    (:mod:`socialcredit.scoring.explanation`), by its kind's own module."""
    return model_of(scheme).explain(s, scheme)


def timeline_over(
    subject: str,
    records: Sequence[Record],
    versions: Sequence[tuple[dt.date | None, Scheme]],
    until: dt.datetime,
    history: Callable[
        [str, Sequence[Record], Scheme, dt.datetime], list[tuple[dt.date, int, str]]
    ] = timeline,
) -> list[tuple[dt.date, int, str]]:
    """A score history across versions of one scheme (``Registry.versions``): each day scored by
    the version in force that day (decision 0038), so a history spanning a change of the rules
    agrees, day by day, with the score asked for that day. Nothing before the first version.
    ``history`` makes one version's history (the model's own :func:`timeline` of the records
    given, or ``history.score_history`` in valid time, where ended records count until ended)."""
    end = days.day_of(until)
    live = [(start, s) for start, s in versions if start is None or start <= end]
    out: list[tuple[dt.date, int, str]] = []
    for i, (start, scheme) in enumerate(live):
        following = live[i + 1][0] if i + 1 < len(live) else None
        upto = until if following is None else min(until, days.end_of(following - dt.timedelta(days=1)))
        part = history(subject, records, scheme, upto)
        if start is not None:  # the value on the version's first day, then its changes after
            at = min(until, days.end_of(start))
            before = [p for p in history(subject, records, scheme, at) if p[0] <= start]
            base = score(subject, [], scheme, at)
            value = before[-1][1:] if before else (base.score, base.grade)
            part = [(start, *value), *(p for p in part if p[0] > start)]
        for point in part:
            if not out or point[1:] != out[-1][1:]:
                out.append(point)
    return out
