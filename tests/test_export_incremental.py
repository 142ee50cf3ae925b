"""Incremental export (export version 5; subject numbers kept by the database since 6): exporting
into an earlier export of the same ledger appends only the records since, and what the engines
read from it is what a full export of the same ledger gives them, record for record and score for
score, on DuckDB and Spark."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from socialcredit import synth
from socialcredit.engines.base import Engine, rescore
from socialcredit.engines.duck import DuckDBEngine
from socialcredit.engines.export import export_ledger, prior_export
from socialcredit.engines.relational import SUBJECT_SCHEMA
from socialcredit.schemes import shipped_registry
from socialcredit.service import System
from socialcredit.store import Store, subjectnumbers
from socialcredit.subjects import SubjectRow
from tests.conftest import Clock, person
from tests.support.engines import END, NOW, corrections

SCHEMES = shipped_registry().scored()


@dataclass
class Ledger:
    system: System
    incremental: Path  # exported after each of four parts
    full: Path  # exported once, at the end
    results: list[Any]  # the incremental ExportResults, in order
    seen_with_leftover: int  # records the engine read while a dead export's file lay there
    leftover: Path  # that file (the generation written again replaces or removes it)


def _ingest(system: System, rows: list[dict[str, Any]]) -> None:
    res = system.ingest(enumerate(rows, start=1), origin="part", principal=system.operator())
    assert res.quarantined == 0, res.quarantine


def _records(system: System) -> list[Any]:
    return [r for page in system.store.iter_records() for r in page]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ledger]:
    root = tmp_path_factory.mktemp("incremental")
    system = System(Store(f"sqlite:///{root / 'ledger.db'}"), shipped_registry(), clock=Clock(NOW))
    city = synth.generate_city(residents=400, organisations=20, seed=7, registry=system.registry)
    system.register(city.subjects)
    rows = list(synth.generate_records(city, registry=system.registry, seed=7))
    third = len(rows) // 3
    rows = rows[: 3 * third]  # in thirds exactly: the fourth export appends the last 50
    inc, results = root / "inc", []
    _ingest(system, rows[:third])
    results.append(export_ledger(system.store, inc))
    # corrections and withdrawals of records the first generation wrote
    _ingest(system, rows[third : 2 * third] + corrections(_records(system), rng_seed=1, count=20))
    results.append(export_ledger(system.store, inc))
    # more of them (some of the same records again), and subjects registered since
    system.register([SubjectRow(person(900 + n), "person", name=f"New {n}") for n in range(3)])
    fixes = corrections(_records(system), rng_seed=2, count=30)
    renamed: dict[str, str] = {}
    for n, f in enumerate(fixes):  # the first batch of fixes used these source record ids
        renamed[f["source_record_id"]] = f["source_record_id"] = f"late-{n}"
    for f in fixes:  # a fix naming another by its reference (decision 0080) names it renamed
        if "corrects_source_record_id" in f:
            f["corrects_source_record_id"] = renamed[f["corrects_source_record_id"]]
    fresh = [
        {"subject": person(900), "item": "traffic.drunk-driving", "source": "traffic-police",
         "source_record_id": "new-1", "occurred_on": "2026-05-01", "reported_at": "2026-05-02T09:00:00"},
    ]  # fmt: skip
    _ingest(system, rows[2 * third : 3 * third - 50] + fixes + fresh)
    results.append(export_ledger(system.store, inc))
    results.append(export_ledger(system.store, inc))  # nothing new: no generation
    # files that a fourth export left when it died: records past the manifest's chain count
    _ingest(system, rows[3 * third - 50 :])
    year = sorted((inc / "records").iterdir())[-1]
    stray = pq.read_table(next(year.glob("g3-part-*.parquet"))).slice(0, 5)
    stray = stray.set_column(0, "seq", pa.array([10**9 + i for i in range(stray.num_rows)], pa.int64()))
    leftover = year / "g4-part-0.parquet"
    pq.write_table(stray, leftover)
    seen = DuckDBEngine().records(inc).count().to_pyarrow().as_py()
    results.append(export_ledger(system.store, inc))
    full = root / "full"
    export_ledger(system.store, full)
    yield Ledger(system, inc, full, results, seen, leftover)
    system.store.close()


def test_each_export_appends_a_generation(exported: Ledger) -> None:
    """Generation 1 is a full export; each later one writes only the records since, and an
    export with nothing new adds no generation."""
    first, second, third, same, fourth = exported.results
    assert first.generation == 1 and first.appended == first.records > 0
    assert second.generation == 2 and second.appended == second.records - first.records > 0
    assert third.generation == 3 and third.appended == third.records - second.records > 0
    assert same.generation == 3 and same.appended == 0 and same.records == third.records
    assert fourth.generation == 4 and fourth.appended == fourth.records - third.records == 50
    manifest = json.loads((exported.incremental / "manifest.json").read_text())
    assert [(g["from_seq"], g["to_seq"]) for g in manifest["generations"]] == [
        (1, first.records),
        (first.records + 1, second.records),
        (second.records + 1, third.records),
        (third.records + 1, fourth.records),
    ]
    assert manifest["supersessions"] > 0, "corrections named records of earlier generations"
    full = json.loads((exported.full / "manifest.json").read_text())
    assert len(full["generations"]) == 1 and full["supersessions"] == 0
    assert {k: manifest[k] for k in ("records", "subjects", "years", "chain_count", "chain_head")} == {
        k: full[k] for k in ("records", "subjects", "years", "chain_count", "chain_head")
    }
    assert exported.seen_with_leftover == third.records, "a dead export's records are not read"
    on_disk = pq.read_table(exported.incremental / "records")
    assert on_disk.num_rows == fourth.records, "the generation was written again, its leftovers gone"
    assert max(on_disk.column("seq").to_pylist()) == fourth.records


def _read(engine: Engine, dataset: Path) -> list[dict[str, Any]]:
    """Every record as the engine reads it, by seq, with ``subject_no`` checked against the
    export's own subjects (the database numbers them once, so both exports agree on them too)."""
    table = engine.to_arrow(engine.records(dataset)).sort_by("seq")
    subjects = pq.read_table(dataset / "subjects.parquet").to_pydict()
    number = dict(zip(subjects["code"], subjects["subject_no"], strict=True))
    assert sorted(number.values()) == list(range(len(number)))
    rows = table.to_pylist()
    assert all(number[r["subject"]] == r["subject_no"] for r in rows)
    return rows


def _check_engine(engine: Engine, exported: Ledger) -> None:
    got, want = _read(engine, exported.incremental), _read(engine, exported.full)
    assert len(got) == len(want) == exported.results[-1].records
    assert got == want
    assert sum(r["superseded_at"] is not None for r in got) > 0


def test_duckdb_reads_the_same_ledger_from_both(exported: Ledger) -> None:
    """Every record, every column, including ``superseded_at`` of records corrected after their
    generation was written (the supersessions overlay) and ``corrects_seq``."""
    _check_engine(DuckDBEngine(), exported)


@pytest.mark.slow  # a Spark session
def test_spark_reads_the_same_ledger_from_both(spark: Any, exported: Ledger) -> None:
    from socialcredit.engines.spark import SparkEngine

    _check_engine(SparkEngine(spark), exported)


def test_the_overlay_is_needed(exported: Ledger) -> None:
    """Without the overlay the files alone are stale: some record of an earlier generation was
    superseded after its file was written (so the test above would catch a reader that forgot it)."""
    files = pq.read_table(exported.incremental / "records").sort_by("seq")
    full = pq.read_table(exported.full / "records").sort_by("seq")
    assert files.column("superseded_at") != full.column("superseded_at")


@pytest.mark.slow  # two rescores of the whole ledger
def test_rescore_gives_the_same_scores(exported: Ledger, tmp_path: Path) -> None:
    engine = DuckDBEngine()
    a = rescore(engine, exported.incremental, SCHEMES, END, tmp_path / "a.parquet")
    b = rescore(engine, exported.full, SCHEMES, END, tmp_path / "b.parquet")
    assert a.grades == b.grades
    assert a.lists == b.lists

    def scores(path: Path) -> list[dict[str, Any]]:
        # rows, not tables: DuckDB reads several subject files as nullable, one file as written
        return pq.read_table(path).sort_by([("scheme", "ascending"), ("subject", "ascending")]).to_pylist()

    assert scores(tmp_path / "a.parquet") == scores(tmp_path / "b.parquet")


def test_subject_numbers_live_in_the_database(
    exported: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every registered subject and every subject of a record has one number, dense from 0, kept
    by the database (not by the export's memory): both exports write the database's numbers, page
    after page (the representatives too), and an export whose database lost them is rewritten,
    not appended to."""
    store = exported.system.store
    pages = [row for page in subjectnumbers.subject_number_pages(store) for row in page]
    assert [no for _, _, no in pages] == list(range(subjectnumbers.numbered(store)))
    assert {c for c, _, _ in pages} == {r.code for r in store.subject_rows()} | {
        r.subject for r in _records(exported.system)
    }
    for directory in (exported.incremental, exported.full):
        written = pq.read_table(directory / "subjects.parquet").to_pylist()
        assert [(s["code"], s["kind"], s["subject_no"]) for s in written] == pages
    # each incremental run wrote only the subjects it numbered, from where the last one stopped
    starts = [0, *(r.subjects for r in exported.results[:-1])]
    files = sorted(p.name for p in (exported.incremental / "subjects.parquet").iterdir())
    assert files == sorted({f"from-{n:012d}.parquet" for n, r in zip(starts, exported.results, strict=True)
                            if r.subjects > n})  # fmt: skip
    assert len(files) > 1, "subjects registered between runs got a file of their own"
    # a subject file left by a run that died before its manifest is not read, and the next run
    # removes it
    dead = tmp_path / "dead"
    shutil.copytree(exported.full, dead)
    n = exported.results[-1].subjects
    stray = pa.table({"code": [person(990)], "kind": ["person"], "subject_no": [n]}, schema=SUBJECT_SCHEMA)
    pq.write_table(stray, dead / "subjects.parquet" / f"from-{n:012d}.parquet")
    assert DuckDBEngine().subjects(dead).count().to_pyarrow().as_py() == n
    assert export_ledger(store, dead).subjects == n
    assert len(list((dead / "subjects.parquet").iterdir())) == 1
    monkeypatch.setattr(subjectnumbers, "PAGE", 7)  # many pages, one file
    result = export_ledger(store, tmp_path / "paged")
    subjects_file = pq.ParquetFile(tmp_path / "paged" / "subjects.parquet" / "from-000000000000.parquet")
    assert subjects_file.metadata.num_row_groups > 1
    assert pq.ParquetFile(tmp_path / "paged" / "representatives.parquet").metadata.num_row_groups > 1
    for name in ("subjects.parquet", "representatives.parquet"):
        assert pq.read_table(tmp_path / "paged" / name) == pq.read_table(exported.full / name)
    reps = pq.read_table(exported.full / "representatives.parquet").to_pylist()
    # in pages of the terms' keyed pseudonyms (decision 0074), not in code order
    assert sorted((r["organisation"], r["representative"]) for r in reps) == sorted(
        store.representatives().items()
    )
    assert result.subjects == len(pages)
    # a copy of the database without its numbers: its files' numbers can no longer be trusted
    copy = tmp_path / "copy.db"
    with sqlite3.connect(store.url.split("///", 1)[1]) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
        dst.execute("DELETE FROM subject_numbers")
    target = tmp_path / "inc"
    shutil.copytree(exported.incremental, target)
    other = Store(f"sqlite:///{copy}")
    try:
        assert prior_export(other, target, other.head("records")[0]) is None
        again = export_ledger(other, target)
        assert again.generation == 1 and again.subjects == len(pages)
        assert sorted(pq.read_table(target / "subjects.parquet").column("code").to_pylist()) == sorted(
            c for c, _, _ in pages
        )
    finally:
        other.close()


def test_derived_columns_follow_the_ledger(exported: Ledger, tmp_path: Path) -> None:
    """``corrects_seq`` and ``superseded_at`` as the ledger defines them (the position of the
    record named; the earliest report of the records naming this one), for every record of both
    exports, and of a ledger where one record is named twice, the later report first."""

    def check(system: System, *directories: Path) -> None:
        records = _records(system)
        seq_of = {r.record_id: r.seq for r in records}
        named: dict[str, list[dt.datetime]] = {}
        for r in records:
            if r.corrects is not None:
                named.setdefault(r.corrects, []).append(r.reported_at)
        want = {
            r.seq: (seq_of[r.corrects] if r.corrects else None, min(named.get(r.record_id, []), default=None))
            for r in records
        }
        engine = DuckDBEngine()
        for directory in directories:
            rows = engine.to_arrow(engine.records(directory)).to_pylist()
            assert {x["seq"]: (x["corrects_seq"], x["superseded_at"]) for x in rows} == want

    check(exported.system, exported.full, exported.incremental)
    twice = System(Store(f"sqlite:///{tmp_path / 'twice.db'}"), shipped_registry(), clock=Clock(NOW))
    try:
        first = {
            "subject": person(1),
            "item": "traffic.drunk-driving",
            "source": "traffic-police",
            "source_record_id": "t-1",
            "occurred_on": "2026-01-05",
            "reported_at": "2026-01-06T09:00:00",
        }
        late = {
            **first,
            "source_record_id": "t-2",
            "reported_at": "2026-03-01T09:00:00",
            "action": "correct",
            "corrects_source_record_id": "t-1",
            "occurred_on": "2026-01-04",
        }
        early = {**first, "source_record_id": "t-3", "reported_at": "2026-02-01T09:00:00",
                 "action": "withdraw", "corrects_source_record_id": "t-1"}  # fmt: skip
        for row in (first, late, early):
            _ingest(twice, [row])
        export_ledger(twice.store, tmp_path / "twice")
        check(twice, tmp_path / "twice")
        rows = pq.read_table(tmp_path / "twice" / "records").to_pylist()
        assert [x["superseded_at"] for x in rows if x["seq"] == 1] == [dt.datetime(2026, 2, 1, 9)]
    finally:
        twice.store.close()


def test_another_ledger_gets_a_full_export(exported: Ledger, tmp_path: Path) -> None:
    """An export of a different ledger (or of this one restored to an earlier state) is not
    appended to: its chain head is not this ledger's, so the directory is rewritten."""
    other = System(Store(f"sqlite:///{tmp_path / 'other.db'}"), shipped_registry(), clock=Clock(NOW))
    try:
        _ingest(
            other,
            [{"subject": person(1), "item": "traffic.drunk-driving", "source": "traffic-police",
              "source_record_id": "x", "occurred_on": "2026-01-05"}],
        )  # fmt: skip
        target = tmp_path / "exp"
        export_ledger(exported.system.store, target)
        assert prior_export(other.store, target, other.store.head("records")[0]) is None
        result = export_ledger(other.store, target)
        assert result.generation == 1 and result.records == 1
        assert pq.read_table(target / "records").num_rows == 1
    finally:
        other.store.close()


def test_full_rewrites(exported: Ledger, tmp_path: Path) -> None:
    target = tmp_path / "exp"
    export_ledger(exported.system.store, target)
    again = export_ledger(exported.system.store, target, full=True)
    assert again.generation == 1 and again.appended == again.records
    assert {p.name.split("-")[0] for p in target.glob("records/*/*.parquet")} == {"g1"}
    assert pq.read_table(target / "records").num_rows == again.records


def test_incremental_on_both_backends(store_url: str, tmp_path: Path) -> None:
    """The same on the embedded default and on PostgreSQL (whose driver hands the export typed
    values): a second export appends a correction of a record the first wrote, and reads as a
    full export of the same ledger."""
    system = System(Store(store_url), shipped_registry(), clock=Clock(NOW))
    try:
        a, b = person(11), person(12)
        first = [
            {"subject": a, "item": "traffic.drunk-driving", "source": "traffic-police",
             "source_record_id": "t-1", "occurred_on": "2026-01-05", "reported_at": "2026-01-06T09:00:00"},
            {"subject": b, "item": "volunteer.service", "source": "volunteer-federation",
             "source_record_id": "v-1", "occurred_on": "2026-02-01", "reported_at": "2026-02-02T10:00:00"},
        ]  # fmt: skip
        _ingest(system, first)
        inc = tmp_path / "inc"
        assert export_ledger(system.store, inc).generation == 1
        _ingest(
            system,
            [{**first[0], "source_record_id": "t-2", "action": "withdraw", "corrects_source_record_id": "t-1",
              "reported_at": "2026-03-01T09:00:00"}],
        )  # fmt: skip
        again = export_ledger(system.store, inc)
        assert (again.generation, again.appended, again.records) == (2, 1, 3)
        assert pq.read_table(inc / "supersessions.parquet").to_pylist() == [
            {"seq": 1, "superseded_at": dt.datetime(2026, 3, 1, 9, 0)}
        ]
        full = tmp_path / "full"
        export_ledger(system.store, full)
        engine = DuckDBEngine()
        got = _read(engine, inc)
        assert got == _read(engine, full)
        # and each is the ledger itself, field for field, as the store reads it back
        fields = ("record_id", "subject", "subject_kind", "item", "source", "source_record_id",
                  "occurred_on", "reported_at", "reported_given", "evidence", "action", "corrects",
                  "received_at", "batch_id", "content_hash", "claim_hash", "chain_hash")  # fmt: skip
        stored = [r for page in system.store.iter_records() for r in page]
        assert [(row["seq"], *(row[f] for f in fields)) for row in got] == [
            (r.seq, *(getattr(r, f) for f in fields)) for r in stored
        ]
        assert [json.loads(row["details"]) for row in got] == [dict(r.details) for r in stored]
    finally:
        system.store.close()


def test_a_damaged_export_is_rewritten(exported: Ledger, tmp_path: Path) -> None:
    """An export missing a file it needs to continue (here its subjects) is not appended to."""
    target = tmp_path / "exp"
    export_ledger(exported.system.store, target)
    shutil.rmtree(target / "subjects.parquet")
    again = export_ledger(exported.system.store, target)
    assert again.generation == 1 and again.appended == again.records
    assert [p.name for p in (target / "subjects.parquet").iterdir()] == ["from-000000000000.parquet"]
