"""Objections, appeals, reviews and restoration applications as event-sourced cases.

A case's state and deadlines are folded from its events, so the history of who did what and when
is never overwritten. Deadlines default to the court's rules (Art. 12 of the SPC provisions on the
list of dishonest judgment debtors): review within 15 days, correction within 3 working days of an
upheld objection, appeal within 10 days, decided within 15 days. Restoration follows the national
measures: a negative record may be restored after its minimum publication period (minor: none,
general: 3 months, serious: 1 year), once the conduct is corrected, obligations fulfilled and a
public credit commitment made. An erasure request (issue 21) asks for a record's data key to be
destroyed where the schemes allow it, decided within the review period (``service/erasures.py``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from socialcredit.dueprocess.calendar import add_working_days
from socialcredit.i18n import N_, fill
from socialcredit.rules import kernel
from socialcredit.rules.days import day_of
from socialcredit.rules.ops import PY

CaseKind = Literal["objection", "restoration", "review", "erasure"]
MIN_PUBLICATION_MONTHS = {"minor": 0, "general": 3, "serious": 12}
"""The minimum publication period of an administrative penalty by its severity, in calendar
months (national credit restoration measures: minor "not published or at most 3 months", general
"3 months to 1 year", serious "1 to 3 years"); counted by the kernel's ``publication_over``."""
MAX_PUBLICATION_MONTHS = {"minor": 3, "general": 12, "serious": 36}
"""The longest publication of an administrative penalty by its severity, in calendar months (the
same measures: minor "not published or at most 3 months", general "3 months to 1 year", serious
"1 to 3 years"); after it the penalty is no longer published (``published_until``)."""
OBJECTION_KINDS: tuple[CaseKind, ...] = ("objection", "review")
"""The case kinds folded as objections (:func:`fold_objection`). A review is a subject's request
for human review of a listing the system derived by rule (GDPR Art. 22: not to be subject to a
solely automated decision without human review), folded, decided, appealed and suspending
measures exactly as an objection to the listing is; only who may decide it differs."""
HUMAN_REVIEW_DAYS = 15
"""A review is decided within 15 days (at most the scheme's review period)."""
DECISIONS = frozenset({"decided", "appeal_decided", "corrected"})
"""The events that decide (or carry out a decision): each names its decider (``decider`` in the
payload, the principal of the key that took it), so the case history says who decided."""


@dataclass(frozen=True, slots=True)
class Deadlines:
    """The due-process periods of a scheme (defaults: the court's rules)."""

    review_days: int = 15
    correction_working_days: int = 3
    appeal_days: int = 10
    appeal_decision_days: int = 15
    restoration_decision_working_days: int = 5


@dataclass(frozen=True, slots=True)
class CaseEvent:
    """One step of a case, as stored (append-only, hash-chained)."""

    case_id: str
    case_kind: CaseKind
    kind: str
    at: dt.datetime
    subject: str
    key_id: str | None
    role: str | None
    payload: Mapping[str, Any] = field(default_factory=dict)
    seq: int = 0

    @property
    def decider(self) -> str | None:
        """The principal who took a decision event (None for any other event)."""
        if self.kind not in DECISIONS:
            return None
        by = self.payload.get("decider")
        return str(by) if by is not None else None


@dataclass(frozen=True, slots=True)
class Step:
    """One line of a case's history: when, what, by which role and, for a decision, by whom."""

    at: dt.datetime
    event: str
    role: str | None
    by: str | None


def history(events: Sequence[CaseEvent]) -> tuple[Step, ...]:
    """A case's history from its events, each decision with its decider. Who filed is not named
    (a subject's code, or the representative's, is not for every reader of the case)."""
    return tuple(Step(e.at, e.kind, e.role, e.decider) for e in events)


@dataclass(frozen=True)
class Objection:
    """An objection to a record or a list entry, and where it stands."""

    id: str
    subject: str
    record_ids: tuple[str, ...]
    list_id: str | None
    statement: str
    evidence: tuple[str, ...]
    filed_at: dt.datetime
    filed_by: str | None
    status: str  # "under review" | "upheld" | "corrected" | "rejected" | "under appeal" | "closed"
    review_due: dt.date
    measures_stay: bool
    decided_at: dt.datetime | None = None
    decision_reason: str | None = None
    correction_due: dt.date | None = None
    corrected_at: dt.datetime | None = None
    correction_records: tuple[str, ...] = ()
    appeal_until: dt.date | None = None
    appealed_at: dt.datetime | None = None
    appeal_statement: str | None = None
    appeal_due: dt.date | None = None
    appeal_decided_at: dt.datetime | None = None
    appeal_reason: str | None = None
    decided_by: str | None = None
    appeal_decided_by: str | None = None
    events: tuple[CaseEvent, ...] = ()

    kind: CaseKind = "objection"  # or "review": a human review of a listing derived by rule
    document: str | None = None
    """The document an objection says is wrongly linked to the subject (``type:number``): upheld,
    the link ends (``documents``)."""

    @property
    def is_open(self) -> bool:
        """Open while a decision, a correction or an appeal is pending."""
        return self.status in ("under review", "upheld", "under appeal")

    @property
    def history(self) -> tuple[Step, ...]:
        return history(self.events)

    def overdue(self, today: dt.date) -> list[str]:
        """Which deadlines have passed without the step they require (each a
        :class:`~socialcredit.i18n.Text`: English as a string, worded again for a reader)."""
        late: list[str] = []
        if self.status == "under review" and today > self.review_due:
            late.append(N_("review was due by {day}", day=self.review_due.isoformat()))
        if self.status == "upheld" and self.correction_due and today > self.correction_due:
            late.append(N_("correction was due by {day}", day=self.correction_due.isoformat()))
        if self.status == "under appeal" and self.appeal_due and today > self.appeal_due:
            late.append(N_("appeal decision was due by {day}", day=self.appeal_due.isoformat()))
        return late


class DecidedOnce:
    """A case decided once, by ``decision_due``, and then closed (a restoration, an erasure
    request): open while under review, overdue past its due date, saying so in its own words
    (``LATE``, a template with ``{day}``). An objection has more steps and its own."""

    status: str
    decision_due: dt.date
    events: tuple[CaseEvent, ...]
    LATE: ClassVar[str]

    @property
    def is_open(self) -> bool:
        return self.status == "under review"

    @property
    def history(self) -> tuple[Step, ...]:
        return history(self.events)

    def overdue(self, today: dt.date) -> list[str]:
        if self.status == "under review" and today > self.decision_due:
            return [fill(self.LATE, day=self.decision_due.isoformat())]
        return []


@dataclass(frozen=True)
class Restoration(DecidedOnce):
    """An application for credit restoration of one negative record."""

    id: str
    subject: str
    record_id: str
    item: str
    severity: str
    conduct_corrected: str
    obligations_fulfilled: str
    commitment: str
    applied_at: dt.datetime
    eligible_from: dt.date
    status: str  # "under review" | "granted" | "refused"
    decision_due: dt.date
    decided_at: dt.datetime | None = None
    decision_reason: str | None = None
    restore_record: str | None = None
    decided_by: str | None = None
    events: tuple[CaseEvent, ...] = ()

    kind: CaseKind = "restoration"
    LATE: ClassVar[str] = N_("restoration decision was due by {day}")


def fold_objection(
    events: Sequence[CaseEvent], deadlines: Deadlines, holidays: frozenset[dt.date] = frozenset()
) -> Objection:
    """The state of an objection, or of a review (:data:`OBJECTION_KINDS`), from its events (the
    first must be ``filed``)."""
    first = events[0]
    if first.kind != "filed":
        raise ValueError(f"case {first.case_id}: the first event must be 'filed', not {first.kind!r}")
    p = first.payload
    kind: CaseKind = "review" if first.case_kind == "review" else "objection"
    days = min(deadlines.review_days, HUMAN_REVIEW_DAYS) if kind == "review" else deadlines.review_days
    state: dict[str, Any] = {
        "status": "under review",
        "review_due": day_of(first.at) + dt.timedelta(days=days),
    }
    for e in events[1:]:
        day = day_of(e.at)
        if e.kind == "decided":
            upheld = bool(e.payload["upheld"])
            state.update(
                decided_at=e.at,
                decision_reason=e.payload.get("reason"),
                decided_by=e.decider,
                status="upheld" if upheld else "rejected",
            )
            if upheld:
                state["correction_due"] = add_working_days(day, deadlines.correction_working_days, holidays)
            else:
                state["appeal_until"] = day + dt.timedelta(days=deadlines.appeal_days)
        elif e.kind == "corrected":
            state.update(
                corrected_at=e.at, status="corrected", correction_records=tuple(e.payload.get("records", ()))
            )
        elif e.kind == "appealed":
            state.update(
                appealed_at=e.at,
                appeal_statement=e.payload.get("statement"),
                status="under appeal",
                appeal_due=day + dt.timedelta(days=deadlines.appeal_decision_days),
            )
        elif e.kind == "appeal_decided":
            upheld = bool(e.payload["upheld"])
            state.update(
                appeal_decided_at=e.at,
                appeal_reason=e.payload.get("reason"),
                appeal_decided_by=e.decider,
                status="upheld" if upheld else "closed",
            )
            if upheld:
                state["correction_due"] = add_working_days(day, deadlines.correction_working_days, holidays)
        else:
            raise ValueError(f"case {e.case_id}: unknown event {e.kind!r}")
    return Objection(
        id=first.case_id,
        subject=first.subject,
        record_ids=tuple(p.get("record_ids", ())),
        list_id=p.get("list_id"),
        document=p.get("document"),
        statement=p["statement"],
        evidence=tuple(p.get("evidence", ())),
        filed_at=first.at,
        filed_by=first.key_id,
        measures_stay=bool(p.get("measures_stay", True)),
        events=tuple(events),
        kind=kind,
        **state,
    )


def publicised_penalty(area: str, polarity: str) -> bool:
    """Whether a record of an item in ``area`` with ``polarity`` is an administrative penalty,
    whose publication the national measures limit (``published_until``): a negative record of the
    administrative area."""
    return area == "administrative" and polarity == "negative"


def published_until(occurred_on: dt.date, severity: str) -> dt.date:
    """The first day an administrative penalty of ``severity`` decided on ``occurred_on`` is no
    longer published: after its maximum publication period, in calendar months from the
    penalty's day (the kernel's ``publication_over``). It may still count for the scheme's score
    and lists; publication to the public ends (``Disclosure.public_lookup``)."""
    months = MAX_PUBLICATION_MONTHS.get(severity, MAX_PUBLICATION_MONTHS["general"])
    return dt.date.fromordinal(kernel.publication_over(occurred_on.toordinal(), months, PY))


def restoration_eligible_from(occurred_on: dt.date, severity: str) -> dt.date:
    """The first day a restoration may be applied for: after the minimum publication period,
    in calendar months from the penalty's day (the kernel's ``publication_over``)."""
    months = MIN_PUBLICATION_MONTHS.get(severity, MIN_PUBLICATION_MONTHS["general"])
    return dt.date.fromordinal(kernel.publication_over(occurred_on.toordinal(), months, PY))


def _decided_once(events: Sequence[CaseEvent], **extra: str) -> dict[str, Any]:
    """The state of a case granted or refused once (a restoration application, an erasure
    request) from its events after the first; ``extra`` names each further state field's key in
    the decision's payload."""
    state: dict[str, Any] = {"status": "under review"}
    for e in events[1:]:
        if e.kind != "decided":
            raise ValueError(f"case {e.case_id}: unknown event {e.kind!r}")
        state.update(
            decided_at=e.at,
            decision_reason=e.payload.get("reason"),
            decided_by=e.decider,
            status="granted" if e.payload["granted"] else "refused",
            **{name: e.payload.get(key) for name, key in extra.items()},
        )
    return state


def fold_restoration(
    events: Sequence[CaseEvent], deadlines: Deadlines, holidays: frozenset[dt.date] = frozenset()
) -> Restoration:
    """The state of a restoration application from its events."""
    first = events[0]
    if first.kind != "applied":
        raise ValueError(f"case {first.case_id}: the first event must be 'applied', not {first.kind!r}")
    p = first.payload
    state = _decided_once(events, restore_record="record")
    return Restoration(
        id=first.case_id,
        subject=first.subject,
        record_id=p["record_id"],
        item=p["item"],
        severity=p["severity"],
        conduct_corrected=p["conduct_corrected"],
        obligations_fulfilled=p["obligations_fulfilled"],
        commitment=p["commitment"],
        applied_at=first.at,
        eligible_from=dt.date.fromisoformat(p["eligible_from"]),
        decision_due=add_working_days(
            day_of(first.at), deadlines.restoration_decision_working_days, holidays
        ),
        events=tuple(events),
        **state,
    )


@dataclass(frozen=True)
class ErasureRequest(DecidedOnce):
    """A request to erase a record on request (its data key destroyed, with every record of the
    subject and year under it: ``shredding``), where the schemes allow it (``service/erasures``)."""

    id: str
    subject: str
    record_id: str
    year: str
    """The class of the data key: the year, or a later generation of it (``2026.1``)."""
    record_ids: tuple[str, ...]
    statement: str
    filed_at: dt.datetime
    status: str  # "under review" | "granted" | "refused"
    decision_due: dt.date
    decided_at: dt.datetime | None = None
    decision_reason: str | None = None
    decided_by: str | None = None
    rule: str | None = None
    """What the erasure log names as the rule (``erasure on request, case N``), once granted."""
    events: tuple[CaseEvent, ...] = ()

    kind: CaseKind = "erasure"
    LATE: ClassVar[str] = N_("erasure decision was due by {day}")


def fold_erasure(events: Sequence[CaseEvent], deadlines: Deadlines) -> ErasureRequest:
    """The state of an erasure request from its events: decided within the review period (the
    court's 15 days by default), as an objection is, since both ask the office to act on a
    record."""
    first = events[0]
    if first.kind != "filed":
        raise ValueError(f"case {first.case_id}: the first event must be 'filed', not {first.kind!r}")
    p = first.payload
    state = _decided_once(events, rule="rule")
    return ErasureRequest(
        id=first.case_id,
        subject=first.subject,
        record_id=p["record_id"],
        year=p["year"],
        record_ids=tuple(p.get("record_ids", ())),
        statement=p["statement"],
        filed_at=first.at,
        decision_due=day_of(first.at) + dt.timedelta(days=deadlines.review_days),
        events=tuple(events),
        **state,
    )
