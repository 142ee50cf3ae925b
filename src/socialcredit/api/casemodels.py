"""The API's models of due process and disclosure: cases, notices, what is overdue, public
lists and lookups, the sources' accuracy and the transparency report.

Kept apart from :mod:`socialcredit.api.models` (records, subjects, scores, decisions, keys, the
audit log) by concern; both serve the API and the CLI's ``--json``, so their shapes are one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, Field

from socialcredit import codes
from socialcredit.api.models import Listing, UtcDatetime
from socialcredit.i18n import N_, translate
from socialcredit.rules.days import day_of
from socialcredit.schemes.titles import prose
from socialcredit.service import Notice, SourceAccuracy
from socialcredit.service.casefiles import Case
from socialcredit.service.publiclists import PublicPage
from socialcredit.store.sealedcases import ErasedCase

# ---------------------------------------------------------------------------------- due process


class CaseOut(BaseModel):
    """An objection, a review, a restoration application or an erasure request and where it
    stands."""

    ok: bool = True
    kind: str
    id: str
    subject: str
    status: str
    open: bool
    detail: dict[str, Any]

    @classmethod
    def of(cls, c: Case) -> CaseOut:
        """The case's fields in ``detail``, with its ``history``: each step, and for a decision
        its decider (``by``)."""
        fields = {
            f.name: getattr(c, f.name)
            for f in dataclasses.fields(c)
            if f.name not in ("events", "kind", "id", "subject", "status")
        }
        detail = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in fields.items()}
        detail["history"] = [
            {"at": s.at.isoformat(), "event": s.event, "role": s.role, "by": s.by} for s in c.history
        ]
        return cls(kind=c.kind, id=c.id, subject=c.subject, status=c.status, open=c.is_open, detail=detail)


class ErasedCaseOut(BaseModel):
    """A case whose file was erased (its key destroyed): "erased on D under rule R", with its id,
    kind and filing day and nothing else. Its events are still in the cases chain and counted by
    ``verify``; nothing of what they said can be read (decisions 0061, 0071)."""

    id: str
    kind: str
    filed_on: dt.date = Field(description="The day (China) the case was filed")
    erased_on: dt.date = Field(description="The day (China) its key was destroyed")
    rule: str = Field(description="The rule it was erased under: retention, or erasure on request, case N")
    label: str

    @classmethod
    def of(cls, e: ErasedCase) -> ErasedCaseOut:
        day = day_of(e.at)
        return cls(
            id=e.case_id,
            kind=e.case_kind,
            filed_on=day_of(e.filed_at),
            erased_on=day,
            rule=e.rule,
            label=translate(
                N_(
                    "case {case_id} was erased on {day} under rule {rule}",
                    case_id=e.case_id,
                    day=day.isoformat(),
                    rule=e.rule,
                )
            ),
        )


class CasesOut(Listing[CaseOut]):
    erased: list[ErasedCaseOut] = Field(
        default_factory=list,
        description="Cases whose file was erased, each as its id, kind, days and rule, with no content",
    )

    @classmethod
    def of(cls, cases: Iterable[Case], erased: Iterable[ErasedCase] = ()) -> CasesOut:
        rows = [CaseOut.of(c) for c in cases]
        return cls(data=rows, count=len(rows), erased=[ErasedCaseOut.of(e) for e in erased])


class NoticeOut(BaseModel):
    list_id: str
    title: str
    subject: str
    noticed_on: dt.date
    takes_effect_on: dt.date
    status: str
    grounds: list[dict[str, Any]]
    how_to_object: str
    legal_basis: str | None

    @classmethod
    def of(cls, n: Notice, *, mask: bool = False) -> NoticeOut:
        return cls(
            list_id=n.list_id,
            title=n.title,
            subject=codes.mask(n.subject) if mask else n.subject,
            noticed_on=n.noticed_on,
            takes_effect_on=n.takes_effect_on,
            status=n.status,
            grounds=[
                {"record_id": g[0], "item": g[1], "occurred_on": g[2].isoformat(), "evidence": g[3]}
                for g in n.grounds
            ],
            how_to_object=n.how_to_object,
            legal_basis=prose(n.legal_basis),
        )


class NoticesOut(Listing[NoticeOut]):
    @classmethod
    def of(cls, notices: Iterable[Notice]) -> NoticesOut:
        return cls.of_rows(NoticeOut.of(n) for n in notices)


class OverdueOut(Listing[dict[str, Any]]):
    @classmethod
    def of(cls, late: Iterable[tuple[Case, list[str]]], removals: Iterable[Any] = ()) -> OverdueOut:
        """Each late case as :class:`CaseOut` has it, with what is late (``late``), then each
        listing whose removal was reported after it was due (``kind: late removal``, SPC Art. 10)."""
        cases = [{**CaseOut.of(c).model_dump(mode="json"), "late": why} for c, why in late]
        return cls.of_rows([*cases, *(r.as_dict() for r in removals)])


# ---------------------------------------------------------------------------------- disclosure


class PublicListOut(Listing[dict[str, Any]]):
    """A page of a list's entries in force, each with exactly the fields the list publishes (the
    court's rules name them), so the keys of a row depend on the list; ``total`` rows matched the
    search, on ``pages`` pages (the portal's pages, the same order)."""

    total: int = Field(description="rows matching the search, on every page")
    page: int
    pages: int
    rescore_of: UtcDatetime | None = Field(
        None,
        description="Set when the rows are as of the last rescore of the population, not live: "
        "the moment it describes (a server just started, or on a new day, while it rescores)",
    )

    @classmethod
    def of_page(cls, found: PublicPage) -> PublicListOut:
        return cls(
            data=found.rows,
            count=len(found.rows),
            total=found.total,
            page=found.page,
            pages=found.pages,
            rescore_of=found.rescore_of,
        )


class PublicRecordOut(BaseModel):
    item: str
    title: str
    occurred_on: dt.date
    source: str


class PublicEntryOut(BaseModel):
    list: str = Field(description="scheme/list")
    title: str
    since: dt.date
    planned_end: dt.date


class PublicScoreOut(BaseModel):
    score: int
    grade: str


class PublicLookupOut(BaseModel):
    """What the public may see of a subject, where the schemes open its kind to lookup."""

    ok: Literal[True] = True
    code: str
    kind: str
    name: str | None
    records: list[PublicRecordOut]
    lists: list[PublicEntryOut]
    scores: dict[str, PublicScoreOut]


class SourceAccuracyOut(BaseModel):
    source: str
    records: int
    overturned: int
    overturned_share: float
    median_days_to_correct: float | None
    removals: int = Field(0, description="List entries its records removed")
    removed_late: int = Field(0, description="Of those, removals it reported after they were due")
    median_days_late: float | None = Field(None, description="The median days late of those")

    @classmethod
    def of(cls, a: SourceAccuracy) -> SourceAccuracyOut:
        return cls(**dataclasses.asdict(a))


class SourcesOut(Listing[SourceAccuracyOut]):
    @classmethod
    def of(cls, sources: Iterable[SourceAccuracy]) -> SourcesOut:
        return cls.of_rows(SourceAccuracyOut.of(a) for a in sources)


class ObjectionsOut(BaseModel):
    filed: int
    upheld: int
    rejected: int
    open: int
    overdue: int
    median_days_to_decide: float | None


class ReviewsOut(BaseModel):
    """Human reviews of listings derived by rule."""

    filed: int
    set_aside: int
    confirmed: int
    open: int
    overdue: int


class RestorationsOut(BaseModel):
    applied: int
    granted: int


class GroupScoresOut(BaseModel):
    subjects: int
    mean: float | None = Field(description="Mean score; null for a tier rating (its score is a tier level)")
    grades: dict[str, int] = Field(description="Subjects per grade")


class GroupRateOut(BaseModel):
    """One group's rate of a harm (listed, refused) against the best-off group (``fairness.py``)."""

    group: str
    n: int = Field(description="Members (listed) or decisions asked (refused)")
    events: int
    rate: float
    rate_low: float = Field(description="Wilson 95 % interval")
    rate_high: float
    impact_ratio: float | None = Field(
        description="Favourable rate over the best-off group's; null: fewer than 30, too few to judge"
    )
    impact_low: float | None
    impact_high: float | None
    four_fifths: bool = Field(description="Impact ratio below 0.8: adverse impact by the four-fifths rule")
    relative_risk: float | None = Field(description="The group's rate over the best-off group's")
    risk_low: float | None
    risk_high: float | None
    best: bool


class FairnessOut(BaseModel):
    """Per district, age band and sex, each on its own."""

    listed: dict[str, list[GroupRateOut]]
    refused: dict[str, list[GroupRateOut]]


class TransparencyOut(BaseModel):
    """The public transparency report: list sizes, measures applied, objections, reviews and
    restorations, the sources' accuracy, and persons' mean scores by district and by age band
    (so gaps between groups are visible)."""

    ok: Literal[True] = True
    as_of: UtcDatetime
    known_at: UtcDatetime | None = Field(
        default=None, description="The report as it stood then, from what was known by then; null: now"
    )
    rescore_of: UtcDatetime | None = Field(
        None,
        description="Set when the report is as of the last rescore of the population, not live: "
        "the moment it describes (a server just started, or on a new day, while it rescores)",
    )
    subjects: int
    records: int
    lists: dict[str, int]
    measures_applied: dict[str, dict[str, int]]
    objections: ObjectionsOut
    reviews: ReviewsOut
    restorations: RestorationsOut
    source_accuracy: list[SourceAccuracyOut]
    scores_by_district: dict[str, dict[str, GroupScoresOut]]
    scores_by_age_band: dict[str, dict[str, GroupScoresOut]]
    fairness: FairnessOut
