"""A decision's headline in plain words, for the person at the desk who acts on it.

Why: the check page read "ALLOW — no-flights (punishment)", which an airline clerk reads as
"allow the ban" (issue 18). The answer is about the service, not the measure: ALLOW means the
subject may have it, since no measure applies; DENY means it is refused because a measure
applies, and names the list entry (or grade) that makes it apply. A code the system has never
heard of is said to be unknown, not passed as a clean record. The portal and the command line
word the same :class:`~socialcredit.i18n.Text`, in the reader's language.
"""

from __future__ import annotations

from socialcredit import i18n
from socialcredit.decisions import Decision, Reason
from socialcredit.i18n import N_, Text
from socialcredit.schemes import titles
from socialcredit.schemes.loader import Registry


def verdict(decision: Decision, registry: Registry) -> Text:
    """The headline of ``decision``, its measure and list titled in the reader's language: what
    the answer lets the relying party do, and why."""
    measure = registry.measures().get(decision.measure)
    m = titles.title_of("measure", decision.measure, measure.title if measure else decision.measure)
    punishment = decision.measure_kind == "punishment"
    if not decision.subject_known:
        if punishment:
            return N_(
                "This code is unknown to the system: no record, so no measure applies (“{measure}”)",
                measure=m,
            )
        return N_(
            "This code is unknown to the system: no record, so it does not qualify for “{measure}”",
            measure=m,
        )
    cause = next((r for r in decision.reasons if r.basis in ("list", "grade", "score")), None)
    if decision.allowed and punishment:
        if any(r.basis == "not-applicable" for r in decision.reasons):
            return N_("May proceed: “{measure}” does not apply to this kind of subject", measure=m)
        if any(r.basis == "suspended" for r in decision.reasons):
            return N_("May proceed: “{measure}” is suspended while an objection or review is open", measure=m)
        return N_("May proceed: “{measure}” does not apply to this subject", measure=m)
    if decision.allowed:
        return N_("Granted: “{measure}”, because {why}", measure=m, why=_because(cause, registry))
    if punishment:
        return N_("Refused: “{measure}” applies because {why}", measure=m, why=_because(cause, registry))
    return N_("Not granted: “{measure}”: the subject does not qualify", measure=m)


def _because(reason: Reason | None, registry: Registry) -> Text:
    """What makes the measure apply: the list entry (with its date) or the grade or score."""
    if reason is None:
        return N_("the scheme's rule holds")
    if reason.basis == "list" and reason.list_id:
        scheme_id, _, list_id = reason.list_id.partition("/")
        title = titles.title_of("list", list_id, registry.list_def(reason.list_id).title, scheme_id)
        since = i18n.format_date(reason.since) if reason.since else ""
        if reason.via:
            return N_(
                "the subject is on {list} since {since}, as legal representative of a listed organisation",
                list=title,
                since=since,
            )
        return N_("the subject is on {list} since {since}", list=title, since=since)
    return N_("the rule: {rule}", rule=reason.text)
