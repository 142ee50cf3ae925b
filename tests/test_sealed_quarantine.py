"""Quarantined rows sealed at rest and made unreadable after their retention period (issue 21
point 1, decision 0061), on SQLite and PostgreSQL.

Issue 21: "Every table that holds personal data is covered the same way: records, audit entries,
case events, quarantined rows, the registry." A quarantined row is kept for the agency to fix and
send again (``quarantinekeys.KEEP_DAYS`` after the month it was received), then its key goes; its
reasons, each naming the field, and the batch's counts stay.
"""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select

from socialcredit.service import System
from socialcredit.store import tables as t
from tests.conftest import Clock, person
from tests.support.records import red_light

P = person(71)
WRONG_CODE = "37108219900101171X"  # wrong check digit: not a valid code, quarantined all the same


def test_quarantined_rows_are_sealed_and_unreadable_past_retention(system: System, clock: Clock) -> None:
    op = system.operator()
    rows = [
        (1, red_light(P, "ok-1", "2026-10-01")),
        (2, {**red_light(P, "future-1", "2026-12-24"), "evidence": "camera 9 at the east gate"}),
        (3, red_light(WRONG_CODE, "bad-code-1", "2026-10-01")),
    ]
    result = system.ingest(rows, origin="t", principal=op)
    assert (result.accepted, result.quarantined) == (1, 2)
    with system.store.engine.connect() as conn:
        stored = json.dumps([dict(m) for m in conn.execute(select(t.quarantine)).mappings()], default=str)
    assert P not in stored and WRONG_CODE not in stored and "camera 9" not in stored
    assert "quarantine.2026-11" in stored
    # the batch report reads each row as sent, and its reasons name the field
    batch, quarantined = system.batch(op, result.batch_id)
    assert [q["raw"]["source_record_id"] for q in quarantined] == ["future-1", "bad-code-1"]
    assert quarantined[0]["reasons"][0].startswith("occurred_on:")
    assert quarantined[1]["reasons"][0].startswith("subject:")
    # kept 90 days after November ended, then unreadable; reasons and counts stay
    clock.now = dt.datetime(2027, 2, 28, 10)
    assert system.retention_run().quarantine_months == 0
    clock.now = dt.datetime(2027, 3, 1, 10)
    report = system.retention_run()
    assert report.quarantine_months == 1 and report.erased_records == 0
    batch, quarantined = system.batch(op, result.batch_id)
    assert [q["raw"] for q in quarantined] == [None, None] and all(q["erased"] for q in quarantined)
    assert [q["reasons"][0].split(":")[0] for q in quarantined] == ["occurred_on", "subject"]
    assert batch["submitted"] == batch["accepted"] + batch["duplicate"] + batch["quarantined"] == 3
    assert batch["quarantined"] == len(quarantined)
    assert system.verify()["records"] == []
    # a batch received after the erasure is sealed under its own month's key, readable
    later = system.ingest([(1, red_light(WRONG_CODE, "bad-code-2", "2027-02-01"))], origin="t", principal=op)
    [q] = system.batch(op, later.batch_id)[1]
    assert q["raw"]["source_record_id"] == "bad-code-2" and q["klass"] == "quarantine.2027-03"
