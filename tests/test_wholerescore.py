"""The whole `socialcredit rescore --from` (decision 0103): the bench that times it runs, what the
command writes within a small DuckDB memory limit (spilling) is what an in-process rescore
derives without one, and a DuckDB setting it cannot take is refused naming its variable."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from socialcredit.engines import engine, rescore
from socialcredit.engines.duck import DuckDBEngine, SettingRefused
from socialcredit.rules.days import day_of
from socialcredit.schemes import shipped_registry
from socialcredit.schemes.segments import segmented
from tests.support.bench import load_bench


@pytest.mark.slow
def test_whole_rescore_bench_within_a_memory_limit_writes_what_rescore_derives(tmp_path: Path) -> None:
    bench = load_bench("wholerescore")
    floors = load_bench("listfloors")
    spill = tmp_path / "spill"
    args = ["--subjects", "3000", "--records", "40000", "--dir", str(tmp_path / "w")]
    result = bench.main([*args, "--memory-limit", "200MB", "--temp-directory", str(spill)])
    (run,) = result["runs"]
    assert set(run["stages"]) == {"score and write", "tally", "lists", "start, read, tallies"}
    assert run["wall_s"] > 0 and run["cpu_s"] > 0 and run["peak_gib"] > 0
    assert abs(sum(run["stages"].values()) - run["wall_s"]) < 0.05
    assert spill.is_dir()  # handed to DuckDB, which made it its spill directory
    # the same export rescored here, with no limit, as the command derives it
    data = tmp_path / "w" / "export"
    in_force = shipped_registry().at(day_of(floors.AS_OF))
    duck = DuckDBEngine()
    try:
        here = rescore(
            duck,
            data,
            in_force.scored(),
            floors.AS_OF,
            tmp_path / "here.parquet",
            list_schemes=list(in_force.schemes.values()),
            segments=segmented(in_force),
        )
    finally:
        duck.close()
    assert run["grades"] == here.grades and run["lists"] == here.lists
    assert sum(here.lists["court-dishonest-debtors/dishonest-debtors"].values()) > 0  # a list with entries
    assert pq.read_metadata(tmp_path / "here.parquet").num_rows > 3000
    doc = tmp_path / "benchmarks.md"
    bench.write_markdown(result, doc)
    assert "--memory-limit 200MB" in doc.read_text() and "start, read, tallies" in doc.read_text()


def test_engine_takes_its_memory_limit_and_spill_directory_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOCIALCREDIT_DUCKDB_MEMORY_LIMIT", "512MB")
    monkeypatch.setenv("SOCIALCREDIT_DUCKDB_TEMP_DIRECTORY", str(tmp_path / "spill"))
    duck = engine("duckdb")
    try:
        assert isinstance(duck, DuckDBEngine)
        got = duck.con.con.execute(
            "SELECT current_setting('memory_limit'), current_setting('temp_directory')"
        ).fetchone()
    finally:
        duck.close()
    assert got is not None and got[0].startswith("488") and got[1] == str(tmp_path / "spill")
    monkeypatch.delenv("SOCIALCREDIT_DUCKDB_MEMORY_LIMIT")
    monkeypatch.delenv("SOCIALCREDIT_DUCKDB_TEMP_DIRECTORY")
    plain = engine("duckdb")
    try:  # unset: DuckDB's own defaults
        limit = plain.con.con.execute("SELECT current_setting('memory_limit')").fetchone()
    finally:
        plain.close()
    assert limit is not None and not limit[0].startswith("488")


def test_a_memory_limit_duckdb_cannot_take_is_refused_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SettingRefused) as caught:
        DuckDBEngine(memory_limit="lots")
    assert caught.value.setting == "memory_limit" and caught.value.value == "lots"
    from socialcredit.cli import app
    from socialcredit.settings import get_settings

    monkeypatch.setenv("SOCIALCREDIT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SOCIALCREDIT_DATABASE_URL", raising=False)
    monkeypatch.setenv("SOCIALCREDIT_DUCKDB_MEMORY_LIMIT", "lots")
    get_settings.cache_clear()
    export = tmp_path / "exp"
    export.mkdir()
    manifest = {"format": "socialcredit-ledger-export", "version": 9, "records": 0, "chain_count": 0}
    (export / "manifest.json").write_text(json.dumps(manifest))
    try:
        done = CliRunner().invoke(app, ["rescore", "--from", str(export), "--json"])
    finally:
        get_settings.cache_clear()
    assert done.exit_code == 2, done.output
    assert "SOCIALCREDIT_DUCKDB_MEMORY_LIMIT=lots" in done.output
