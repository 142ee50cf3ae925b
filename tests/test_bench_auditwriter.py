"""bench/auditwriter.py runs (a tiny version), so it cannot rot: the writer's entries are all
appended once and verify, and the floor is timed on the same number of rows (decision 0100)."""

from __future__ import annotations

import pytest

from tests.support.bench import load_bench

# benchmarks: out of the inner loop (pytest -m "not slow"), in CI
pytestmark = pytest.mark.slow


def test_audit_writer_bench_appends_every_entry_once_against_a_bare_synced_insert() -> None:
    result = load_bench("auditwriter").main(
        ["--entries", "120", "--prefill", "300", "--group", "30", "--repeat", "2"]
    )
    assert result["audit_entries"] == 300 + 2 * 120  # the prefill and each pass, nothing else
    assert result["chain_problems"] == 0
    writer, floor = result["writer"], result["floor"]
    assert writer["cpu_us"] > 0 and floor["cpu_us"] > 0 and writer["sealing_us"] > 0
    assert result["cpu_ratio"] == pytest.approx(writer["cpu_us"] / floor["cpu_us"], rel=0.02)
    assert "before" in result["load_average"]
