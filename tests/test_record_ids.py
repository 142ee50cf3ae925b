"""What a record's id is computed from (decision 0069). Issue 21 point 1: "No hash kept in the
clear may be computed from guessable personal data without a key: an identity code plus an item
plus a date can be brute-forced." A record id is SHA-256 of (source, source record id), the
agency's own reference: it is not computed from the subject's code, item or date. The reference
is sealed with the record since decision 0075 (the column holds ""), and the id is not keyed yet:
it confirms a guessed reference (decision 0075 designs the keyed id). An agency names the record
it corrects by the id (``corrects``) or by its reference. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib

from sqlalchemy import select

from socialcredit import ledger
from socialcredit.service import System
from socialcredit.store import tables as t
from tests.conftest import person

P, Q = person(81), person(82)


def _row(srid: str, subject: str) -> dict[str, str]:
    return {"subject": subject, "item": "traffic.red-light", "source": "traffic-police",
            "source_record_id": srid, "occurred_on": "2026-05-01"}  # fmt: skip


def test_a_record_id_is_not_computed_from_code_item_or_date(system: System) -> None:
    op = system.operator()
    rows = [(1, _row("a-1", P)), (2, _row("a-2", P)), (3, _row("a-3", Q))]
    assert system.ingest(rows, origin="t", principal=op).accepted == 3
    with system.store.engine.connect() as conn:
        stored = list(conn.execute(select(t.records).order_by(t.records.c.seq)).mappings())
    # the same code, item and date twice: two ids, so the id is no function of them
    assert stored[0]["record_id"] != stored[1]["record_id"]
    opened = {r.record_id: r for page in system.store.iter_records() for r in page}
    for m in stored:
        # a function of the source and the agency's reference, which the row holds sealed
        assert m["source_record_id"] == ""
        assert m["record_id"] == ledger.record_id_for(m["source"], opened[m["record_id"]].source_record_id)
        for guess in (P, Q):
            for text in (f"{guess}\x1ftraffic.red-light\x1f2026-05-01", guess):
                assert hashlib.sha256(text.encode()).hexdigest()[:32] != m["record_id"]
    # and it still finds the record for an agency's correction, and a re-submission
    again = system.ingest([(1, _row("a-1", P))], origin="t", principal=op)
    assert again.duplicate == 1
    fix = {**_row("a-4", P), "action": "withdraw", "corrects": ledger.record_id_for("traffic-police", "a-1")}
    assert system.ingest([(1, fix)], origin="t", principal=op).accepted == 1
