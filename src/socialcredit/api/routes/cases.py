"""Due process over HTTP: objections, appeals, human reviews of listings derived by rule,
restoration applications, erasure requests, notices, deadlines."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

from fastapi import APIRouter, Query
from pydantic import ConfigDict, Field

from socialcredit import access, codes, documents
from socialcredit.api.casemodels import CaseOut, CasesOut, NoticesOut, OverdueOut
from socialcredit.api.deps import CodePath, CurrentKey, SystemDep, role
from socialcredit.api.inputs import CODE_SCHEMA, RequestIn, code_field, text_field
from socialcredit.dueprocess.cases import Objection
from socialcredit.i18n import N_
from socialcredit.service import NotFound

router = APIRouter(tags=["due process"])


class ObjectionIn(RequestIn):
    """An objection to one record or one list entry: exactly one of ``record_id``, ``list_id``."""

    model_config = ConfigDict(extra="forbid")
    cross_field_rules: ClassVar[dict[str, Any]] = {
        "oneOf": [
            {"required": [name], "properties": {name: {"type": "string"}}}
            for name in ("record_id", "list_id")
        ]
        + [
            {
                "required": ["document"],
                "properties": {"document": {"type": "string", "pattern": documents.written_pattern()}},
            }
        ]
    }
    subject: str = code_field()
    record_id: str | None = Field(None, max_length=64, description="The record objected to")
    list_id: str | None = Field(None, max_length=130, description="Or the list entry (scheme/list)")
    document: Annotated[str, Field(json_schema_extra={"pattern": documents.written_pattern()})] | None = (
        Field(None, max_length=100, description="Or a document wrongly linked (e.g. passport:CHN:E12345678)")
    )
    statement: str = text_field()
    evidence: list[Annotated[str, Field(max_length=500)]] = Field(default_factory=list, max_length=20)


class ReviewIn(RequestIn):
    model_config = ConfigDict(extra="forbid")
    subject: str = code_field()
    list_id: str = Field(max_length=130, description="The listing to review (scheme/list)")
    statement: str = text_field()
    evidence: list[Annotated[str, Field(max_length=500)]] = Field(default_factory=list, max_length=20)


class DecisionIn(RequestIn):
    model_config = ConfigDict(extra="forbid")
    upheld: bool = Field(description="Uphold the objection or appeal / grant the restoration")
    reason: str = text_field()


class AppealIn(RequestIn):
    model_config = ConfigDict(extra="forbid")
    statement: str = text_field()


class RestorationIn(RequestIn):
    model_config = ConfigDict(extra="forbid")
    subject: str = code_field()
    record_id: str = Field(max_length=64)
    conduct_corrected: str = text_field()
    obligations_fulfilled: str = text_field()
    commitment: str = text_field()


class ErasureIn(RequestIn):
    """A request to erase a record (with every record of the subject and year under its key)."""

    model_config = ConfigDict(extra="forbid")
    record_id: str = Field(max_length=64, description="The record to erase")
    statement: str = text_field()


@router.post("/objections", operation_id="file_objection", response_model=CaseOut, status_code=201)
def file_objection(body: ObjectionIn, key: CurrentKey, system: SystemDep) -> CaseOut:
    """Object to a record, a list entry or a document wrongly linked to the subject (the subject,
    an organisation's legal representative, or an operator). The review deadline starts now."""
    return CaseOut.of(
        system.file_objection(
            principal=key,
            subject=body.subject,
            record_id=body.record_id,
            list_id=body.list_id,
            document=body.document,
            statement=body.statement,
            evidence=body.evidence,
        )
    )


@router.get("/objections", operation_id="list_cases", response_model=CasesOut)
def list_cases(
    key: Annotated[access.Principal, role("operator", "subject", to=N_("see due-process cases"))],
    system: SystemDep,
    subject: Annotated[str | None, Query(max_length=64, json_schema_extra=CODE_SCHEMA)] = None,
    open_only: Annotated[bool, Query(alias="open")] = False,
) -> CasesOut:
    """Objections, reviews, restoration applications and erasure requests (each with its
    ``kind``): a subject's own; all of them for operators. Cases whose file was erased are in
    ``erased``, each "erased on D under rule R" (decision 0071)."""
    code = codes.validate(subject).value if subject is not None else None  # "" is no code
    found = system.cases(principal=key, subject=code, open_only=open_only)
    erased = [] if open_only else system.erased_cases(principal=key, subject=code)  # never open
    return CasesOut.of(found, erased)


def _decide(system: Any, key: access.Principal, case_id: str, kind: str, body: DecisionIn) -> CaseOut:
    """Decide an objection or a review (``kind``) under review, or its appeal."""
    access.require(
        key.role == "operator", N_("decide objections") if kind == "objection" else N_("decide reviews")
    )
    current = next((c for c in system.cases(principal=key) if c.id == case_id), None)
    if not isinstance(current, Objection) or current.kind != kind:
        raise NotFound(N_("no {kind} {case_id!r}", kind=kind, case_id=case_id), field=f"{kind}_id")
    decide = system.decide_appeal if current.status == "under appeal" else system.decide_objection
    return CaseOut.of(decide(principal=key, objection_id=case_id, upheld=body.upheld, reason=body.reason))


@router.post("/objections/{objection_id}/decision", operation_id="decide_objection", response_model=CaseOut)
def decide_objection(
    objection_id: str,
    body: DecisionIn,
    key: Annotated[access.Principal, role("operator", to=N_("decide objections"))],
    system: SystemDep,
) -> CaseOut:
    """An operator decides an objection under review, or an appeal (by someone other than the
    objection's decider: SPC provisions, Art. 12); upheld means the records are withdrawn at
    once."""
    return _decide(system, key, objection_id, "objection", body)


@router.post("/objections/{objection_id}/appeal", operation_id="appeal", response_model=CaseOut)
def appeal(objection_id: str, body: AppealIn, key: CurrentKey, system: SystemDep) -> CaseOut:
    """Appeal a rejected objection within the appeal period."""
    return CaseOut.of(
        system.appeal(principal=key, objection_id=objection_id, statement=body.statement, kind="objection")
    )


@router.post("/reviews", operation_id="file_review", response_model=CaseOut, status_code=201)
def file_review(body: ReviewIn, key: CurrentKey, system: SystemDep) -> CaseOut:
    """Ask for a person to review a listing the system derived by rule, with no decision by a
    named official (a list by grade, for example; GDPR Art. 22). Decided within 15 days by an
    operator not involved in the subject's cases so far; meanwhile the list's
    ``during_objection`` says whether its measures stay or are suspended. Listed with the other
    cases at ``GET /objections``."""
    return CaseOut.of(
        system.file_review(
            principal=key,
            subject=body.subject,
            list_id=body.list_id,
            statement=body.statement,
            evidence=body.evidence,
        )
    )


@router.post("/reviews/{review_id}/decision", operation_id="decide_review", response_model=CaseOut)
def decide_review(
    review_id: str,
    body: DecisionIn,
    key: Annotated[access.Principal, role("operator", to=N_("decide reviews"))],
    system: SystemDep,
) -> CaseOut:
    """An operator not involved so far decides a review (upheld: the listing is set aside, its
    grounds withdrawn), or another operator its appeal."""
    return _decide(system, key, review_id, "review", body)


@router.post("/reviews/{review_id}/appeal", operation_id="appeal_review", response_model=CaseOut)
def appeal_review(
    review_id: str,
    body: AppealIn,
    key: Annotated[access.Principal, role("operator", "subject", to=N_("appeal reviews"))],
    system: SystemDep,
) -> CaseOut:
    """Appeal a review that confirmed the listing, within the appeal period."""
    return CaseOut.of(
        system.appeal(principal=key, objection_id=review_id, statement=body.statement, kind="review")
    )


@router.post("/restorations", operation_id="apply_restoration", response_model=CaseOut, status_code=201)
def apply_restoration(body: RestorationIn, key: CurrentKey, system: SystemDep) -> CaseOut:
    """Apply for credit restoration after the record's minimum publication period."""
    return CaseOut.of(
        system.apply_restoration(
            principal=key,
            subject=body.subject,
            record_id=body.record_id,
            conduct_corrected=body.conduct_corrected,
            obligations_fulfilled=body.obligations_fulfilled,
            commitment=body.commitment,
        )
    )


@router.post("/restorations/{case_id}/decision", operation_id="decide_restoration", response_model=CaseOut)
def decide_restoration(
    case_id: str,
    body: DecisionIn,
    key: Annotated[access.Principal, role("operator", to=N_("decide restoration applications"))],
    system: SystemDep,
) -> CaseOut:
    return CaseOut.of(
        system.decide_restoration(principal=key, case_id=case_id, granted=body.upheld, reason=body.reason)
    )


@router.post(
    "/subjects/{code}/erasure-requests", operation_id="file_erasure", response_model=CaseOut, status_code=201
)
def file_erasure(code: CodePath, body: ErasureIn, key: CurrentKey, system: SystemDep) -> CaseOut:
    """Ask for a record to be erased (the subject, its legal representative, or an operator on its
    behalf), where the schemes allow it: a record withdrawn as wrong, or one of an opt-in scheme's
    items (``erasure_on_request``). Its data key goes, so every record of the subject and year
    under it goes too (``detail.record_ids``). Decided by an operator within the review period;
    listed with the other cases at ``GET /objections``."""
    return CaseOut.of(
        system.file_erasure(
            principal=key,
            subject=codes.validate(code).value,
            record_id=body.record_id,
            statement=body.statement,
        )
    )


@router.post("/erasure-requests/{case_id}/decision", operation_id="decide_erasure", response_model=CaseOut)
def decide_erasure(
    case_id: str,
    body: DecisionIn,
    key: Annotated[access.Principal, role("operator", to=N_("decide erasure requests"))],
    system: SystemDep,
) -> CaseOut:
    """An operator grants (``upheld``: the data key is destroyed at once, the records read "erased
    on D under rule R") or refuses an erasure request, with its reason."""
    return CaseOut.of(
        system.decide_erasure(principal=key, case_id=case_id, granted=body.upheld, reason=body.reason)
    )


@router.get("/subjects/{code}/notices", operation_id="subject_notices", response_model=NoticesOut)
def subject_notices(code: CodePath, key: CurrentKey, system: SystemDep) -> NoticesOut:
    """The notices of listing given to a subject: grounds, when it takes effect, how to object."""
    c = codes.validate(code).value
    access.require(system.may_act_for(key, c), N_("read this subject's notices"))
    return NoticesOut.of(system.notices(c))


@router.get("/notices/pending", operation_id="pending_notices", response_model=NoticesOut)
def pending_notices(key: CurrentKey, system: SystemDep) -> NoticesOut:
    return NoticesOut.of(system.pending_notices(principal=key))


@router.get("/overdue", operation_id="overdue", response_model=OverdueOut)
def overdue(key: CurrentKey, system: SystemDep) -> OverdueOut:
    """What is late (operators): open cases past a deadline, then list entries whose removal was
    reported after it was due (``kind: late removal``), each with what is late."""
    return OverdueOut.of(system.overdue(principal=key), system.late_removals(principal=key))
