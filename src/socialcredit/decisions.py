"""Decisions: may this subject receive this measure now? Allow or deny, with the reasons.

A relying party (an airline, a rail office, a lender) asks one question and gets one answer it
can act on and the subject can contest: which list entry or grade, since when, until when, on
what legal basis, and how to resolve it. For a punishment the answer is "deny" when a trigger
holds; for a reward it is "allow" only when the subject qualifies. The rule is a pure function
of the subject's list entries and scores, so it can be replayed for any past question.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from socialcredit.codes import SubjectKind
from socialcredit.lists import ListEntry
from socialcredit.schemes.model import Measure
from socialcredit.scoring.result import Score


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a decision went the way it did, in terms a subject can act on."""

    basis: str  # "list" | "grade" | "score" | "not-applicable" | "no-trigger"
    text: str
    list_id: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    grounds: tuple[str, ...] = ()
    legal_basis: str | None = None
    how_to_resolve: str | None = None
    via: str | None = None
    explanation: tuple[str, ...] = ()
    """For a grade or score: the reason codes of that score, in plain words (what moved it most),
    as a credit bureau must state them with an adverse decision."""


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to one relying party's question."""

    subject: str
    measure: str
    measure_kind: str
    allowed: bool
    at: dt.datetime
    reasons: tuple[Reason, ...]

    @property
    def answer(self) -> str:
        return "allow" if self.allowed else "deny"


def _triggers(
    measure: Measure, entries: Sequence[ListEntry], scores: Mapping[str, Score], at: dt.datetime
) -> list[Reason]:
    found: list[Reason] = []
    trig = measure.trigger
    day = at.date()
    for e in entries:
        if e.qualified_id in trig.lists and e.active_on(day) and e.suspended_by is None:
            via = f" as legal representative of {e.via}" if e.via else ""
            found.append(
                Reason(
                    "list",
                    f"on the list '{e.title}'{via} since {e.since.isoformat()}, "
                    f"planned to end {e.planned_end.isoformat()}",
                    list_id=e.qualified_id,
                    since=e.since,
                    until=e.ended_on or e.planned_end,
                    grounds=e.grounds,
                    legal_basis="; ".join(b for b in (e.legal_basis, measure.legal_basis) if b) or None,
                    how_to_resolve=measure.how_to_resolve,
                    via=e.via,
                )
            )
    if trig.scheme and trig.scheme in scores:
        s = scores[trig.scheme]
        tests = []
        if trig.grades and s.grade in trig.grades:
            tests.append(("grade", f"grade {s.grade} under {s.scheme} is one of {', '.join(trig.grades)}"))
        # a tier model has no score to compare (the linter rejects such a trigger)
        if trig.score_at_least is not None and s.kind != "tier" and s.score >= trig.score_at_least:
            tests.append(("score", f"score {s.score} under {s.scheme} is at least {trig.score_at_least:g}"))
        if trig.score_below is not None and s.kind != "tier" and s.score < trig.score_below:
            tests.append(("score", f"score {s.score} under {s.scheme} is below {trig.score_below:g}"))
        for basis, text in tests:
            found.append(
                Reason(
                    basis,
                    text,
                    grounds=tuple(c.record_id for c in s.reasons if c.record_id),
                    legal_basis=measure.legal_basis,
                    how_to_resolve=measure.how_to_resolve,
                    explanation=tuple(c.text for c in s.reasons),
                )
            )
    return found


def _shown(s: Score) -> str:
    """A score as a reason states it: a tier by name only (it has no points)."""
    return f"{s.scheme}: {s.grade}" if s.kind == "tier" else f"{s.scheme}: {s.score} ({s.grade})"


def decide(
    *,
    subject: str,
    subject_kind: SubjectKind,
    measure: Measure,
    entries: Sequence[ListEntry],
    scores: Mapping[str, Score],
    at: dt.datetime,
) -> Decision:
    """Decide one measure for one subject at ``at``.

    ``entries`` are the subject's list entries and ``scores`` its scores by scheme id, both
    computed as of ``at``."""
    if subject_kind not in measure.applies_to:
        reason = Reason("not-applicable", f"'{measure.title}' does not apply to a {subject_kind}")
        return Decision(subject, measure.id, measure.kind, True, at, (reason,))
    found = _triggers(measure, entries, scores, at)
    if measure.kind == "punishment":
        if found:
            return Decision(subject, measure.id, measure.kind, False, at, tuple(found))
        suspended = [
            Reason(
                "suspended",
                f"the entry on '{e.title}' is suspended while objection {e.suspended_by} is open",
                list_id=e.qualified_id,
                since=e.since,
                until=e.planned_end,
            )
            for e in entries
            if e.qualified_id in measure.trigger.lists and e.active_on(at.date()) and e.suspended_by
        ]
        none = Reason("no-trigger", f"no list entry or grade restricts '{measure.title}'")
        return Decision(subject, measure.id, measure.kind, True, at, (*suspended, none))
    if found:
        return Decision(subject, measure.id, measure.kind, True, at, tuple(found))
    t = measure.trigger
    wants = []
    if t.lists:
        wants.append("an active entry on " + " or ".join(t.lists))
    if t.grades:
        wants.append(f"grade {' or '.join(t.grades)} under {t.scheme}")
    if t.score_at_least is not None:
        wants.append(f"a score of at least {t.score_at_least:g} under {t.scheme}")
    shown = [s for s in scores.values() if t.scheme is None or s.scheme == t.scheme]
    have = "; ".join(_shown(s) for s in shown) or "no score"
    own = scores.get(t.scheme) if t.scheme else None
    reason = Reason(
        "no-trigger",
        f"'{measure.title}' requires {' or '.join(wants)}; current: {have}",
        grounds=tuple(c.record_id for c in own.reasons if c.record_id) if own else (),
        legal_basis=measure.legal_basis,
        how_to_resolve=measure.how_to_resolve if own else None,
        explanation=tuple(c.text for c in own.reasons) if own else (),
    )
    return Decision(subject, measure.id, measure.kind, False, at, (reason,))
