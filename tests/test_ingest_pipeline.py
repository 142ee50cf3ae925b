"""The fast ingest path keeps the ledger's promises: the hashes are the documented formulas (so
ledgers written before still verify), a clean row sealed directly equals one validated then
sealed, chunks keep ledger order and catch duplicates across chunks, a failing chunk stops the
batch at a committed boundary, and every row still ends accepted, duplicate or quarantined.
Storage tests run on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from socialcredit import intake, ledger
from socialcredit.ledger import Record
from socialcredit.schemes import shipped_registry
from socialcredit.service import System
from socialcredit.store import Store
from socialcredit.store import tables as t
from socialcredit.store.sql import ChunkOutcome
from tests.conftest import Clock, org, person
from tests.support.ingest import NOW, REG, properties, row_strategy


def _reference_digest(*parts: object) -> str:
    """The hash formula as first written (a generic join); the ledgers already stored use it."""
    return hashlib.sha256("\x1f".join("\x00" if p is None else str(p) for p in parts).encode()).hexdigest()


def _reference_content(r: Record) -> str:
    return _reference_digest(
        r.record_id,
        r.subject,
        r.subject_kind,
        r.item,
        r.source,
        r.source_record_id,
        r.occurred_on.isoformat(),
        ledger.iso_dt(r.reported_at),
        int(r.reported_given),
        r.evidence,
        r.action,
        r.corrects,
        ledger.canonical_details(r.details),
    )


def _reference_claim(r: Record) -> str:
    return _reference_digest(
        r.record_id,
        r.subject,
        r.item,
        r.source,
        r.source_record_id,
        r.occurred_on.isoformat(),
        ledger.iso_dt(r.reported_at) if r.reported_given else None,
        r.evidence,
        r.action,
        r.corrects,
        ledger.canonical_details(r.details),
    )


text = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20)
records = st.builds(
    Record,
    record_id=st.text("0123456789abcdef", min_size=32, max_size=32),
    subject=st.sampled_from([person(1), org(2)]),
    subject_kind=st.sampled_from(["person", "organisation"]),
    item=text,
    source=text,
    source_record_id=text,
    occurred_on=st.dates(dt.date(1949, 10, 1), dt.date(2030, 1, 1)),
    reported_at=st.datetimes(dt.datetime(1949, 10, 1), dt.datetime(2030, 1, 1)).map(
        lambda d: d.replace(microsecond=0)
    ),
    evidence=st.none() | text,
    action=st.sampled_from(["report", "correct", "withdraw", "restore"]),
    corrects=st.none() | st.text("0123456789abcdef", min_size=32, max_size=32),
    details=st.dictionaries(text, text | st.integers(), max_size=3),
    reported_given=st.booleans(),
)


@settings(max_examples=500, deadline=None)
@given(records)
def test_seal_is_the_documented_formula(r: Record) -> None:
    s = ledger.sealed(r)
    assert s.details == ledger.canonical_details(r.details)
    assert s.content_hash == _reference_content(r) == ledger.content_hash(r)
    assert s.claim_hash == _reference_claim(r) == ledger.claim_hash(r)
    # every other value is the record's own field of the same name
    assert s[:12] == tuple(getattr(r, name) for name in ledger.SEALED_FIELDS[:12])


def _sealing_directly_agrees(row: dict[str, Any], source: str | None) -> None:
    direct = intake._seal_clean(row, REG, NOW, source)
    try:
        validated: ledger.Sealed | None = ledger.sealed(
            intake.validate_row(row, registry=REG, now=NOW, source=source)
        )
    except ledger.RowError as exc:
        validated = None
        with pytest.raises(ledger.RowError) as sealing:
            intake.seal_row(row, registry=REG, now=NOW, source=source)
        assert sealing.value.reasons == exc.reasons  # the one validator's reasons
    if direct is not None:
        assert direct == validated
    if validated is not None:
        assert intake.seal_row(row, registry=REG, now=NOW, source=source) == validated
        # for a store that encrypts, the same but the plain content hash, never kept (decision 0081)
        unhashed = intake.seal_row(row, registry=REG, now=NOW, source=source, content=False)
        assert unhashed.content_hash in ("", validated.content_hash)
        assert unhashed._replace(content_hash=validated.content_hash) == validated
    if direct is not None:
        assert intake._seal_clean(row, REG, NOW, source, False) == direct._replace(content_hash="")


# 300 examples in the inner loop, 1,500 in the slow set CI runs (decision 0093)
(
    test_sealing_a_clean_row_directly_equals_validating_then_sealing,
    test_sealing_a_clean_row_directly_equals_validating_then_sealing_at_length,
) = properties(
    _sealing_directly_agrees, row_strategy, st.one_of(st.none(), st.sampled_from(["court", "traffic-police"]))
)


def test_chain_link_is_the_documented_formula() -> None:
    at = dt.datetime(2026, 11, 2, 10, 0, 0)
    text_form = f"{'0' * 64}|7|{'a' * 64}|2026-11-02T10:00:00|batch"
    want = hashlib.sha256(text_form.encode()).hexdigest()
    assert ledger.chain_hash("0" * 64, 7, "a" * 64, at, "batch") == want
    assert ledger.chain_linker(at, "batch")("0" * 64, 7, "a" * 64) == want


def _row(i: int, **kw: Any) -> dict[str, Any]:
    return {
        "subject": person(i % 50),
        "item": "traffic.minor",
        "source": "traffic-police",
        "source_record_id": f"tp-{i}",
        "occurred_on": "2026-05-01",
        **kw,
    }


def test_chunks_keep_order_and_catch_duplicates_across_chunks(system: System) -> None:
    rows: list[tuple[int, dict[str, Any]]] = []
    for i in range(40):
        rows.append((len(rows) + 1, _row(i)))
        if i % 9 == 4:  # the same row again, landing in the next chunk of 7
            rows.append((len(rows) + 1, _row(i - 3)))
    rows.append((len(rows) + 1, _row(5, occurred_on="2026-05-02")))  # conflicts with tp-5
    rows.append((len(rows) + 1, _row(99, subject="12345")))  # invalid
    seen: list[int] = []
    result = system.ingest(rows, origin="t", principal=system.operator(), chunk_size=7, progress=seen.append)
    assert (result.submitted, result.accepted, result.duplicate, result.quarantined) == (len(rows), 40, 4, 2)
    assert sum(seen) == len(rows) and all(n == 7 for n in seen[:-1])
    with system.store.engine.connect() as conn:  # the agency's reference is sealed (decision 0075)
        assert {srid for (srid,) in conn.execute(select(t.records.c.source_record_id))} == {""}
    opened = [r for page in system.store.iter_records() for r in page]
    assert [(r.seq, r.source_record_id) for r in opened] == [(i + 1, f"tp-{i}") for i in range(40)]
    assert system.store.verify_records() == []
    again = system.ingest(rows, origin="t", principal=system.operator(), chunk_size=11)
    assert (again.accepted, again.duplicate, again.quarantined) == (0, 44, 2)


class _FailingStore(Store):
    """A store whose third append fails, as a lost connection or a full disk would."""

    calls = 0

    def _write(self, *args: Any) -> ChunkOutcome:  # the one write transaction of each chunk
        self.calls += 1
        if self.calls == 3:
            raise OSError("disk full")
        return super()._write(*args)


def test_a_failed_chunk_stops_the_batch_at_a_committed_boundary(store_url: str, clock: Clock) -> None:
    store = _FailingStore(store_url)
    system = System(store, shipped_registry(), clock=clock)
    asked: list[int] = []

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        for i in range(50):
            asked.append(i)
            yield i + 1, _row(i)

    try:
        with pytest.raises(OSError, match="disk full"):
            system.ingest(rows(), origin="t", principal=system.operator(), chunk_size=10)
        assert store.count_records() == 20  # chunks 1 and 2; nothing after the failed third
        assert store.head("records")[0] == 20 and store.verify_records() == []
        [batch] = [b for bs in store.batches_by_origin().values() for b in bs]
        assert (batch["submitted"], batch["accepted"]) == (20, 20)
        assert len(asked) <= 50
        # re-submitting completes it: nothing lost, nothing doubled
        store.calls = -100
        result = system.ingest(rows(), origin="t", principal=system.operator(), chunk_size=10)
        assert (result.accepted, result.duplicate) == (30, 20)
        assert store.count_records() == 50 and store.verify_records() == []
    finally:
        store.close()


def test_sqlite_page_cache_is_configurable(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def cache_kib(store: Store) -> int:
        with store.engine.connect() as conn:
            return -int(conn.exec_driver_sql("PRAGMA cache_size").scalar_one())

    monkeypatch.delenv("SOCIALCREDIT_SQLITE_CACHE_MIB", raising=False)
    default = Store(f"sqlite:///{tmp_path / 'a.db'}")
    chosen = Store(f"sqlite:///{tmp_path / 'b.db'}", cache_mib=64)
    monkeypatch.setenv("SOCIALCREDIT_SQLITE_CACHE_MIB", "32")
    from_env = Store(f"sqlite:///{tmp_path / 'c.db'}")
    try:
        assert cache_kib(default) == 256 * 1024
        assert cache_kib(chosen) == 64 * 1024
        assert cache_kib(from_env) == 32 * 1024
    finally:
        for s in (default, chosen, from_env):
            s.close()


def test_corrections_are_found_through_the_partial_index(system: System) -> None:
    op = system.operator()
    assert system.ingest([(1, _row(1))], origin="t", principal=op).accepted == 1
    target = system.store.stored_record_id("traffic-police", "tp-1")
    fix = _row(2, action="withdraw", corrects=target)
    assert system.ingest([(1, fix)], origin="t", principal=op).accepted == 1
    assert system.store.superseded_ids() == {target}
    assert [r.source_record_id for r in system.store.records_for(person(1))] == ["tp-1", "tp-2"]
    if system.store.dialect.name == "sqlite":
        with system.store.engine.connect() as conn:
            plan = " ".join(
                str(row[-1])
                for row in conn.exec_driver_sql(
                    "EXPLAIN QUERY PLAN SELECT * FROM records WHERE corrects IN (?, ?)", ("a", "b")
                )
            )
        assert "ix_records_corrects" in plan


def test_append_chunk_of_records_still_works(system: System, clock: Clock) -> None:
    """The store's older entry point (validated records in, one transaction) is kept."""
    store, now = system.store, clock()
    records = [intake.validate_row(_row(i), registry=REG, now=now) for i in range(3)]
    store.begin_batch(batch_id="b1", origin="t", source=None, submitted_by=None, at=now)
    out = store.append_chunk(
        batch_id="b1",
        submitted=4,
        records=[*records, records[0]],
        quarantined=[],
        row_numbers=[1, 2, 3, 4],
        raws=[{}, {}, {}, {}],
        received_at=now,
        may_correct_any=False,
    )
    assert (out.accepted, out.duplicate, out.quarantined) == (3, 1, [])
    assert store.verify_records() == [] and store.batch("b1")["accepted"] == 3  # type: ignore[index]
