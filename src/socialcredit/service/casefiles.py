"""Reading due-process cases: each case folded from its events, with every decision naming its
decider. A service of its own because the view needs it (an open objection or review may suspend
a list's measures) and every due-process service reads cases through it.

Why deciders are resolved here: a decision event stores its decider's principal in its payload
(``decider``). Events written before that rule name only the key; their decider is the key's
principal, looked up once per read (:meth:`CaseFiles.with_deciders`), never written back: the
cases chain is append-only and its hashes cover the payload as stored.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence

from socialcredit import access
from socialcredit.dueprocess.cases import (
    DECISIONS,
    OBJECTION_KINDS,
    CaseEvent,
    Deadlines,
    ErasureRequest,
    Objection,
    Restoration,
    fold_erasure,
    fold_objection,
    fold_restoration,
)
from socialcredit.errors import NotFound as NotFound
from socialcredit.i18n import N_
from socialcredit.rules.days import day_of
from socialcredit.service.context import Context
from socialcredit.store.sealedcases import ErasedCase

Case = Objection | Restoration | ErasureRequest
"""A case as the services return it: an objection (or a review, ``kind == "review"``, folded the
same way), a restoration application or an erasure request."""


class CaseFiles:
    """The cases of one installation, read from its store under its schemes."""

    def __init__(self, context: Context) -> None:
        self.context = context

    def may_act_for(self, principal: access.Principal, subject: str) -> bool:
        """The subject itself, the legal representative of an organisation subject, or an operator."""
        if principal.role == "operator":
            return True
        if principal.role != "subject" or principal.principal is None:
            return False
        if principal.principal == subject:
            return True
        row = self.context.store.subject(subject)
        return row is not None and row.legal_representative == principal.principal

    def _deadlines(self, scheme_id: str | None) -> Deadlines:
        scheme = self.context.registry.schemes.get(scheme_id) if scheme_id else None
        if scheme is None:  # a record's objection: the court's rules, the strictest published ones
            return Deadlines()
        d = scheme.due_process
        return Deadlines(
            d.review_days,
            d.correction_working_days,
            d.appeal_days,
            d.appeal_decision_days,
            d.restoration_decision_working_days,
        )

    def fold_objections(self, events: Iterable[CaseEvent], at: dt.datetime) -> list[Objection]:
        """Objection and review events (in chain order) folded as they stood at ``at``."""
        by_case: dict[str, list[CaseEvent]] = {}
        for e in events:
            if e.at <= at:
                by_case.setdefault(e.case_id, []).append(e)
        return [self._fold_objection(evs) for evs in by_case.values()]

    def _fold_objection(self, events: Sequence[CaseEvent]) -> Objection:
        list_id = events[0].payload.get("list_id")
        scheme = list_id.split("/")[0] if list_id else None
        return fold_objection(events, self._deadlines(scheme), self.context.holidays)

    def fold(self, events: Sequence[CaseEvent]) -> Case:
        """One case from its events (chain order), deciders resolved."""
        return self._fold(events)

    def _fold(self, events: Sequence[CaseEvent]) -> Case:
        """One case from its events (chain order), deciders resolved."""
        events = self.with_deciders(events)
        if events[0].case_kind in OBJECTION_KINDS:
            return self._fold_objection(events)
        if events[0].case_kind == "erasure":
            return fold_erasure(events, Deadlines())
        return fold_restoration(events, Deadlines(), self.context.holidays)

    def with_deciders(self, events: Sequence[CaseEvent]) -> list[CaseEvent]:
        """``events`` with each decision's ``decider`` in its payload: as recorded, or for an event
        recorded before deciders were, the principal of its key (see the module docstring)."""
        out = []
        for e in events:
            if e.kind in DECISIONS and "decider" not in e.payload and e.key_id is not None:
                e = dataclasses.replace(e, payload={**e.payload, "decider": self.key_holder(e.key_id)})
            out.append(e)
        return out

    def key_holder(self, key_id: str) -> str:
        """The principal of a key by id (``access.holder_of``); a key the store does not hold
        (the command line's ``local``) is its own."""
        stored = self.context.store.key(key_id)
        return access.holder_of(key_id, stored.principal if stored else None)

    def objection(self, case_id: str) -> Objection:
        """An objection or a review by id."""
        events = self.context.store.case_events(case_id=case_id)
        if not events or events[0].case_kind not in OBJECTION_KINDS:
            self._erased(case_id, "objection_id")
            raise NotFound(N_("no objection or review {case_id!r}", case_id=case_id), field="objection_id")
        case = self._fold(events)
        assert isinstance(case, Objection)
        return case

    def restoration(self, case_id: str) -> Restoration:
        """A restoration application by id."""
        events = self.context.store.case_events(case_id=case_id, case_kind="restoration")
        if not events:
            self._erased(case_id, "case_id")
            raise NotFound(N_("no restoration application {case_id!r}", case_id=case_id), field="case_id")
        case = self._fold(events)
        assert isinstance(case, Restoration)
        return case

    def erasure(self, case_id: str) -> ErasureRequest:
        """An erasure request by id."""
        events = self.context.store.case_events(case_id=case_id, case_kind="erasure")
        if not events:
            self._erased(case_id, "case_id")
            raise NotFound(N_("no erasure request {case_id!r}", case_id=case_id), field="case_id")
        case = self._fold(events)
        assert isinstance(case, ErasureRequest)
        return case

    def _erased(self, case_id: str, field: str) -> None:
        """Say so if the case was erased (its key destroyed, decision 0061): its file reads as
        "erased on D under rule R", nothing else of it is shown."""
        for gone in self.context.store.erased_cases(case_id=case_id):
            raise NotFound(
                N_(
                    "case {case_id} was erased on {day} under rule {rule}",
                    case_id=case_id,
                    day=day_of(gone.at).isoformat(),
                    rule=gone.rule,
                ),
                field=field,
            )

    def erased_cases(self, *, principal: access.Principal, subject: str | None = None) -> list[ErasedCase]:
        """The cases (a subject's own, or all for an operator) whose file was erased: each read
        as "erased on D under rule R" with its id, kind and filing time."""
        if principal.role != "operator":
            subject = subject or principal.principal
            access.require(
                subject is not None and self.may_act_for(principal, subject), N_("see due-process cases")
            )
        return self.context.store.erased_cases(subject=subject)

    def cases(
        self,
        *,
        principal: access.Principal,
        subject: str | None = None,
        open_only: bool = False,
        known_at: dt.datetime | None = None,
    ) -> list[Case]:
        """Objections, reviews, restoration applications and erasure requests: a subject's own, or all for an
        operator; with ``known_at``, as they stood then, from the events recorded by then (a
        case filed later is absent, one decided later still open)."""
        if principal.role != "operator":
            if subject is None:
                subject = principal.principal
            access.require(
                subject is not None and self.may_act_for(principal, subject), N_("see these cases")
            )
        by_case: dict[str, list[CaseEvent]] = {}
        for e in self.context.store.case_events(subject=subject):
            if known_at is not None and e.at > known_at:
                continue
            by_case.setdefault(e.case_id, []).append(e)
        out: list[Case] = []
        for events in by_case.values():
            case = self._fold(events)
            if not open_only or case.is_open:
                out.append(case)
        return out
