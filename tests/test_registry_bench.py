"""bench/registry.py runs (a small version), so it cannot rot: registering a city, reading it in a
fresh store beside the bare floor of the same reads (which must find the same codes), and the
export of the registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.bench import load_bench

pytestmark = pytest.mark.slow  # a benchmark, if a small one: out of the inner loop, in CI


def test_registry_bench_runs_and_measures_every_arm(tmp_path: Path) -> None:
    bench = load_bench("registry")
    result = bench.main(["--people", "60", "--organisations", "20", "--repeat", "1", "--dir", str(tmp_path)])
    assert (result["people"], result["organisations"]) == (60, 20)
    arms = (
        "register",
        "subject_rows",
        "subject_rows_floor",
        "representatives",
        "representatives_floor",
        "export",
    )
    for arm in arms:
        wall, cpu = result[f"{arm}_ms"]
        assert wall > 0 and cpu >= 0, arm
    assert "/" in result["load"]
