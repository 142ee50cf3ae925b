"""bench/tlog.py runs (a small version), so it cannot rot: the ingest with the tree and without
it, and proofs from a log of tiles, each proof verified by the bench itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.bench import load_bench

pytestmark = pytest.mark.slow  # a benchmark, if a small one: out of the inner loop, in CI


def test_tlog_bench_runs_and_measures_both_arms(tmp_path: Path) -> None:
    bench = load_bench("tlog")
    result = bench.main(
        ["--records", "3000", "--leaves", "70000", "--proofs", "50", "--repeat", "1", "--dir", str(tmp_path)]
    )
    assert result["records"] == 3000 and result["without_s"] > 0 and result["with_s"] > 0
    # both arms are printed rounded to the millisecond: the ratio is of the unrounded times
    assert result["ingest_ratio"] == pytest.approx(
        result["with_s"] / result["without_s"], rel=0.01, abs=0.002
    )
    assert result["leaves"] == 70000 and result["proofs"] == 50
    assert 0 < result["proof_median_ms"] <= result["proof_p99_ms"]
