"""A subject's record: scores with item-by-item explanations, list entries, records."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Query

from socialcredit import access
from socialcredit.api.deps import CodePath, CurrentKey, SystemDep, role
from socialcredit.api.historymodels import HistoryOut
from socialcredit.api.models import (
    ConsentOut,
    EnrolmentOut,
    Listing,
    RegisterOut,
    SubjectOut,
    SubjectsIn,
)
from socialcredit.errors import Refused
from socialcredit.i18n import N_
from socialcredit.rules import days
from socialcredit.rules.days import day_of

router = APIRouter(prefix="/subjects", tags=["subjects"])


WHEN = {
    "anyOf": [
        {"type": "string", "format": "date"},
        {"type": "string", "format": "date-time"},
        {"type": "null"},
    ]
}
"""A time in a query: an ISO 8601 date or date-time (what ``rules.days.moment`` reads), or left
out. The null keeps the schema true to the optional parameter: without it a generated "invalid"
null was sent as no parameter at all, which is valid, and a negative-mode test failed at random."""

KnownAt = Annotated[
    str | None,
    Query(
        max_length=40,
        description="Knowledge time: from what the system had received by then (default now); "
        "a bare date means the end of that day in China Standard Time",
        json_schema_extra=WHEN,
    ),
]


@router.get("/{code}", operation_id="read_subject", response_model=SubjectOut)
def read_subject(
    code: CodePath,
    key: CurrentKey,
    system: SystemDep,
    as_of: Annotated[
        str | None,
        Query(
            max_length=40,
            description="Valid time: the view at a past time (default now); a bare date means the "
            "end of that day in China Standard Time",
            json_schema_extra=WHEN,
        ),
    ] = None,
    known_at: KnownAt = None,
    purpose: Annotated[str, Query(max_length=500, pattern=r"^[^\x00]*$")] = "subject access",
) -> SubjectOut:
    """The subject's own record (or an operator's view of it); every read is audited."""
    v = system.read(
        code, key, purpose=purpose, as_of=moment(as_of, "as_of"), known_at=moment(known_at, "known_at")
    )
    return SubjectOut.of(v, mask_others=key.role != "operator")


@router.get("/{code}/history", operation_id="read_subject_history", response_model=HistoryOut)
def read_subject_history(
    code: CodePath,
    key: CurrentKey,
    system: SystemDep,
    since: Annotated[
        str | None,
        Query(
            alias="from",
            max_length=40,
            description="Valid time: the first day shown (default: the first change); a "
            "date-time means its day in China",
            json_schema_extra=WHEN,
        ),
    ] = None,
    to: Annotated[
        str | None,
        Query(
            max_length=40,
            description="Valid time: the history up to then (default now); a bare date means the "
            "end of that day in China Standard Time",
            json_schema_extra=WHEN,
        ),
    ] = None,
    known_at: KnownAt = None,
    purpose: Annotated[str, Query(max_length=500, pattern=r"^[^\x00]*$")] = "subject access",
) -> HistoryOut:
    """Every change of the subject's scores in valid time, each under the scheme version in force
    that day, as known at ``known_at``, and where today's knowledge differs, both (issue 17).
    Who may read the subject's record may read its history; every read is audited."""
    first = moment(since, "from")
    h = system.score_history(
        code,
        key,
        purpose=purpose,
        since=day_of(first) if first is not None else None,
        until=moment(to, "to"),
        known_at=moment(known_at, "known_at"),
    )
    return HistoryOut.of(h)


@router.post("", operation_id="register_subjects", response_model=RegisterOut)
def register_subjects(
    body: SubjectsIn,
    key: Annotated[access.Principal, role("operator", to=N_("register subjects"))],
    system: SystemDep,
) -> RegisterOut:
    """Register or update subjects and their legal representatives (operators only)."""
    r = system.register_rows(list(enumerate(body.subjects, start=1)), principal=key)
    return RegisterOut.of(r)


def moment(value: str | None, name: str) -> dt.datetime | None:
    """A query's time (``rules.days.moment``), or a refusal naming the parameter."""
    if value is None:
        return None
    try:
        return days.moment(value)
    except ValueError:
        raise Refused(
            N_("{value!r} is not an ISO date or date-time like 2025-06-30", value=value), field=name
        ) from None


@router.get("/{code}/enrolments", operation_id="list_enrolments", response_model=Listing[EnrolmentOut])
def list_enrolments(code: CodePath, key: CurrentKey, system: SystemDep) -> Listing[EnrolmentOut]:
    """Where the subject stands with every opt-in scheme that rates its kind (Sesame Credit,
    Honest Shanghai): a member since when, left when, or not a member."""
    return Listing[EnrolmentOut].of_rows(EnrolmentOut.of(e) for e in system.enrolments(code, key))


@router.post(
    "/{code}/enrolments/{scheme}/withdraw", operation_id="withdraw_enrolment", response_model=EnrolmentOut
)
def withdraw_enrolment(code: CodePath, scheme: str, key: CurrentKey, system: SystemDep) -> EnrolmentOut:
    """Leave an opt-in scheme with the subject's own key: a withdrawal record (source ``self``)
    is added to the ledger; from then on the scheme has no score for the subject and reads none of
    its records known by then (PIPL Art. 15 and 47). 409 if the subject is not a member."""
    return EnrolmentOut.of(system.withdraw(code, scheme, key))


SchemePath = Annotated[str, Path(max_length=64, description="A scheme's id, such as honest-shanghai")]
ListPath = Annotated[
    str, Path(max_length=64, description="A list's id within its scheme, such as honour-roll")
]


@router.post("/{code}/enrolments/{scheme}/apply", operation_id="apply_enrolment", response_model=EnrolmentOut)
def apply_enrolment(code: CodePath, scheme: SchemePath, key: CurrentKey, system: SystemDep) -> EnrolmentOut:
    """Apply to (join) an opt-in scheme with the subject's own key: an application record
    (source ``self``) is added to the ledger, and the scheme rates the subject from then on
    (Honest Shanghai). 422 for a scheme one joins otherwise (Sesame: the platform's identity
    check); 409 if the subject is already a member."""
    return EnrolmentOut.of(system.apply(code, scheme, key))


@router.get("/{code}/consents", operation_id="list_consents", response_model=Listing[ConsentOut])
def list_consents(code: CodePath, key: CurrentKey, system: SystemDep) -> Listing[ConsentOut]:
    """The subject's consent to each list that names subjects in public only with it
    (Rongcheng's honour roll, decision 0042)."""
    return Listing[ConsentOut].of_rows(ConsentOut.of(c) for c in system.consents(code, key))


@router.post(
    "/{code}/consents/{scheme}/{list_id}/give", operation_id="give_consent", response_model=ConsentOut
)
def give_consent(
    code: CodePath, scheme: SchemePath, list_id: ListPath, key: CurrentKey, system: SystemDep
) -> ConsentOut:
    """Consent, with the subject's own key, to being named on the list in public: a consent
    record (source ``self``). 409 if the subject already consents."""
    return ConsentOut.of(system.consent(code, f"{scheme}/{list_id}", key, give=True))


@router.post(
    "/{code}/consents/{scheme}/{list_id}/withdraw", operation_id="withdraw_consent", response_model=ConsentOut
)
def withdraw_consent(
    code: CodePath, scheme: SchemePath, list_id: ListPath, key: CurrentKey, system: SystemDep
) -> ConsentOut:
    """Withdraw consent to being named on the list: a withdrawal record (source ``self``); the
    list stops naming the subject at once, while the entry and its benefits stand. 409 if the
    subject does not consent."""
    return ConsentOut.of(system.consent(code, f"{scheme}/{list_id}", key, give=False))
