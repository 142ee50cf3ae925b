"""The audit log's personal data is erasable too (issue 21 point 1, decision 0060), on SQLite and
PostgreSQL.

Issue 21: "Every table that holds personal data is covered the same way: records, audit entries,
case events, quarantined rows, the registry." and "No hash kept in the clear may be computed from
guessable personal data without a key". An audit entry stores its subject's keyed pseudonym and
the code only sealed under the subject's audit key, destroyed with the subject's last record key;
the chain covers the stored form, so ``verify`` passes after the erasure.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select

from socialcredit import access, codes
from socialcredit.service import Question, System
from socialcredit.shredding import AUDIT_CLASS, ERASED_CODE
from socialcredit.store import tables as t
from tests.conftest import Clock, person
from tests.support.records import red_light

P, OTHER = person(81), person(82)


def raw_audit(system: System) -> str:
    """Every stored audit row, as text: what a copy of the table would show anyone."""
    with system.store.engine.connect() as conn:
        return json.dumps([dict(m) for m in conn.execute(select(t.audit)).mappings()], default=str)


def subject_key(code: str) -> access.Principal:
    return access.Principal("k-subject", "subject", code)


def looked_at(system: System, op: access.Principal) -> None:
    """The operator reads P's record and asks a question about P; P reads its own page."""
    system.read(P, op, purpose="credit check")
    system.check(Question(P, "no-flights", op, purpose="boarding"))
    system.read(P, subject_key(P), purpose="my own page")


def test_no_code_is_stored_in_the_clear_and_who_asked_still_answers(system: System) -> None:
    op = system.operator()
    assert system.ingest([(1, red_light(P, "a-1", "2026-03-01"))], origin="t", principal=op).accepted == 1
    looked_at(system, op)
    raw = raw_audit(system)
    assert P not in raw  # subject, principal (P's own look) and detail alike
    pseudonym = system.store.sealing.pseudonym(P)
    assert raw.count(pseudonym) >= 4
    # who asked about me: the operator's two looks, found by the pseudonym, read with the code
    others, own, _ = system.looks_about(subject_key(P), P)
    assert [(e["action"], e["subject"], e["principal"]) for e in others] == [
        ("decision", P, op.principal),
        ("read", P, op.principal),
    ]
    assert own == 1
    # the operator's log and its filters name the code
    mine = system.audit_log(op, subject=P)
    assert {e["subject"] for e in mine} == {P}
    assert [e["principal"] for e in mine if e["role"] == "subject"] == [P]
    assert system.verify()["audit"] == []
    # another subject asking is shown its own looks, none of P's
    assert system.looks_about(subject_key(OTHER), P)[0] == []


def test_after_a_retention_run_the_code_is_unreadable_and_verify_passes(system: System, clock: Clock) -> None:
    """Issue 21 point 2: the run destroys P's only record key (past retention and archive); P
    then has no record key left, so its audit key goes too, and the entries read as erased."""
    op = system.operator()
    rows = [(1, red_light(P, "old-1", "2020-03-01")), (2, red_light(OTHER, "new-1", "2026-03-01"))]
    assert system.ingest(rows, origin="t", principal=op).accepted == 2
    looked_at(system, op)
    system.read(OTHER, op, purpose="credit check")
    others, _, _ = system.looks_about(subject_key(P), P)
    assert len(others) == 2  # answered before the erasure
    report = system.retention_run()
    assert report.erased_keys == 1
    vault = system.store.sealing.vault
    pseudonym = system.store.sealing.pseudonym(P)
    erasure = vault.store.erasures_of([(pseudonym, AUDIT_CLASS)])[(pseudonym, AUDIT_CLASS)]
    assert erasure.rule == "retention" and erasure.at == clock.now
    assert P not in raw_audit(system)
    assert system.verify()["audit"] == []
    about_p = system.audit_log(op, subject=P)
    assert len(about_p) == 3 and {e["subject"] for e in about_p} == {ERASED_CODE}
    assert [e["principal"] for e in about_p if e["role"] == "subject"] == [ERASED_CODE]
    # OTHER still has a record key: its entries still read with its code
    assert {e["subject"] for e in system.audit_log(op, subject=OTHER)} == {OTHER}


def test_after_an_erasure_on_request_the_code_is_unreadable(system: System, clock: Clock) -> None:
    """Issue 21 point 3: a Sesame member's records erased on request; the audit entries about
    the member keep verifying and no longer name them, the decision's receipt stays readable."""
    op = system.operator()
    joined: dict[str, Any] = {
        "subject": P,
        "item": "identity.verified",
        "source": "public-security",
        "source_record_id": "v-1",
        "occurred_on": "2026-01-05",
        "reported_at": "2026-01-05T12:00:00",
    }
    assert system.ingest([(1, joined)], origin="t", principal=op).accepted == 1
    looked_at(system, op)
    decided = [e for e in system.audit_log(op, subject=P) if e["action"] == "decision"]
    receipt = decided[0]["detail"]["receipt"]
    case = system.file_erasure(
        principal=subject_key(P),
        subject=P,
        record_id=system.store.stored_record_id("public-security", "v-1"),
        statement="I left.",
    )
    clock.now += dt.timedelta(days=1)
    system.decide_erasure(
        principal=access.Principal("k-op2", "operator", "op-2"), case_id=case.id, granted=True, reason="PIPL"
    )
    assert P not in raw_audit(system)
    assert system.verify()["audit"] == []
    after = [e for e in system.audit_log(op, subject=P) if e["action"] == "decision"]
    assert [e["subject"] for e in after] == [ERASED_CODE]
    assert after[0]["detail"]["receipt"] == receipt  # what was answered, without whom about
    masked = [e for e in system.audit_log(op) if e["action"] == "case-decide"][-1]
    assert masked["subject"] == codes.mask(P)


def test_a_decision_about_an_erased_subject_is_reproduced_as_its_receipt(
    system: System, clock: Clock
) -> None:
    """Issue 21 point 4: "Answers given before the erasure stay reproducible only as a receipt:
    what was answered, without the erased content", also once the audit entry's code is gone."""
    op = system.operator()
    assert system.ingest([(1, red_light(P, "old-1", "2020-03-01"))], origin="t", principal=op).accepted == 1
    asked = system.check(Question(P, "no-flights", op, purpose="boarding"))
    assert asked.receipt is not None
    assert system.retention_run().erased_keys == 1
    again = system.reproduce(asked.receipt.decision_id, op)
    assert again.answered["subject"] == ERASED_CODE and again.answered["answer"] == asked.answer
    assert again.erased is not None and again.erased.rule == "retention" and not again.exact
