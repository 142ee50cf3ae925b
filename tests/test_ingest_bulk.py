"""Ingest's bulk writes (decision 0091): on PostgreSQL every per-record table a chunk writes goes
by ``COPY`` (the records and the quarantined rows by ``dialect.insert_rows``; the decision states
it empties and the new subjects' data keys by ``dialect.merge_rows``, through a temporary table),
inside the transaction that appends the chain; on SQLite by ``executemany``. A batch with
duplicates and quarantined rows, big enough to take the ``COPY`` path, still ends every row in
exactly one outcome and leaves a chain that verifies. Storage tests run on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from socialcredit.service import System
from socialcredit.store import Store
from socialcredit.store import tables as t
from socialcredit.store.datakeys import data_keys
from socialcredit.store.dialect import MERGE_BY_COPY
from tests.conftest import person

SUBJECTS = MERGE_BY_COPY + 86  # each chunk of 100 touches more subjects than MERGE_BY_COPY


def _row(i: int, **kw: Any) -> dict[str, Any]:
    return {
        "subject": person(i),
        "item": "traffic.minor",
        "source": "traffic-police",
        "source_record_id": f"tp-{i}",
        "occurred_on": "2026-05-01",
        **kw,
    }


def _epochs(store: Store) -> dict[str, int]:
    with store.reader.connect() as conn:
        return dict(conn.execute(select(t.decision_state.c.subject, t.decision_state.c.epoch)).all())


def test_a_batch_with_duplicates_and_quarantined_rows_adds_up_through_the_bulk_path(
    system: System, store_url: str
) -> None:
    rows = [_row(i) for i in range(SUBJECTS)]
    rows += [_row(i) for i in range(0, SUBJECTS, 7)]  # sent twice
    rows += [_row(1000 + i, subject="12345") for i in range(5)]  # no valid code
    rows.append(_row(3, occurred_on="2026-05-02"))  # conflicts with tp-3
    numbered = list(enumerate(rows, start=1))
    twice = len(range(0, SUBJECTS, 7))
    result = system.ingest(numbered, origin="t", principal=system.operator(), chunk_size=100)
    assert (result.submitted, result.accepted, result.duplicate, result.quarantined) == (
        len(rows),
        SUBJECTS,
        twice,
        6,
    )
    assert result.submitted == result.accepted + result.duplicate + result.quarantined
    batch = system.store.batch(result.batch_id)
    assert batch is not None
    assert (batch["submitted"], batch["accepted"], batch["duplicate"], batch["quarantined"]) == (
        len(rows),
        SUBJECTS,
        twice,
        6,
    )
    kept = system.store.quarantine_of(result.batch_id)
    assert [q["row_number"] for q in kept] == [SUBJECTS + twice + i for i in range(1, 7)]
    assert all(any("subject" in why for why in q["reasons"]) for q in kept[:5])
    assert "source_record_id" in kept[5]["reasons"][0] and kept[5]["raw"]["occurred_on"] == "2026-05-02"
    assert system.store.verify_records() == []
    # one emptied decision state per subject, by its pseudonym
    epochs = _epochs(system.store)
    assert len(epochs) == SUBJECTS and set(epochs.values()) == {1}

    # a second batch for the same subjects: their states emptied again (the merge's update), no
    # new key made; a fresh store, with none of this one's keys cached, opens every record
    with system.store.reader.connect() as conn:
        keys = conn.execute(select(func.count()).select_from(data_keys)).scalar_one()
    more = [(n, _row(i, source_record_id=f"tp2-{i}")) for n, i in enumerate(range(SUBJECTS), start=1)]
    again = system.ingest(more, origin="t", principal=system.operator(), chunk_size=100)
    assert (again.accepted, again.duplicate, again.quarantined) == (SUBJECTS, 0, 0)
    assert set(_epochs(system.store).values()) == {2}
    with system.store.reader.connect() as conn:
        assert conn.execute(select(func.count()).select_from(data_keys)).scalar_one() == keys
    fresh = Store(store_url)
    try:
        opened = [r for page in fresh.iter_records() for r in page]
        assert sorted(r.source_record_id for r in opened) == sorted(
            [f"tp-{i}" for i in range(SUBJECTS)] + [f"tp2-{i}" for i in range(SUBJECTS)]
        )
        assert [r.seq for r in opened] == list(range(1, 2 * SUBJECTS + 1))
        assert fresh.verify_records() == []
    finally:
        fresh.close()
