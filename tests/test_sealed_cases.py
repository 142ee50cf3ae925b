"""Case events sealed at rest and erased by their key (issue 21 point 1, decision 0061), on
SQLite and PostgreSQL.

Issue 21: "Every table that holds personal data is covered the same way: records, audit entries,
case events, quarantined rows, the registry." "No hash kept in the clear may be computed from
guessable personal data without a key." The published rules give a person "rights of access,
rectification and erasure" (DOMAIN.md, GDPR), and an objection stays reviewable for the review
and appeal periods (Art. 12 of the SPC provisions), so a case's file is kept while it is open.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from socialcredit.errors import NotFound
from socialcredit.service import System
from socialcredit.store import tables as t
from tests.conftest import Clock, person
from tests.support.dueprocess import feed, key, rec

P = person(61)
SECRET = "the fine was paid at counter 7 by my cousin Li Hua"
LATER = "a second objection, filed a year later"


def raw_case_rows(system: System) -> str:
    """Every stored column of every case event, as one text to search (what a database reader
    without keys sees)."""
    with system.store.engine.connect() as conn:
        return json.dumps([dict(m) for m in conn.execute(select(t.case_events)).mappings()], default=str)


def test_case_events_are_stored_sealed_and_read_as_filed(system: System) -> None:
    [rid] = feed(system, rec(1, P, "traffic.red-light", "traffic-police", "2026-10-20"))
    me = key(system, "subject", P)
    o = system.file_objection(
        principal=me, subject=P, record_id=rid, statement=SECRET, evidence=["receipt 88"]
    )
    stored = raw_case_rows(system)
    assert P not in stored and SECRET not in stored and "receipt 88" not in stored and rid not in stored
    assert '"klass": "cases.2026"' in stored
    # the subject's and the operator's views read it as filed, looked up by pseudonym
    [mine] = system.cases(principal=me)
    assert mine.id == o.id and mine.statement == SECRET and mine.subject == P
    assert system.casefiles.objection(o.id).evidence == ("receipt 88",)
    assert [c.id for c in system.cases(principal=system.operator(), subject=P)] == [o.id]
    assert system.verify()["cases"] == []


def test_retention_erases_a_closed_case_file_and_keeps_an_open_ones(system: System, clock: Clock) -> None:
    [rid] = feed(system, rec(1, P, "traffic.red-light", "traffic-police", "2026-10-20"))
    me, op = key(system, "subject", P), system.operator()
    closed = system.file_objection(principal=me, subject=P, record_id=rid, statement=SECRET)
    system.decide_objection(principal=op, objection_id=closed.id, upheld=False, reason="no receipt shown")
    clock.advance(days=365)
    still = system.file_objection(principal=me, subject=P, record_id=rid, statement=LATER)
    # one archive period (730 days) after the closed case's last step: its key goes, the open
    # case's key (filed the next year) stays, whatever the records' retention
    clock.advance(days=400)
    report = system.retention_run()
    assert report.erased_keys == 1 and report.kept_in_force >= 1
    stored = raw_case_rows(system)
    assert P not in stored and SECRET not in stored and LATER not in stored
    assert system.verify()["cases"] == []  # the chain covers the ciphertext: it still verifies
    with pytest.raises(NotFound, match=f"case {closed.id} was erased on .* under rule retention"):
        system.casefiles.objection(closed.id)
    [gone] = system.erased_cases(principal=me)
    assert (gone.case_id, gone.case_kind, gone.rule) == (closed.id, "objection", "retention")
    assert [c.id for c in system.cases(principal=me)] == [still.id]
    assert system.casefiles.objection(still.id).statement == LATER
    # its subject can still file, decide and read; a later run keeps the open case
    assert system.retention_run().erased_keys == 0
    system.decide_objection(principal=op, objection_id=still.id, upheld=False, reason="still no receipt")
    assert system.casefiles.objection(still.id).status == "rejected"
