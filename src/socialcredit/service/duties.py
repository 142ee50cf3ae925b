"""Separation of duties: every case decision names its decider, and who may decide what.

The court's rules make the first decision and its review the work of different bodies (SPC
provisions on the list of dishonest judgment debtors, Art. 12: against a rejection, review by the
next higher court). Here, where one office runs the scheme, the bodies are people: an appeal is
decided by a different principal from the one who decided the objection, and a human review of a
listing derived by rule by an operator not involved in the subject's cases so far. Both are
checkable only because a decision event records its decider's principal (the holder its key
names, ``access.Principal.holder``) and operator keys must name their holder
(docs/decisions/0027-separation-of-duties.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from socialcredit import access
from socialcredit.dueprocess import review
from socialcredit.dueprocess.cases import DECISIONS, CaseEvent, CaseKind, Objection
from socialcredit.i18n import N_, word
from socialcredit.service.casefiles import CaseFiles
from socialcredit.service.context import Context

ART_12 = N_(
    "SPC provisions on the list of dishonest judgment debtors, Art. 12: against a rejection, "
    "review by the next higher court, so the first decision and the review are made by different "
    "bodies"
)


class Duties:
    """Case events with their deciders, and the checks on who may decide (over the case files,
    which resolve the deciders of events recorded before deciders were)."""

    def __init__(self, context: Context, casefiles: CaseFiles) -> None:
        self.context = context
        self.casefiles = casefiles

    def append_event(
        self,
        principal: access.Principal,
        case_id: str,
        kind: CaseKind,
        event: str,
        subject: str,
        payload: Mapping[str, Any],
    ) -> None:
        """Append one step of a case; a decision records its decider's principal."""
        body = dict(payload)
        if event in DECISIONS:
            body["decider"] = principal.holder
        self.context.store.append_case_event(
            CaseEvent(
                case_id, kind, event, self.context.clock(), subject, principal.key_id, principal.role, body
            )
        )

    def require_appeal_decider(self, principal: access.Principal, o: Objection) -> None:
        """An appeal is decided by someone other than the objection's decider (:data:`ART_12`)."""
        if o.decided_by is not None and principal.holder == o.decided_by:
            raise access.AccessDenied(
                N_(
                    "decide the appeal of {kind} {case_id}: {holder} decided the {kind}, and an "
                    "appeal is decided by a different official ({basis})",
                    kind=word(o.kind),
                    case_id=o.id,
                    holder=o.decided_by,
                    basis=ART_12,
                )
            )

    def involved_in(self, o: Objection) -> set[str]:
        """The principals involved so far in the cases related to review ``o``: whoever decided
        anything in a case of its subject (or of the organisation its entry comes through), and
        an operator who filed the review on the subject's behalf."""
        subjects = {o.subject, *([via] if (via := o.events[0].payload.get("via")) else [])}
        events = [e for s in sorted(subjects) for e in self.context.store.case_events(subject=s)]
        out = {by for e in self.casefiles.with_deciders(events) if (by := e.decider) is not None}
        filed = o.events[0]
        if filed.role == "operator" and filed.key_id is not None:
            out.add(self.casefiles.key_holder(filed.key_id))
        return out

    def require_uninvolved(self, principal: access.Principal, o: Objection) -> None:
        """A human review is decided by an operator not involved so far (:meth:`involved_in`):
        a person who already decided about the subject would review their own work."""
        if principal.holder in self.involved_in(o):
            raise access.AccessDenied(
                N_(
                    "decide review {case_id}: {holder} is already involved in this subject's cases "
                    "(a decision, or filing this review), and a human review is decided by an operator "
                    "not involved so far ({basis})",
                    case_id=o.id,
                    holder=principal.holder,
                    basis=review.BASIS,
                )
            )

    def audit_decision(
        self,
        principal: access.Principal,
        case_id: str,
        kind: str,
        subject: str,
        *,
        upheld: bool,
        step: str,
    ) -> None:
        """A case decision in the audit log too (action ``case-decide``), beside the case's own
        history: the audit log is where every administrative act is found (issue #18). The
        reason stays in the case file; the entry names the case, its kind, the step (decision,
        appeal decision) and the outcome."""
        self.context.audit(
            principal,
            "case-decide",
            subject=subject,
            answer="upheld" if upheld else "rejected",
            detail={"case_id": case_id, "kind": kind, "step": step},
        )
