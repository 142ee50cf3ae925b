"""An agency's own reference is sealed with the record's personal content (issue 21 point 1;
decision 0075), and agencies correct a record by that reference."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from sqlalchemy import select

from socialcredit.access import Principal
from socialcredit.engines.export import export_ledger
from socialcredit.schemes import shipped_registry
from socialcredit.service import System
from socialcredit.shredding import Erasure
from socialcredit.store import Store
from socialcredit.store import tables as t
from tests.conftest import Clock, person

CASE = "(2026) Jing 0105 Zhi 4471"
"""A court's case number: it names a case, and through it a person."""
COURT = Principal("k-court", "agency", "court", "the court")


def _row(n: int, srid: str, **more: Any) -> tuple[int, dict[str, Any]]:
    return n, {"subject": person(75), "item": "court.dishonest.able-but-refuses", "source": "court",
               "source_record_id": srid, "occurred_on": "2026-10-20", **more}  # fmt: skip


def test_a_source_record_id_is_stored_sealed_and_read_back(
    store_url: str, clock: Clock, tmp_path: Path
) -> None:
    """Issue 21: "Each record's personal content ... is stored encrypted"; "No hash kept in the
    clear may be computed from guessable personal data without a key". A court case number is
    personal: no column of the stored row holds it, every reader gets it back opened, a re-send
    is still a duplicate and a changed re-send is told by its own reference."""
    store = Store(store_url)
    try:
        system = System(store, shipped_registry(), clock=clock)
        assert system.ingest([_row(1, CASE)], origin="t", principal=COURT).accepted == 1
        rid = store.sealing.record_id("court", CASE)
        with store.engine.connect() as conn:
            stored = [dict(m) for m in conn.execute(select(t.records)).mappings()]
        assert [m["record_id"] for m in stored] == [rid]
        assert stored[0]["source_record_id"] == "" and stored[0]["sealed"]
        assert CASE not in json.dumps(stored, default=str) and person(75) not in json.dumps(
            stored, default=str
        )
        record = store.record(rid)
        assert record is not None and record.source_record_id == CASE
        assert [r.source_record_id for r in store.records_for(person(75))] == [CASE]
        assert store.verify_records() == []
        again = system.ingest([_row(1, CASE)], origin="t", principal=COURT)
        assert (again.accepted, again.duplicate) == (0, 1)
        changed = system.ingest([_row(1, CASE, evidence="another judgment")], origin="t", principal=COURT)
        assert changed.quarantined == 1
        assert any(CASE in r and "already accepted" in r for r in changed.quarantine[0].reasons)
        export_ledger(store, tmp_path / "export")
        exported = pq.read_table(tmp_path / "export" / "records").to_pylist()
        assert [(r["record_id"], r["source_record_id"]) for r in exported] == [(rid, CASE)]
    finally:
        store.close()


def test_an_agency_corrects_a_record_by_its_own_reference(store_url: str, clock: Clock) -> None:
    """An agency names the record it corrects by the reference it gave it
    (``corrects_source_record_id``), not an id it would have to compute; naming both is refused
    by field, and so is a reference the ledger does not hold."""
    store = Store(store_url)
    try:
        system = System(store, shipped_registry(), clock=clock)
        assert system.ingest([_row(1, CASE)], origin="t", principal=COURT).accepted == 1
        withdrawal = _row(2, f"{CASE} withdrawn", action="withdraw", corrects_source_record_id=CASE)
        assert system.ingest([withdrawal], origin="t", principal=COURT).accepted == 1
        records = {r.source_record_id: r for r in store.records_for(person(75))}
        assert records[f"{CASE} withdrawn"].corrects == records[CASE].record_id
        both = _row(
            3, "w-3", action="withdraw", corrects=records[CASE].record_id, corrects_source_record_id=CASE
        )
        refused = system.ingest([both], origin="t", principal=COURT)
        assert refused.quarantined == 1
        assert refused.quarantine[0].reasons[0].startswith("corrects_source_record_id:")
        unknown = system.ingest([_row(4, "w-4", action="withdraw", corrects_source_record_id="no such case")],
                                origin="t", principal=COURT)  # fmt: skip
        assert unknown.quarantined == 1 and unknown.quarantine[0].reasons[0].startswith("corrects:")
    finally:
        store.close()


def test_an_erased_record_re_sent_is_told_it_was_erased(store_url: str, clock: Clock) -> None:
    """Issue 21 point 2: "An agency re-sending an erased record is told it was erased; it is not
    taken in again", its reference sealed or not."""
    store = Store(store_url)
    try:
        system = System(store, shipped_registry(), clock=clock)
        assert system.ingest([_row(1, CASE)], origin="t", principal=COURT).accepted == 1
        vault = store.sealing.vault
        pair = (vault.pseudonym(person(75)), "2026")
        (w,) = vault.store.wrapped_keys([pair]).values()
        vault.erase([Erasure(*pair, w.key_id, dt.datetime(2026, 11, 1), "retention")])
        again = system.ingest([_row(1, CASE)], origin="t", principal=COURT)
        assert (again.accepted, again.duplicate, again.quarantined) == (0, 0, 1)
        assert all(
            "erased on 2026-11-01" in r and "not taken in again" in r for r in again.quarantine[0].reasons
        )
        assert store.record(store.sealing.record_id("court", CASE)) is None
    finally:
        store.close()
