"""Erasure on request (issue 21 point 3, decision 0054), on SQLite and PostgreSQL.

Issue 21: "Erasure on request where a scheme allows it (an opt-in private scheme; a record
withdrawn as wrong). The operator decides it as a case, with the usual deadlines and a reason. The
decision is audited; the audit entry names the subject masked." DOMAIN.md: critics ask for "the
right to correct and to be forgotten"; in the EU (GDPR) "a person has rights of access,
rectification and erasure".
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from socialcredit import access, codes
from socialcredit.dueprocess.cases import ErasureRequest
from socialcredit.engines.export import export_ledger
from socialcredit.errors import Conflict, Refused
from socialcredit.schemes import shipped_registry
from socialcredit.schemes.loader import Registry
from socialcredit.service import System
from socialcredit.store import Store
from socialcredit.subjects import SubjectRow
from tests.conftest import Clock, person
from tests.support.schemes import item, scheme

P = person(71)


def row(srid: str, item: str, source: str, occurred: str, subject: str = P) -> dict[str, Any]:
    return {
        "subject": subject,
        "item": item,
        "source": source,
        "source_record_id": srid,
        "occurred_on": occurred,
        "reported_at": f"{occurred}T12:00:00",
        "evidence": "platform log",
    }


def rid(system: System, source: str, srid: str) -> str:
    """A record's id, keyed by the test's store (decision 0080)."""
    return system.store.stored_record_id(source, srid)


JOINED = row("v-1", "identity.verified", "public-security", "2026-01-05")
GAMES = row("g-1", "consumption.video-game-hours", "online-platforms", "2026-02-01")
RED = row("r-1", "traffic.red-light", "traffic-police", "2026-03-01")
OLD_RED = row("r-0", "traffic.red-light", "traffic-police", "2025-03-01")
OPERATOR_2 = access.Principal("k-op2", "operator", "op-2")


def subject_key(code: str) -> access.Principal:
    return access.Principal("k-subject", "subject", code)


def test_the_shipped_schemes_say_what_they_allow() -> None:
    """Sesame, the opt-in private scheme, allows erasure of its members' data on request; every
    government scheme only of a record withdrawn as wrong."""
    schemes = shipped_registry().schemes
    assert schemes["sesame"].erasure_on_request == "any"
    assert {s.erasure_on_request for i, s in schemes.items() if i != "sesame"} == {"withdrawn"}


def test_an_opt_in_members_own_records_are_erased_on_request(system: System, clock: Clock) -> None:
    op = system.operator()
    system.register([SubjectRow(P, "person", "Zhou Jiebin")])
    assert system.ingest([(1, JOINED), (2, GAMES)], origin="t", principal=op).accepted == 2
    assert "sesame" in system.view(P).scores
    case = system.file_erasure(
        principal=subject_key(P),
        subject=P,
        record_id=rid(system, "online-platforms", "g-1"),
        statement="I left.",
    )
    assert isinstance(case, ErasureRequest) and case.status == "under review" and case.year == "2026"
    # the whole key: every record of the subject and year goes with it, and the request says so
    assert set(case.record_ids) == {
        rid(system, "public-security", "v-1"),
        rid(system, "online-platforms", "g-1"),
    }
    # the usual deadline: the review period (15 days by the court's rules)
    assert case.decision_due == clock.now.date() + dt.timedelta(days=15)
    assert [c.id for c in system.cases(principal=op, open_only=True)] == [case.id]
    clock.now += dt.timedelta(days=16)
    assert [(c.id, why) for c, why in system.overdue(principal=op)] == [
        (case.id, [f"erasure decision was due by {case.decision_due.isoformat()}"])
    ]
    with pytest.raises(Refused) as no_reason:
        system.decide_erasure(principal=OPERATOR_2, case_id=case.id, granted=True, reason=" ")
    assert no_reason.value.field == "reason"
    done = system.decide_erasure(principal=OPERATOR_2, case_id=case.id, granted=True, reason="PIPL Art. 47")
    assert done.status == "granted" and done.decided_by == "op-2"
    assert done.rule == f"erasure on request, case {case.id}"
    # erased: unreadable, no Sesame score, still counted by verify, "erased on D under rule R"
    assert system.store.records_for(P) == [] and "sesame" not in system.view(P).scores
    assert system.verify()["records"] == [] and system.store.head("records")[0] == 2
    erased = system.erased_records(P)
    assert [(e.record_id, e.at, e.rule) for e in erased] == [
        (r, clock.now, done.rule)
        for r in (rid(system, "public-security", "v-1"), rid(system, "online-platforms", "g-1"))
    ]
    erasure = system.erasure_of(rid(system, "online-platforms", "g-1"))
    assert erasure is not None and erasure.rule == done.rule
    # its last record key gone, its registration goes with it, and still verifies (decision 0074)
    assert system.store.subject(P) is None and system.verify()["registry"] == []
    # audited, the subject masked
    entry = [e for e in system.audit_log(op) if e["action"] == "case-decide"][-1]
    assert entry["subject"] == codes.mask(P) != P
    assert entry["answer"] == "granted" and entry["detail"]["rule"] == done.rule
    # decided once
    with pytest.raises(Conflict):
        system.decide_erasure(principal=op, case_id=case.id, granted=False, reason="again")


def test_a_key_that_also_holds_a_government_record_is_refused_naming_it(system: System) -> None:
    op = system.operator()
    system.ingest([(1, JOINED), (2, GAMES), (3, RED)], origin="t", principal=op)
    with pytest.raises(Refused) as refused:
        system.file_erasure(
            principal=subject_key(P),
            subject=P,
            record_id=rid(system, "online-platforms", "g-1"),
            statement="x",
        )
    assert refused.value.field == "record_id"
    assert rid(system, "traffic-police", "r-1") in str(refused.value) and "erasure_on_request" in str(
        refused.value
    )
    with pytest.raises(Refused):  # a government record that stands is never erased on request
        system.file_erasure(
            principal=op, subject=P, record_id=rid(system, "traffic-police", "r-1"), statement="x"
        )
    with pytest.raises(access.AccessDenied):  # someone else's records
        system.file_erasure(
            principal=subject_key(person(72)),
            subject=P,
            record_id=rid(system, "traffic-police", "r-1"),
            statement="",
        )


def test_a_record_withdrawn_as_wrong_is_erased_on_request(system: System, clock: Clock) -> None:
    """The government schemes allow it only for a record withdrawn as wrong: an upheld objection
    withdraws it, then its erasure may be asked for; the withdrawal goes with it."""
    op = system.operator()
    system.ingest([(1, OLD_RED), (2, RED)], origin="t", principal=op)
    wrong = rid(system, "traffic-police", "r-0")
    with pytest.raises(Refused):
        system.file_erasure(principal=subject_key(P), subject=P, record_id=wrong, statement="not me")
    me = subject_key(P)
    objection = system.file_objection(principal=me, subject=P, record_id=wrong, statement="not me")
    system.decide_objection(principal=op, objection_id=objection.id, upheld=True, reason="wrong plate")
    case = system.file_erasure(principal=subject_key(P), subject=P, record_id=wrong, statement="erase it")
    assert len(case.record_ids) == 2 and wrong in case.record_ids  # the record and its withdrawal
    with pytest.raises(Conflict):  # one open request per key
        system.file_erasure(principal=subject_key(P), subject=P, record_id=wrong, statement="again")
    system.decide_erasure(principal=op, case_id=case.id, granted=True, reason="withdrawn as wrong")
    assert [r.record_id for r in system.store.records_for(P)] == [rid(system, "traffic-police", "r-1")]
    assert [e.record_id for e in system.erased_records(P)] == list(case.record_ids)
    # the agency re-sending it is told it was erased
    again = system.ingest([(1, OLD_RED)], origin="again", principal=op)
    assert again.quarantined == 1 and f"erasure on request, case {case.id}" in again.quarantine[0].reasons[0]


def test_a_refused_request_keeps_its_reason_and_the_records(system: System) -> None:
    op = system.operator()
    system.ingest([(1, JOINED), (2, GAMES)], origin="t", principal=op)
    case = system.file_erasure(
        principal=subject_key(P),
        subject=P,
        record_id=rid(system, "public-security", "v-1"),
        statement="please",
    )
    done = system.decide_erasure(principal=op, case_id=case.id, granted=False, reason="identity in dispute")
    assert (done.status, done.decision_reason, done.rule) == ("refused", "identity in dispute", None)
    assert len(system.store.records_for(P)) == 2 and system.erased_records(P) == []
    shown = next(c for c in system.cases(principal=subject_key(P), subject=P) if c.id == case.id)
    assert isinstance(shown, ErasureRequest) and shown.decision_reason == "identity in dispute"
    entry = [e for e in system.audit_log(op) if e["action"] == "case-decide"][-1]
    assert entry["subject"] == codes.mask(P) and entry["answer"] == "refused"


def test_an_operator_who_filed_for_the_subject_does_not_decide_it(system: System) -> None:
    """Separation of duties: the operator who asked on the subject's behalf is involved, as one
    who filed a review is (docs/decisions/0027-separation-of-duties.md)."""
    op = access.Principal("k-op1", "operator", "op-1")
    system.ingest([(1, JOINED)], origin="t", principal=system.operator())
    joined = rid(system, "public-security", "v-1")
    case = system.file_erasure(principal=op, subject=P, record_id=joined, statement="x")
    with pytest.raises(access.AccessDenied):
        system.decide_erasure(principal=op, case_id=case.id, granted=True, reason="asked")
    assert system.decide_erasure(principal=OPERATOR_2, case_id=case.id, granted=True, reason="ok").status == (
        "granted"
    )


def test_later_records_of_an_erased_year_are_still_taken_in(system: System) -> None:
    """Decision 0054: a destroyed key is never made again, so the subject's later records of that
    year are sealed under the year's next class; otherwise asking for erasure would shed every
    record of the year still to come. The erased ones stay refused when re-sent."""
    op = system.operator()
    system.ingest([(1, JOINED), (2, GAMES)], origin="t", principal=op)
    case = system.file_erasure(
        principal=op, subject=P, record_id=rid(system, "online-platforms", "g-1"), statement="x"
    )
    system.decide_erasure(principal=OPERATOR_2, case_id=case.id, granted=True, reason="left")
    later = system.ingest([(1, RED)], origin="later", principal=op)
    assert later.accepted == 1, later.quarantine
    (red,) = system.store.records_for(P)
    assert (
        red.record_id == rid(system, "traffic-police", "r-1")
        and red.stored is not None
        and red.stored[0] == "2026.1"
    )
    assert "traffic.red-light" in {c.record_id and c.item for c in system.view(P).records}
    again = system.ingest([(1, GAMES)], origin="again", principal=op)
    assert again.quarantined == 1 and "erased" in again.quarantine[0].reasons[0]
    assert system.verify()["records"] == []


def test_never_while_a_record_under_the_key_grounds_an_entry_in_force(store: Store, clock: Clock) -> None:
    """Issue 21: a key is never destroyed "while a record under that key still ... grounds an
    entry in force"; so a granted request is refused then, naming the entry, and nothing goes."""
    town = scheme(
        item(),
        lists=[
            {"id": "red-lights", "title": "Red-light runners", "kind": "black", "period_days": 365,
             "criteria": {"by": "items", "items": ["traffic.red-light"]}, "legal_basis": "x"}
        ],
        erasure_on_request="any",
    )  # fmt: skip
    system = System(store, Registry.of([town]), clock=clock)
    op = system.operator()
    system.ingest([(1, RED)], origin="t", principal=op)
    assert [e.status for e in system.view(P).entries] == ["active"]
    red = rid(system, "traffic-police", "r-1")
    case = system.file_erasure(principal=op, subject=P, record_id=red, statement="x")
    with pytest.raises(Refused) as refused:
        system.decide_erasure(principal=OPERATOR_2, case_id=case.id, granted=True, reason="asked")
    assert "town/red-lights" in str(refused.value) and "in force or pending" in str(refused.value)
    assert len(system.store.records_for(P)) == 1 and system.erased_records(P) == []
    assert system.cases(principal=op, open_only=True)[0].id == case.id  # still to decide


def test_a_granted_request_purges_an_export_made_before_it(
    system: System, clock: Clock, tmp_path: Path
) -> None:
    """Issue 21: erased records are "no longer exported", and "old exports ... are purged": an
    export made before an erasure on request holds the erased records, so the grant removes it
    (``Retention.purge``, decision 0055), as a retention run does; the decision state of the
    subject is computed again without them."""
    op = system.operator()
    system.ingest([(1, JOINED), (2, GAMES)], origin="t", principal=op)
    export = tmp_path / "export"
    export_ledger(system.store, export, clock=clock)
    assert export.exists()
    case = system.file_erasure(
        principal=subject_key(P),
        subject=P,
        record_id=rid(system, "online-platforms", "g-1"),
        statement="I left.",
    )
    clock.advance(hours=1)
    system.decide_erasure(principal=OPERATOR_2, case_id=case.id, granted=True, reason="PIPL Art. 47")
    assert not export.exists()
    assert system.store.exports.exports() == []


def test_a_record_its_agency_withdrew_in_a_later_year_may_be_erased_but_not_the_withdrawal_alone(
    system: System,
) -> None:
    """Issue 21 point 3: "Erasure on request where a scheme allows it (... a record withdrawn as
    wrong)". The traffic police withdraw P's red light of 2025 in 2026 (the withdrawal dated
    when sent, under P's 2026 key): the red light was withdrawn as wrong, so P may have it erased.
    The withdrawal alone may not go: erased, the wrong record would count again. So a request
    for P's Sesame record of 2026, under the same key as the withdrawal, is refused while the
    red light is readable, naming the withdrawal."""
    op = system.operator()
    system.ingest([(1, OLD_RED), (2, JOINED), (3, GAMES)], origin="t", principal=op)
    withdrawal = {
        **row("r-0-w", "traffic.red-light", "traffic-police", "2026-06-01"),
        "action": "withdraw",
        "corrects_source_record_id": "r-0",
    }
    assert system.ingest([(1, withdrawal)], origin="fix", principal=op).accepted == 1
    counted = system.view(P).scores
    w = rid(system, "traffic-police", "r-0-w")
    with pytest.raises(Refused) as refused:
        system.file_erasure(
            principal=subject_key(P),
            subject=P,
            record_id=rid(system, "online-platforms", "g-1"),
            statement="I left.",
        )
    assert f"record {w} (traffic.red-light, 2026)" in str(refused.value)
    case = system.file_erasure(
        principal=subject_key(P), subject=P, record_id=rid(system, "traffic-police", "r-0"), statement="wrong"
    )
    assert case.year == "2025"
    done = system.decide_erasure(principal=OPERATOR_2, case_id=case.id, granted=True, reason="withdrawn")
    assert done.status == "granted"
    assert system.erasure_of(rid(system, "traffic-police", "r-0")) is not None
    assert system.view(P).scores == counted  # the withdrawn record counted for nothing before either
    # with the red light erased, the withdrawal may go with the rest of 2026
    again = system.file_erasure(
        principal=subject_key(P),
        subject=P,
        record_id=rid(system, "online-platforms", "g-1"),
        statement="I left.",
    )
    assert again.status == "under review"
