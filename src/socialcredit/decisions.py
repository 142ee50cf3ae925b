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
from socialcredit.i18n import N_, Text
from socialcredit.knowledge import Receipt
from socialcredit.lists import ListEntry
from socialcredit.rules.days import day_of
from socialcredit.schemes.model import Measure
from socialcredit.scoring.result import Score, Title


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a decision went the way it did, in terms a subject can act on."""

    basis: str  # "list" | "grade" | "score" | "not-applicable" | "no-trigger"
    text: str
    """In plain words: a :class:`~socialcredit.i18n.Text` (its ``str`` the English, as the audit
    log keeps it), worded in the reader's language by whoever shows it (``i18n.translate``), so
    a reason built once serves readers of either language."""
    list_id: str | None = None
    since: dt.date | None = None
    until: dt.date | None = None
    grounds: tuple[str, ...] = ()
    legal_basis: str | None = None
    how_to_resolve: str | None = None
    via: str | None = None
    explanation: tuple[str, ...] = ()
    """For a grade or score: the reason codes of that score, in plain words; for an adverse
    answer the at most four records or rules that lowered it most (``Score.adverse``), as a
    credit bureau must state them, else what moved it most."""


@dataclass(frozen=True, slots=True)
class Decision:
    """The answer to one relying party's question."""

    subject: str
    measure: str
    measure_kind: str
    allowed: bool
    at: dt.datetime
    reasons: tuple[Reason, ...]
    receipt: Receipt | None = None
    """What it was computed from (set by the service that answers and audits it)."""
    subject_known: bool = True
    """False when the system holds no record and no registration of the subject: the answer is
    then the rule's answer for a subject with nothing against it (and nothing for it), which a
    relying party must not read as a clean record (see :func:`unknown_subject`)."""

    @property
    def answer(self) -> str:
        return "allow" if self.allowed else "deny"


ANSWERS = {"allow": N_("allow"), "deny": N_("deny")}
"""The answer's word for a reader (the portal, the command line); the machine's value (``allow``,
``deny``) is what the API's ``answer`` field, the audit log and the exit status keep."""

LOUD = {"allow": N_("ALLOW"), "deny": N_("DENY")}
"""The answer as a headline shouts it (the command line's ``check``, a reproduced receipt)."""
MEASURE_KINDS = {"punishment": N_("punishment"), "reward": N_("reward")}

UNKNOWN_SUBJECT = Reason("unknown", N_("unknown to the system: no record and no registration"))


def unknown_subject(decision: Decision) -> Decision:
    """The decision about a subject the system knows nothing of, saying so: ``subject_known``
    false and the reason line first. The answer itself is unchanged: a punishment is allowed,
    since there is no ground to deny it (a measure needs a listing or a grade, and an unknown
    subject has none; denying would punish a typo or a newcomer), and a reward is still denied,
    since nothing qualifies the subject (docs/decisions/0036-api-protocol.md)."""
    return Decision(
        decision.subject,
        decision.measure,
        decision.measure_kind,
        decision.allowed,
        decision.at,
        (UNKNOWN_SUBJECT, *decision.reasons),
        subject_known=False,
    )


class _Plan:
    """What deciding one measure needs, worked out once per measure object: the trigger lists
    as a set, the fixed reasons (not applicable, nothing triggered) built once, and memos of the
    reasons built from a list entry or a score, kept by the identity of those objects.

    Why: a decision is asked again and again about the same subject from its cached view (the
    same entry and score objects), and most of the cost of :func:`decide` was building the very
    same reason texts each time; the issue asks for a decision under 5 µs. Each memo keeps the
    object it was built from, so an id cannot be reused while remembered, and is emptied when it
    grows large."""

    __slots__ = ("measure", "lists", "applies_to", "punishment", "scheme", "none", "n_a", "entries", "scores")

    def __init__(self, measure: Measure) -> None:
        self.measure = measure
        self.lists = frozenset(measure.trigger.lists)
        self.applies_to = frozenset(measure.applies_to)
        self.punishment = measure.kind == "punishment"
        self.scheme = measure.trigger.scheme
        title = _measure_title(measure)
        self.none = Reason("no-trigger", N_("no list entry or grade restricts '{measure}'", measure=title))
        self.n_a = {
            kind: Reason("not-applicable", text)
            for kind, text in (
                ("person", N_("'{measure}' does not apply to a person", measure=title)),
                ("organisation", N_("'{measure}' does not apply to an organisation", measure=title)),
            )
        }
        self.entries: dict[int, tuple[ListEntry, Reason | None, Reason | None]] = {}
        self.scores: dict[int, tuple[object, tuple[Reason, ...]]] = {}

    def entry(self, e: ListEntry) -> tuple[ListEntry, Reason | None, Reason | None]:
        """(entry, its reason when it triggers, its reason when suspended); no reasons when the
        entry's list is not one of the trigger's."""
        hit = self.entries.get(id(e))
        if hit is None or hit[0] is not e:
            if len(self.entries) > MEMO_SIZE:
                self.entries.clear()
            if e.qualified_id in self.lists:
                hit = (e, _list_reason(self.measure, e), _suspended_reason(e) if e.suspended_by else None)
            else:
                hit = (e, None, None)
            self.entries[id(e)] = hit
        return hit

    def score_reasons(self, s: Score) -> tuple[Reason, ...]:
        hit = self.scores.get(id(s))
        if hit is None or hit[0] is not s:
            if len(self.scores) > MEMO_SIZE:
                self.scores.clear()
            hit = (s, tuple(_score_reasons(self.measure, s)))
            self.scores[id(s)] = hit
        return hit[1]


MEMO_SIZE = 100_000
_PLANS: dict[int, _Plan] = {}


def _plan(measure: Measure) -> _Plan:
    plan = _PLANS.get(id(measure))
    if plan is None or plan.measure is not measure:
        if len(_PLANS) > 1000:
            _PLANS.clear()
        plan = _PLANS[id(measure)] = _Plan(measure)
    return plan


def _measure_title(measure: Measure) -> Title:
    """A measure's title, worded in the reader's language (the scheme's catalogue of titles)."""
    return Title("measure", measure.id, measure.title)


def _list_title(e: ListEntry) -> Title:
    return Title("list", e.list_id, e.title, e.scheme)


def _list_reason(measure: Measure, e: ListEntry) -> Reason:
    title, since = _list_title(e), e.since.isoformat()
    end = e.planned_end.isoformat() if e.planned_end is not None else None
    if e.via and end:
        text = N_(
            "on the list '{list}' as legal representative of {via} since {since}, planned to end {end}",
            list=title, via=e.via, since=since, end=end,
        )  # fmt: skip
    elif e.via:
        text = N_(
            "on the list '{list}' as legal representative of {via} since {since}, with no fixed end: "
            "until a removal ground",
            list=title, via=e.via, since=since,
        )  # fmt: skip
    elif end:
        text = N_(
            "on the list '{list}' since {since}, planned to end {end}", list=title, since=since, end=end
        )
    else:
        text = N_(
            "on the list '{list}' since {since}, with no fixed end: until a removal ground",
            list=title,
            since=since,
        )
    return Reason(
        "list",
        text,
        list_id=e.qualified_id,
        since=e.since,
        until=e.until,
        grounds=e.grounds,
        legal_basis="; ".join(b for b in (e.legal_basis, measure.legal_basis) if b) or None,
        how_to_resolve=measure.how_to_resolve,
        via=e.via,
    )


def _suspended_reason(e: ListEntry) -> Reason:
    review = (e.suspended_by or "").startswith("rev-")  # ids say their kind
    text = (
        N_(
            "the entry on '{list}' is suspended while review {case} is open",
            list=_list_title(e),
            case=e.suspended_by,
        )
        if review
        else N_(
            "the entry on '{list}' is suspended while objection {case} is open",
            list=_list_title(e),
            case=e.suspended_by,
        )
    )
    return Reason(
        "suspended",
        text,
        list_id=e.qualified_id,
        since=e.since,
        until=e.planned_end,
    )


def _score_reasons(measure: Measure, s: Score) -> list[Reason]:
    trig = measure.trigger
    tests: list[tuple[str, Text]] = []
    scheme = _scheme_title(s.scheme)
    if trig.grades and s.grade in trig.grades:
        grades = _listed([_grade(s, g) for g in trig.grades])
        tests.append(
            (
                "grade",
                N_(
                    "grade {grade} under {scheme} is one of {grades}",
                    grade=_grade(s, s.grade),
                    scheme=scheme,
                    grades=grades,
                ),
            )
        )
    # a tier model has no score to compare (the linter rejects such a trigger)
    if trig.score_at_least is not None and s.kind != "tier" and s.score >= trig.score_at_least:
        at_least = N_("score {score} under {scheme} is at least {threshold}", score=s.score, scheme=scheme,
                      threshold=format(trig.score_at_least, "g"))  # fmt: skip
        tests.append(("score", at_least))
    if trig.score_below is not None and s.kind != "tier" and s.score < trig.score_below:
        below = N_("score {score} under {scheme} is below {threshold}", score=s.score, scheme=scheme,
                   threshold=format(trig.score_below, "g"))  # fmt: skip
        tests.append(("score", below))
    return [
        Reason(
            basis,
            text,
            grounds=tuple(c.record_id for c in s.reasons if c.record_id),
            legal_basis=measure.legal_basis,
            how_to_resolve=measure.how_to_resolve,
            # a punishment that applies is adverse: its reason codes are what lowered the score
            explanation=tuple(c.text for c in (s.adverse if measure.kind == "punishment" else s.reasons)),
        )
        for basis, text in tests
    ]


def _scheme_title(scheme_id: str) -> Title:
    """A scheme named in a reason: by its id in English (as the audit log has always kept it),
    by its title in Chinese."""
    return Title("scheme", scheme_id, scheme_id, scheme_id)


def _grade(s: Score, grade: str) -> str:
    """A grade as a reason names it: a tier by its title in the reader's language (``bad``,
    ``较差``), a letter grade as it is."""
    return Title("tier", grade, grade, s.scheme) if s.kind == "tier" else grade


def _shown(s: Score) -> Text:
    """A score as a reason states it: a tier by name only (it has no points)."""
    scheme, grade = _scheme_title(s.scheme), _grade(s, s.grade)
    if s.kind == "tier":
        return N_("{scheme}: {grade}", scheme=scheme, grade=grade)
    return N_("{scheme}: {score} ({grade})", scheme=scheme, score=s.score, grade=grade)


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
    computed as of ``at``. For a punishment the answer is deny when an active, unsuspended
    entry of a trigger list, or the trigger's grade or score test, holds; a suspended entry is
    named in the allowing answer. For a reward it is allow only when such a trigger holds."""
    plan = _plan(measure)
    if subject_kind not in plan.applies_to:
        return Decision(subject, measure.id, measure.kind, True, at, (plan.n_a[subject_kind],))
    found: list[Reason] = []
    suspended: list[Reason] = []
    if entries:
        day = day_of(at)
        for e in entries:
            _, reason, paused = plan.entry(e)
            if reason is not None and e.active_on(day):
                if e.suspended_by is None:
                    found.append(reason)
                elif paused is not None:
                    suspended.append(paused)
    if plan.scheme is not None:
        s = scores.get(plan.scheme)
        if s is not None:
            found.extend(plan.score_reasons(s))
    if plan.punishment:
        if found:
            return Decision(subject, measure.id, measure.kind, False, at, tuple(found))
        return Decision(subject, measure.id, measure.kind, True, at, (*suspended, plan.none))
    if found:
        return Decision(subject, measure.id, measure.kind, True, at, tuple(found))
    return Decision(subject, measure.id, measure.kind, False, at, (_wanting(measure, scores),))


def _wanting(measure: Measure, scores: Mapping[str, Score]) -> Reason:
    """Why a reward is not given: what it requires and what the subject has."""
    t = measure.trigger
    wants: list[Text] = []
    own = scores.get(t.scheme) if t.scheme else None
    if t.lists:
        wants.append(N_("an active entry on {lists}", lists=_either([_list_ref(ref) for ref in t.lists])))
    if t.grades and t.scheme:
        named = [
            Title("tier", g, g, t.scheme) if own is not None and own.kind == "tier" else g for g in t.grades
        ]
        wants.append(
            N_("grade {grades} under {scheme}", grades=_either(named), scheme=_scheme_title(t.scheme))
        )
    if t.score_at_least is not None and t.scheme:
        wants.append(
            N_(
                "a score of at least {threshold} under {scheme}",
                threshold=format(t.score_at_least, "g"),
                scheme=_scheme_title(t.scheme),
            )
        )
    shown = [s for s in scores.values() if t.scheme is None or s.scheme == t.scheme]
    have: str = _joined([_shown(s) for s in shown]) if shown else N_("no score")
    return Reason(
        "no-trigger",
        N_(
            "'{measure}' requires {wants}; current: {have}",
            measure=_measure_title(measure),
            wants=_either(wants),
            have=have,
        ),
        grounds=tuple(c.record_id for c in own.adverse if c.record_id) if own else (),
        legal_basis=measure.legal_basis,
        how_to_resolve=measure.how_to_resolve if own else None,
        explanation=tuple(c.text for c in own.adverse) if own else (),  # adverse: what lowered it
    )


def _list_ref(ref: str) -> Title:
    """A trigger's list (``scheme/list``) by its title in the reader's language (its reference
    in English, as the reason has always said)."""
    scheme, _, list_id = ref.partition("/")
    return Title("list", list_id, ref, scheme)


def _joined(parts: Sequence[str]) -> str:
    """``parts`` joined by "; ", still worded late (a :class:`Text` when there are several)."""
    out = parts[0]
    for p in parts[1:]:
        out = N_("{a}; {b}", a=out, b=p)
    return out


def _either(parts: Sequence[str]) -> str:
    """``parts`` joined by "or" in the reader's language."""
    out = parts[0]
    for p in parts[1:]:
        out = N_("{a} or {b}", a=out, b=p)
    return out


def _listed(parts: Sequence[str]) -> str:
    """``parts`` as a list in the reader's language (``A, B``; ``A、B``)."""
    out = parts[0]
    for p in parts[1:]:
        out = N_("{a}, {b}", a=out, b=p)
    return out
