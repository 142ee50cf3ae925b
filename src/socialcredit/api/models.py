"""Request and response models: a family per resource (``RecordsIn``, ``IngestOut``, ...).

The command line prints its ``--json`` answers through these same models (each ``Out`` model's
``of`` builds it from the service's result), so a script reading ``socialcredit score --json``
and a client reading ``GET /subjects/{code}`` get one shape that cannot drift; what only the
command line reports has its models in :mod:`socialcredit.api.reports`.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from typing import Annotated, Any, Generic, Literal, Self, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
)

from socialcredit import codes
from socialcredit.api.explainmodels import ExplanationOut
from socialcredit.api.inputs import RequestIn as RequestIn
from socialcredit.chaincheck import ChainProblem
from socialcredit.chaincheck import Kind as ChainFaultKind
from socialcredit.errors import Refused
from socialcredit.history import Ended
from socialcredit.i18n import N_, reword, translate
from socialcredit.ledger import IngestResult, Record
from socialcredit.lists import ListEntry
from socialcredit.rules.days import day_of, moment
from socialcredit.schemes.titles import prose
from socialcredit.scoring.points import Score
from socialcredit.scoring.result import AdjustmentKind
from socialcredit.service import Consent, Enrolment, RegisterResult, SubjectView
from socialcredit.shredding import ErasedRecord

MAX_BATCH = 10_000


def _utc(value: dt.datetime) -> str:
    """Times are kept as naive UTC; on the wire they carry their zone ("Z"), because the OpenAPI
    document promises RFC 3339 date-times, which need one (schemathesis found the naive form)."""
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value.isoformat() + "Z"


def _moment(value: object) -> object:
    """An ``as_of`` / ``known_at`` value: ISO text, a bare date meaning the end of that day in
    China (``rules.days.moment``), as naive UTC."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise Refused(N_("expected an ISO 8601 date or date-time string like 2025-06-30"))
    try:
        return moment(value)
    except ValueError:
        raise Refused(
            N_("{value!r} is not an ISO date or date-time like 2025-06-30", value=value[:40])
        ) from None


def iso_only(value: object) -> object:
    """A time must be an ISO 8601 string: pydantic would read a number as seconds since 1970, so
    a stray ``"expires_at": 58211`` made a key that had expired in 1970 (found by schemathesis)."""
    if value is not None and not isinstance(value, str):
        raise ValueError("expected an ISO 8601 date-time string like 2027-01-01T00:00:00Z")
    return value


def iso_date_time(value: object) -> object:
    """A time in a query must be written as an ISO 8601 date-time: pydantic would read
    ``as_of=3.04e-127`` as seconds since 1970 (found by schemathesis, a repeated ``as_of``)."""
    if isinstance(value, str) and not re.match(r"^\d{4}-\d{2}-\d{2}", value):
        raise ValueError("expected an ISO 8601 date-time like 2026-11-02T10:00:00Z")
    return value


UtcDatetime = Annotated[dt.datetime, PlainSerializer(_utc, return_type=str, when_used="json")]

Row = TypeVar("Row")


class Listing(BaseModel, Generic[Row]):
    """``{"ok": true, "data": [...], "count": n}``: every list the API answers, in one shape."""

    ok: Literal[True] = True
    data: list[Row]
    count: int

    @classmethod
    def of_rows(cls, rows: Iterable[Row]) -> Self:
        data = list(rows)
        return cls(data=data, count=len(data))


class RecordsIn(BaseModel):
    """A batch of records from one agency. Each row is validated on its own, so one bad row
    is quarantined with its reasons and the rest are still accepted. A correction or withdrawal
    names the record it supersedes by ``corrects`` (its id) or ``corrects_source_record_id`` (the
    ``source_record_id`` the same agency gave it), not both."""

    model_config = ConfigDict(extra="forbid")
    records: list[dict[str, Any]] = Field(max_length=MAX_BATCH)


class SubjectsIn(BaseModel):
    """Subjects to register or update (operators only)."""

    model_config = ConfigDict(extra="forbid")
    subjects: list[dict[str, Any]] = Field(max_length=MAX_BATCH)


class QuarantinedOut(BaseModel):
    row_number: int
    reasons: list[str]


class IngestOut(BaseModel):
    ok: Literal[True] = True
    batch_id: str
    submitted: int
    accepted: int
    duplicate: int
    quarantined: int
    quarantine: list[QuarantinedOut]

    @classmethod
    def of(cls, r: IngestResult) -> IngestOut:
        return cls(
            batch_id=r.batch_id,
            submitted=r.submitted,
            accepted=r.accepted,
            duplicate=r.duplicate,
            quarantined=r.quarantined,
            quarantine=[
                QuarantinedOut(row_number=q.row_number, reasons=[reword(x) for x in q.reasons])
                for q in r.quarantine
            ],
        )


class RegisterOut(BaseModel):
    ok: Literal[True] = True
    submitted: int
    added: int
    updated: int
    unchanged: int
    quarantined: int
    quarantine: list[QuarantinedOut]

    @classmethod
    def of(cls, r: RegisterResult) -> RegisterOut:
        return cls(
            submitted=r.submitted,
            added=r.added,
            updated=r.updated,
            unchanged=r.unchanged,
            quarantined=r.quarantined,
            quarantine=[
                QuarantinedOut(row_number=q.row_number, reasons=[reword(x) for x in q.reasons])
                for q in r.quarantine
            ],
        )


class ContributionOut(BaseModel):
    record_id: str
    item: str
    title: str
    source: str
    occurred_on: dt.date
    counts_until: dt.date
    points: int


class ReasonCodeOut(BaseModel):
    record_id: str | None
    item: str | None
    text: str
    effect: float = Field(description="Points (points and factor models) or tier steps (tier model)")


class FactorOut(BaseModel):
    factor: str
    title: str
    value: float
    mapped: float
    weight: float
    points: float
    enabled: bool


class AdjustmentOut(BaseModel):
    """A line of an explanation that is no record: the scheme's maximum or minimum holding the
    score, or a factor score's rounding; its points make the lines add up to the score."""

    kind: AdjustmentKind
    points: float = Field(description="What the line adds to the score (negative: deducts)")
    bound: int | None = Field(description="The maximum or minimum that held the score; none for rounding")
    text: str = Field(examples=["capped at the maximum of 1,000: -30"])


class ScoreOut(BaseModel):
    """A score and its explanation: ``start`` plus the point lines (``explanation`` for a points
    model, ``factors`` for a factor model) plus ``adjustments`` is ``score``."""

    scheme: str
    kind: str = Field("points", description="The scheme's model: points, tier or factor")
    as_of: UtcDatetime
    base: int
    score: int = Field(description="Points; for a tier model the tier's level (0 = lowest tier)")
    grade: str
    clamped: bool = Field(description="Whether the scheme's maximum or minimum held the score")
    start: int | None = Field(
        None,
        description="Where the point lines start: the base (points model) or the minimum (factor model); "
        "none for a tier model",
    )
    explanation: list[ContributionOut]
    factors: list[FactorOut] = Field(default_factory=list)
    adjustments: list[AdjustmentOut] = Field(
        default_factory=list,
        description="Lines that are no record: a clamp to the maximum or minimum, a rounding",
    )
    reasons: list[ReasonCodeOut] = Field(
        default_factory=list, description="What moved the score most, in plain words (reason codes)"
    )
    explained: ExplanationOut | None = Field(
        None, description="The score explained in one shape for every model kind (render this one)"
    )

    @classmethod
    def of(cls, s: Score) -> ScoreOut:
        return cls(
            explained=ExplanationOut.of(s.explained) if s.explained is not None else None,
            scheme=s.scheme,
            as_of=s.as_of,
            base=s.base,
            score=s.score,
            kind=s.kind,
            grade=s.grade,
            clamped=s.clamped,
            start=s.start,
            factors=[FactorOut(**asdict(f)) for f in s.factors],
            adjustments=[AdjustmentOut(**asdict(a)) for a in s.adjustments],
            reasons=[ReasonCodeOut(**(asdict(r) | {"text": translate(r.text)})) for r in s.reasons],
            explanation=[
                ContributionOut(
                    record_id=c.record_id,
                    item=c.item,
                    title=c.title,
                    source=c.source,
                    occurred_on=c.occurred_on,
                    counts_until=c.counts_until,
                    points=c.points,
                )
                for c in s.contributions
            ],
        )


class EntryOut(BaseModel):
    list_id: str
    title: str
    kind: str
    status: str
    noticed_on: dt.date
    since: dt.date
    planned_end: dt.date | None = Field(description="None: no fixed period, until a removal ground")
    ended_on: dt.date | None
    end_reason: str | None
    removal_due: dt.date | None
    days_late: int = Field(0, description="Days its removal was reported after removal_due")
    grounds: list[str]
    extended_by: str | None = Field(None, description="The decision record that extended the period")
    legal_basis: str | None
    via: str | None
    revised: str | None = Field(
        None,
        description="What a correction of the rules changed in this entry, or that it was made under "
        "an earlier version whose listings stay as it set them, and why (decisions 0028, 0051)",
    )
    ended_by: str | None = Field(
        None, description="The record that ended it (a removal ground, a correction, a withdrawal)"
    )

    @classmethod
    def of(cls, e: ListEntry) -> EntryOut:
        return cls(
            list_id=e.qualified_id,
            title=e.title,
            kind=e.kind,
            status=e.status,
            noticed_on=e.noticed_on,
            since=e.since,
            planned_end=e.planned_end,
            ended_on=e.ended_on,
            end_reason=None if e.end_reason is None else reword(e.end_reason),
            removal_due=e.removal_due,
            days_late=e.days_late,
            grounds=list(e.grounds),
            extended_by=e.extended_by,
            legal_basis=prose(e.legal_basis),
            via=e.via,
            revised=None if e.revised is None else reword(e.revised),
            ended_by=e.ended_by,
        )


class RecordOut(BaseModel):
    record_id: str
    seq: int
    item: str
    source: str
    source_record_id: str
    occurred_on: dt.date
    reported_at: UtcDatetime
    evidence: str | None
    action: str
    corrects: str | None
    details: dict[str, Any]

    @classmethod
    def of(cls, r: Record) -> RecordOut:
        return cls(
            record_id=r.record_id,
            seq=r.seq,
            item=r.item,
            source=r.source,
            source_record_id=r.source_record_id,
            occurred_on=r.occurred_on,
            reported_at=r.reported_at,
            evidence=r.evidence,
            action=r.action,
            corrects=r.corrects,
            details=dict(r.details),
        )


class EndedRecordOut(BaseModel):
    """A record no longer in force, kept in the subject's history with what ended it."""

    record: RecordOut
    ended_on: dt.date = Field(description="The day (China) the record that ended it arrived")
    ended_by: str = Field(description="The correction, withdrawal or restoration record")
    how: str = Field(description="corrected | withdrawn | credit restored")
    label: str

    @classmethod
    def of(cls, e: Ended) -> EndedRecordOut:
        return cls(
            record=RecordOut.of(e.record),
            ended_on=e.ended_on,
            ended_by=e.by.record_id,
            how=e.how,
            label=translate(e.label),
        )


class ErasedRecordOut(BaseModel):
    """A record whose data key was destroyed: "erased on D under rule R", with no content. It is
    still in the ledger and counted by ``verify``; nothing else of it can be read."""

    record_id: str
    erased_on: dt.date = Field(description="The day (China) its key was destroyed")
    rule: str = Field(description="The rule it was erased under: retention, or erasure on request, case N")
    label: str

    @classmethod
    def of(cls, e: ErasedRecord) -> ErasedRecordOut:
        day = day_of(e.at)
        return cls(
            record_id=e.record_id,
            erased_on=day,
            rule=e.rule,
            label=translate(N_("erased on {day} under rule {rule}", day=day.isoformat(), rule=e.rule)),
        )


class SubjectOut(BaseModel):
    ok: Literal[True] = True
    code: str
    kind: str
    name: str | None
    district: str | None
    legal_representative: str | None
    as_of: UtcDatetime
    scores: list[ScoreOut]
    lists: list[EntryOut]
    records: list[RecordOut]
    ended_lists: list[EntryOut] = Field(
        description="Entries a correction, withdrawal or restoration ended, each labelled with what ended it"
    )
    ended_records: list[EndedRecordOut] = Field(
        description="Records no longer in force, each with the record that ended it"
    )
    erased_records: list[ErasedRecordOut] = Field(
        default_factory=list,
        description="Records erased (their key destroyed), each as its day and rule, with no content",
    )
    versions: dict[str, str] = Field(
        default_factory=dict,
        description="The version of each scheme in force at as_of, which gave these answers",
    )

    @classmethod
    def of(cls, v: SubjectView, *, mask_others: bool) -> SubjectOut:
        """The view as shown; with ``mask_others`` (anyone but an operator), the codes of other
        subjects in it (a representative, an organisation listed through) are masked."""
        shown = codes.mask if mask_others else (lambda c: c)
        s = v.subject
        rep = s.legal_representative if s else None
        return cls(
            code=v.code,
            kind=v.kind,
            name=s.name if s else None,
            district=s.district if s else None,
            legal_representative=shown(rep) if rep else None,
            as_of=v.as_of,
            scores=[ScoreOut.of(x) for x in v.scores.values()],
            lists=[
                EntryOut.of(e).model_copy(update={"via": shown(e.via) if e.via else None}) for e in v.entries
            ],
            records=[RecordOut.of(r) for r in v.records],
            ended_lists=[
                EntryOut.of(e).model_copy(update={"via": shown(e.via) if e.via else None})
                for e in v.ended_entries
            ],
            ended_records=[EndedRecordOut.of(e) for e in v.ended_records],
            erased_records=[ErasedRecordOut.of(e) for e in v.erased],
            versions=v.versions,
        )


class EnrolmentOut(BaseModel):
    """Where a subject stands with an opt-in scheme: ``since`` is when it joined (``member``) or
    left (``left``); ``may_leave`` whether the scheme has a way to leave, ``may_apply`` whether
    the subject may join by applying."""

    ok: Literal[True] = True
    scheme: str
    title: str
    status: Literal["member", "left", "not a member"]
    since: UtcDatetime | None
    may_leave: bool
    may_apply: bool = Field(description="Whether the subject may apply itself (POST .../apply)")

    @classmethod
    def of(cls, e: Enrolment) -> EnrolmentOut:
        return cls(
            scheme=e.scheme,
            title=e.title,
            status=e.status,
            since=e.since,
            may_leave=e.may_leave,
            may_apply=e.may_apply,
        )


class ConsentOut(BaseModel):
    """Whether a subject consents to being named on a list that publishes only with consent
    (decision 0042); ``since`` is when it last gave or withdrew it."""

    ok: Literal[True] = True
    list: str
    title: str
    given: bool
    since: UtcDatetime | None

    @classmethod
    def of(cls, c: Consent) -> ConsentOut:
        return cls(list=c.list, title=c.title, given=c.given, since=c.since)


class AuditOut(BaseModel):
    seq: int
    at: UtcDatetime
    key_id: str | None
    role: str | None
    principal: str | None
    action: str
    subject: str | None
    measure: str | None
    purpose: str | None
    answer: str | None
    detail: dict[str, Any]


class AuditListOut(BaseModel):
    ok: Literal[True] = True
    data: list[AuditOut]
    count: int


class ProblemOut(BaseModel):
    """One fault of a chain. ``problem`` is the message ("altered: seq N", "missing between seq N
    and M", "reordered: seq A and seq B"); ``kind`` and ``seqs`` say the same for a program, and
    name no other entry. ``seq`` and ``record_id`` are the first entry named (``?`` for a
    removal), as before there were kinds."""

    seq: int
    record_id: str
    problem: str
    kind: ChainFaultKind
    seqs: list[int]

    @classmethod
    def of(cls, p: ChainProblem) -> ProblemOut:
        return cls(seq=p.seq, record_id=p.record_id, problem=p.problem, kind=p.kind, seqs=list(p.seqs))


class VerifyOut(BaseModel):
    ok: bool
    records: int
    audit_entries: int
    problems: dict[str, list[ProblemOut]]

    @classmethod
    def of(
        cls, problems: Mapping[str, Iterable[ChainProblem]], *, records: int, audit_entries: int
    ) -> VerifyOut:
        found = {k: [ProblemOut.of(p) for p in v] for k, v in problems.items()}
        return cls(ok=not any(found.values()), records=records, audit_entries=audit_entries, problems=found)
