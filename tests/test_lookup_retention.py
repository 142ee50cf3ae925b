"""A person never recorded, only looked up, does not keep their audit key for ever (decision
0071), on SQLite and PostgreSQL.

Issue 21 point 2: "`socialcredit retention run` ... destroys a key when every record under it has
passed its retention period plus the scheme's archive period"; point 1: "Every table that holds
personal data is covered the same way: records, audit entries, ...". DOMAIN.md: critics ask for
"the right to correct and to be forgotten". An audit entry about a person whom no live record
key stands for is kept as long as a closed case file, then its code is erased.
"""

from __future__ import annotations

import datetime as dt

from socialcredit.service import System
from socialcredit.shredding import AUDIT_CLASS, ERASED_CODE
from tests.conftest import Clock, person
from tests.support.records import red_light

P, Q, R = person(91), person(92), person(93)


def test_a_person_only_looked_up_loses_their_audit_key_after_the_longest_horizon(
    system: System, clock: Clock
) -> None:
    op = system.operator()
    start = clock.now
    assert system.ingest([(1, red_light(P, "p-1", "2026-03-01"))], origin="t", principal=op).accepted == 1
    system.read(P, op, purpose="credit check")
    system.read(Q, op, purpose="credit check")  # never recorded: only looked up
    # kept as long as a closed case file: the longest archive period (not the longest retention:
    # a consent is kept a century)
    archive = max(s.archive_days for s in system.registry.schemes.values())
    clock.now = start + dt.timedelta(days=archive - 1)
    system.read(R, op, purpose="credit check")  # looked up later: kept longer
    system.retention_run()
    assert {e["subject"] for e in system.audit_log(op, subject=Q)} == {Q}  # not yet: one day short

    clock.now = start + dt.timedelta(days=archive + 1)
    system.retention_run()
    vault, sealing = system.store.sealing.vault, system.store.sealing
    q = sealing.pseudonym(Q)
    erased = vault.store.erasures_of([(q, AUDIT_CLASS)])[(q, AUDIT_CLASS)]
    assert (erased.at, erased.rule) == (clock.now, "retention")
    assert {e["subject"] for e in system.audit_log(op, subject=Q)} == {ERASED_CODE}
    # R was looked up within the period; P's record still counts: P's goes with its last record key
    assert {e["subject"] for e in system.audit_log(op, subject=R)} == {R}
    assert P in {e["subject"] for e in system.audit_log(op, subject=P)}
    assert vault.store.erasures_of([(sealing.pseudonym(P), AUDIT_CLASS)]) == {}
    assert system.verify()["audit"] == []
    run = [e for e in system.audit_log(op) if e["action"] == "retention"][0]
    assert run["detail"]["lookup_keys"] == 1  # how many, never whose

    # looked up again: a new generation, itself kept as long, then erased in turn
    system.read(Q, op, purpose="credit check")
    assert {e["subject"] for e in system.audit_log(op, subject=Q, limit=1)} == {Q}
    clock.now += dt.timedelta(days=archive + 1)
    system.retention_run()
    assert {e["subject"] for e in system.audit_log(op, subject=Q)} == {ERASED_CODE}
    assert system.verify()["audit"] == []
