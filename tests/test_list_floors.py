"""The list floors of ``bench/listfloors.py`` derive the very entries the engines derive, so the
ratios in docs/benchmarks.md compare like with like (issue 20, point 4), and the bench runs.

DOMAIN.md, the court's list (SPC Provisions, 2013, am. 2017): "Periods (Art. 2): for grounds (2)
to (6) the listing lasts **2 years** (calendar years, from the listing decision). [...] the court
may **extend it by 1 to 3 years**. A debtor who performs or corrects the conduct may be removed
early by the court's decision. Ground (1) has **no fixed period**: the debtor stays listed until a
removal ground of Art. 10." and "Removal (Art. 10): within **3 working days** of any of [...]".
Rongcheng's lists by grade: an entry per run of the grade (honour roll AAA, D list after 10 days'
notice), for ``period_days``."""

from __future__ import annotations

import collections
import datetime as dt
import gc
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from socialcredit.engines.base import collector_paused, rescore
from socialcredit.engines.duck import DuckDBEngine
from tests.support.bench import load_bench


@pytest.fixture(scope="module")
def bench() -> Any:
    return load_bench("listfloors")


@pytest.fixture(scope="module")
def export(bench: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    # dense in court records (about four per debtor), so entries open, join, expire, are extended,
    # removed early and fulfilled, and open again after they ended
    path: Path = bench.generate(tmp_path_factory.mktemp("lists") / "export", 1200, 24_000, court_share=0.02)
    return path


def _compare(bench: Any, floor: Path, engine: Path) -> list[dict[str, Any]]:
    mine, theirs = bench.same_entries(floor, engine)
    assert len(mine) == len(theirs)
    for a, b in zip(mine, theirs, strict=True):
        assert a == b
    rows: list[dict[str, Any]] = theirs
    return rows


def test_the_court_floor_derives_the_engines_entries(bench: Any, export: Path, tmp_path: Path) -> None:
    court, _city = bench.schemes()
    floor = tmp_path / "floor.parquet"
    assert bench.run_floor(bench.court_floor_sql(str(export / "records" / "*.parquet"), floor, court), 1) > 0
    _seconds, counts = bench.run_engine(export, court, tmp_path / "engine.parquet", 1)
    rows = _compare(bench, floor, tmp_path / "engine.parquet")
    assert sum(counts["court-dishonest-debtors/dishonest-debtors"].values()) == len(rows)
    reasons = collections.Counter((r["end_reason"] or "in force").split(":")[0] for r in rows)
    assert {"in force", "expired", "fulfilled"} <= set(reasons)
    assert any(r["reason_item"] == bench.GROUND1 and r["removal_due"] for r in rows)  # Art. 10
    assert any((r["end_reason"] or "").startswith(f"fulfilled: {bench.EARLY}") for r in rows)  # Art. 2, early
    # Art. 2: extended beyond the 2 years (the record's own date is at most 30 days before the list's)
    assert any(r["planned_end"] and (r["planned_end"] - r["since"]).days > 2 * 366 + 31 for r in rows)
    assert any(r["grounds"] > 1 for r in rows)
    twice = collections.Counter((r["subject"], r["reason_item"] == bench.GROUND1) for r in rows)
    assert max(twice.values()) > 1  # listed again after an entry ended


def test_the_running_sum_floor_derives_the_engines_grade_entries(
    bench: Any, export: Path, tmp_path: Path
) -> None:
    _court, city = bench.schemes()
    floor = tmp_path / "floor.parquet"
    assert bench.run_floor(bench.grade_floor_sql(str(export / "records" / "*.parquet"), floor, city), 1) > 0
    bench.run_engine(export, city, tmp_path / "engine.parquet", 1)
    rows = _compare(bench, floor, tmp_path / "engine.parquet")
    lists = collections.Counter(r["list"] for r in rows)
    assert lists["rongcheng/honour-roll"] > 0 and lists["rongcheng/d-grade"] > 0
    assert {r["status"] for r in rows} >= {"active", "removed", "expired"}


@pytest.mark.slow  # the bench as a whole (the comparisons above are not slow)
def test_the_bench_runs_and_reports_each_ratio(bench: Any, tmp_path: Path) -> None:
    result = bench.main(["--subjects", "300", "--records", "4000", "--dir", str(tmp_path)])
    for stage in ("item lists", "lists by grade"):
        assert result[stage]["floor_s"] > 0 and result[stage]["ratio"] > 0
    assert "cores" in result["machine"] and result["load_before"] >= 0
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n")
    bench.write_markdown(result, doc)
    text = doc.read_text()
    assert "| item lists |" in text and "load average" in text and "cores" in text


def test_a_rescore_pauses_the_collector_and_puts_it_back(bench: Any, export: Path, tmp_path: Path) -> None:
    """Decision 0090: the cyclic collector is paused while a rescore builds, compiles and runs its
    queries (it walked the heap about 180 times on the court's list), and is put back as it was,
    also when the rescore fails."""
    court, _city = bench.schemes()
    seen: list[tuple[str, bool]] = []
    engine = DuckDBEngine(threads=1)
    try:
        result = rescore(
            engine,
            export,
            [],
            bench.AS_OF,
            tmp_path / "unused.parquet",
            list_schemes=[court],
            lists_out=tmp_path / "lists.parquet",
            progress=lambda stage: seen.append((stage, gc.isenabled())),
        )
    finally:
        engine.close()
    assert seen == [("tallied", False), ("listed", False)]
    assert gc.isenabled() and sum(result.lists["court-dishonest-debtors/dishonest-debtors"].values()) > 0
    gc.disable()  # a caller that paused it itself keeps it paused
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("a failed rescore")
    assert gc.isenabled()


def test_a_restoration_of_a_court_record_still_ends_nothing(bench: Any, export: Path, tmp_path: Path) -> None:
    """Decision 0090 reads the records as they are when no restoration is among them; with one,
    a restoration of a record credit restoration may not end (a ground of the court's list) is
    still voided, as ``ledger.effective`` voids it: the entry it opened stays, the same as
    without the restoration."""
    court, _city = bench.schemes()
    before = tmp_path / "before.parquet"
    bench.run_engine(export, court, before, 1)
    restored = tmp_path / "restored"
    shutil.copytree(export, restored)
    part = restored / "records" / "part-0.parquet"
    records = pq.read_table(part)
    rows = records.to_pylist()
    target = next(r for r in rows if r["item"] == bench.GROUND1 and r["superseded_at"] is None)
    at = target["reported_at"] + dt.timedelta(days=1)
    target["superseded_at"] = at  # as an export states a restored record
    restore = {**target, "action": "restore", "record_id": "f" * 32, "reported_at": at, "superseded_at": None}
    restore |= {"seq": max(r["seq"] for r in rows) + 1, "corrects": target["record_id"]}
    restore["corrects_seq"] = target["seq"]
    pq.write_table(pa.Table.from_pylist([*rows, restore], schema=records.schema), part)
    after = tmp_path / "after.parquet"
    bench.run_engine(restored, court, after, 1)
    mine, theirs = bench.same_entries(before, after)
    assert mine == theirs
    assert any(target["record_id"] in (r["ground_records"] or []) for r in theirs)
