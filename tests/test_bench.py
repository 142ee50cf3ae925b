"""The benchmarks run (tiny versions), so they cannot rot, and their floor computes the same sums
as the rescore it is compared with, so the ratios in docs/benchmarks.md compare like with like."""

from __future__ import annotations

from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from tests.support.bench import load_bench

# benchmarks, if tiny ones: out of the inner loop (pytest -m "not slow"), in CI
pytestmark = pytest.mark.slow


def test_rescore_bench_runs_and_its_floor_sums_the_same(tmp_path: Path) -> None:
    bench = load_bench("rescore")
    result = bench.main(
        ["--subjects", "800", "--records", "8000", "--dir", str(tmp_path), "--pandas-chunk", "3000"]
    )
    assert result["records"] == 8000 and result["floor_s"] > 0
    assert result["rescore_duckdb_ratio"] > 0 and result["pandas_ratio"] > 0
    assert sum(result["grades"]["person"].values()) == 800

    records = pq.read_table(tmp_path / "export" / "records")
    fixes = records.filter(pc.is_valid(records["corrects"]))
    targets = records.filter(pc.is_in(records["record_id"], fixes["corrects"]))
    assert fixes.num_rows > 0 and targets.num_rows == fixes.num_rows
    touched = set(fixes["subject"].to_pylist()) | set(targets["subject"].to_pylist())
    floor = dict(zip(*pq.read_table(tmp_path / "floor.parquet").to_pydict().values(), strict=True))
    scores = {r["subject"]: r["score"] for r in pq.read_table(tmp_path / "scores.parquet").to_pylist()}
    pandas = dict(zip(*pq.read_table(tmp_path / "pandas.parquet").to_pydict().values(), strict=True))
    assert len(scores) == 800 and len(floor) > 700
    assert floor == pytest.approx(pandas)
    by_no = dict(zip(*pq.read_table(tmp_path / "floor-no.parquet").to_pydict().values(), strict=True))
    numbers = pq.read_table(tmp_path / "export" / "subjects.parquet").to_pydict()
    code_of = dict(zip(numbers["subject_no"], numbers["code"], strict=True))
    assert {code_of[n]: total for n, total in by_no.items()} == floor  # the same sums on either key
    same = [s for s in floor if s not in touched]
    assert len(same) > 600
    for s in same:  # rongcheng: base 1000, minimum 0, no maximum
        assert scores[s] == max(0, 1000 + int(floor[s])), s


def test_rescore_bench_data_derives_columns_as_the_export_does(tmp_path: Path) -> None:
    """The generator's ``superseded_at`` is what :func:`relational.with_supersession` derives,
    and its ``subject_no`` is the subject's number in ``subjects.parquet``."""
    import ibis

    from socialcredit.engines import relational

    bench = load_bench("rescore")
    data = bench.generate(tmp_path / "d", 300, 20_000, bench.bench_scheme())
    records = pq.read_table(data / "records")
    con = ibis.duckdb.connect()
    derived = con.to_pyarrow(
        relational.with_supersession(con.create_table("r", records.drop(["superseded_at"])))
    )
    want = dict(zip(derived["seq"].to_pylist(), derived["superseded_at"].to_pylist(), strict=True))
    got = dict(zip(records["seq"].to_pylist(), records["superseded_at"].to_pylist(), strict=True))
    assert got == want and sum(v is not None for v in got.values()) > 0
    subjects = pq.read_table(data / "subjects.parquet").to_pydict()
    code_of = dict(zip(subjects["subject_no"], subjects["code"], strict=True))
    assert all(
        code_of[n] == c
        for n, c in zip(records["subject_no"].to_pylist(), records["subject"].to_pylist(), strict=True)
    )


def test_rescore_bench_data_is_deterministic(tmp_path: Path) -> None:
    bench = load_bench("rescore")
    scheme = bench.bench_scheme()
    a = pq.read_table(bench.generate(tmp_path / "a", 300, 7000, scheme) / "records")
    b = pq.read_table(bench.generate(tmp_path / "b", 300, 7000, scheme) / "records")
    c = pq.read_table(bench.generate(tmp_path / "c", 300, 7000, scheme, seed=1) / "records")
    assert a.equals(b) and not a.equals(c)
    assert a.num_rows == 7000 and set(a["action"].to_pylist()) <= {"report", "correct", "withdraw"}


def test_write_markdown_keeps_newest_first(tmp_path: Path) -> None:
    bench = load_bench("rescore")
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# Benchmarks\n\nIntro.\n")
    base = {
        "subjects": 10,
        "records": 100,
        "parquet_bytes": 2**20,
        "generate_s": 0.1,
        "duckdb": "x",
        "floor_s": 1.0,
        "rescore_duckdb_s": 1.5,
        "rescore_duckdb_ratio": 1.5,
        "rescore_duckdb_score_and_write_s": 1.2,
        "rescore_duckdb_score_and_write_ratio": 1.2,
        "floor_subject_no_s": 0.6,
        "floor_subject_no_ratio": 0.6,
        "rescore_duckdb_ratio_to_subject_no_floor": 2.5,
        "load_before": 0.5,
        "load_after": 1.0,
    }
    bench.write_markdown(base, doc)
    bench.write_markdown({**base, "records": 200}, doc)
    text = doc.read_text()
    assert text.startswith("# Benchmarks\n\nIntro.\n")
    assert text.index("200 records") < text.index("100 records")
    assert "| 1.5 (2.5 of the integer-key floor) |" in text and "cores" in text and "after 1.0" in text


def test_subject_view_bench_runs_and_times_the_decryption(tmp_path: Path) -> None:
    """Issue 21 point 5: the view's sealing share is measured inside the same reads."""
    bench = load_bench("subjectview")
    result = bench.run(residents=30, reads=5, rounds=1, home=tmp_path)
    assert result["reads"] == 5 and result["records_per_read"] > 0
    assert 0 < result["sealing_ms"] < result["view_ms"]
    doc = tmp_path / "benchmarks.md"
    bench.write_markdown(result, doc)
    assert "sealing adds" in doc.read_text() and "keys cached" in doc.read_text()


def test_state_codec_bench_measures_both_encodings_of_the_same_rows(tmp_path: Path) -> None:
    """Decision 0089: the payload before (plain lines) and after (compressed), read alike."""
    bench = load_bench("statecodec")
    result = bench.run(residents=30, seed=7, reads=10, rounds=1, url=f"sqlite:///{tmp_path / 'b.db'}")
    assert result["subjects"] > 30 and result["reads"] == 10
    assert result["bytes_after"]["median"] * 5 < result["bytes_before"]["median"]
    assert result["read_us_before"] > 0 and result["read_us_after"] > 0 and result["encode_us_after"] > 0
    spent = sum(result["composition_before"].values())  # a mean a subject, by what the bytes hold
    assert spent == pytest.approx(result["bytes_before"]["median"], rel=0.3)
    doc = tmp_path / "benchmarks.md"
    bench.write_markdown(result, doc)
    written = doc.read_text()
    assert "read of one state" in written and f"dictionary {bench.statecodec.DICTIONARY}" in written
