"""Benchmark: rescore a synthetic population with the relational definition, against floors.

    .venv/bin/python bench/rescore.py --subjects 1000000 --records 10000000 [--spark] [--write]

Generates (deterministically, with numpy and pyarrow, never through Python dicts) an export-shaped
dataset of ``--subjects`` persons and ``--records`` records of the Rongcheng items with time decay
on (a half-life on every item), a few corrections and withdrawals included, then times in one run:

- **floor**: a bare DuckDB join + window filter + decayed sum + group-by + write of the same sums
  over the same Parquet file (no corrections, no subjects without records, no clamp, no grade);
- **rescore (DuckDB)**: ``engines.rescore`` exactly as ``socialcredit rescore`` runs it (effective
  records, decay, every subject, clamp, grade, written as Parquet, then the grade tally; the
  scheme's lists by grade are left out, as the floor has nothing like them: ``socialcredit
  rescore`` derives them in a pass of their own);
- **pandas**: a straightforward pandas merge + groupby of the floor's sums (in chunks of
  ``--pandas-chunk`` records, partial sums added: one frame of 100 million records would not fit);
- **rescore (Spark)** with ``--spark``: the same definition on Spark local mode (all cores).

Every figure is reported as seconds and as a ratio to the floor measured in the same run, and
with ``--write`` appended to docs/benchmarks.md with the machine and date.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import machine, report  # noqa: E402

from socialcredit.engines.base import EXPORT_FORMAT, EXPORT_VERSION, rescore  # noqa: E402
from socialcredit.engines.duck import DuckDBEngine  # noqa: E402
from socialcredit.engines.listing import REPRESENTATIVE_SCHEMA  # noqa: E402
from socialcredit.engines.relational import SUBJECT_SCHEMA  # noqa: E402
from socialcredit.engines.suspending import OBJECTION_SCHEMA  # noqa: E402
from socialcredit.rules import days  # noqa: E402
from socialcredit.schemes.loader import shipped_scheme  # noqa: E402
from socialcredit.schemes.model import Scheme  # noqa: E402

AS_OF = dt.datetime(2026, 10, 31, 23, 59, 59)
TODAY = days.day_of(AS_OF)
"""The day the rules count at ``AS_OF``: days are days in China (``rules.days``), so the floors
age records from it as the engines do."""
WINDOW_DAYS = 3 * 365
HALF_LIVES = (180, 365, 730)
CHUNK = 5_000_000
GENERATOR = 3
"""Bumped whenever :func:`generate` changes what it writes, so ``--reuse`` never reads stale data."""
BENCH_SCHEMA = pa.schema(
    [
        pa.field("seq", pa.int64(), nullable=False),
        pa.field("record_id", pa.string(), nullable=False),
        pa.field("subject", pa.string(), nullable=False),
        pa.field("subject_kind", pa.string(), nullable=False),
        pa.field("item", pa.string(), nullable=False),
        pa.field("occurred_on", pa.date32(), nullable=False),
        pa.field("reported_at", pa.timestamp("us"), nullable=False),
        pa.field("action", pa.string(), nullable=False),
        pa.field("corrects", pa.string()),
        pa.field("corrects_seq", pa.int64()),
        pa.field("superseded_at", pa.timestamp("us")),
        pa.field("subject_no", pa.int64(), nullable=False),
    ]
)


def bench_scheme() -> Scheme:
    """Rongcheng with decay on: every item gets a half-life (180, 365 or 730 days in turn)."""
    data = shipped_scheme("rongcheng").model_dump()
    data["id"] = "rongcheng-decay"
    for k, item in enumerate(data["items"]):
        item["half_life_days"] = HALF_LIVES[k % len(HALF_LIVES)]
    return Scheme.model_validate(data)


def _codes(numbers: np.ndarray[Any, Any], width: int) -> pa.Array:
    return pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width=width, padding="0")


def corrections(rng: np.random.Generator, lo: int, reported: np.ndarray[Any, Any]) -> dict[str, pa.Array]:
    """The columns ``action, corrects, corrects_seq, superseded_at`` of a chunk of records whose
    first has ledger position ``lo + 1``: one record in 2,000 a withdrawal or a correction of an
    earlier record of the chunk, and ``superseded_at`` as the export derives it (the earliest
    report of a record naming it). Shared with ``bench/listfloors.py``."""
    n = len(reported)
    ids = np.arange(lo, lo + n, dtype=np.int64) + 1
    fix = rng.random(n) < 0.0005
    fix[0] = False
    action = np.where(fix, np.where(rng.random(n) < 0.5, "withdraw", "correct"), "report")
    target = lo + 1 + (rng.random(n) * (ids - lo - 1)).astype(np.int64)  # an earlier seq
    superseded = np.full(n, np.datetime64("NaT"), "datetime64[us]")
    first = np.full(n, np.iinfo(np.int64).max, np.int64)
    np.minimum.at(first, target[fix] - lo - 1, reported[fix].astype(np.int64))
    hit = first != np.iinfo(np.int64).max
    superseded[hit] = first[hit].astype("datetime64[us]")
    corrects = pa.array(np.where(fix, target, 0)).cast(pa.string())
    return {
        "action": pa.array(action, pa.string()),
        "corrects": pc.if_else(pa.array(fix), pc.utf8_lpad(corrects, width=32, padding="0"), None),
        "corrects_seq": pc.if_else(pa.array(fix), pa.array(target), None),
        "superseded_at": pa.array(superseded, pa.timestamp("us"), mask=~hit),
    }


def chunk_columns(
    rng: np.random.Generator,
    lo: int,
    subj: np.ndarray[Any, Any],
    items: pa.Array,
    occurred: np.ndarray[Any, Any],
    reported: np.ndarray[Any, Any],
) -> dict[str, pa.Array]:
    """The columns of :data:`BENCH_SCHEMA` for a chunk of persons' records whose first has ledger
    position ``lo + 1`` (subject numbers, item codes, days and report times given; the
    corrections drawn by :func:`corrections`). Shared with ``bench/listfloors.py``."""
    ids = np.arange(lo, lo + len(subj), dtype=np.int64) + 1
    return {
        "seq": pa.array(ids),
        "record_id": _codes(ids, 32),
        "subject": _codes(subj + 10**17, 18),
        "subject_kind": pa.array(["person"]).take(np.zeros(len(subj), np.int64)),
        "item": items,
        "occurred_on": pa.array(occurred, pa.date32()),
        "reported_at": pa.array(reported, pa.timestamp("us")),
        **corrections(rng, lo, reported),
        "subject_no": pa.array(subj),
    }


def generate(directory: Path, subjects: int, records: int, scheme: Scheme, seed: int = 2014) -> Path:
    """Write ``directory`` as an export (manifest, subjects, representatives, records/part-*.parquet)."""
    if directory.exists():
        shutil.rmtree(directory)
    (directory / "records").mkdir(parents=True)
    numbers = np.arange(subjects, dtype=np.int64)
    codes = _codes(numbers + 10**17, 18)
    kinds = pa.array(["person"], pa.string()).take(np.zeros(subjects, np.int64))
    pq.write_table(
        pa.table({"code": codes, "kind": kinds, "subject_no": pa.array(numbers)}, schema=SUBJECT_SCHEMA),
        directory / "subjects.parquet",
    )
    # persons only: no organisation, so no legal representative (the file is part of an export)
    pq.write_table(
        REPRESENTATIVE_SCHEMA.empty_table(),
        directory / "representatives.parquet",
    )
    pq.write_table(OBJECTION_SCHEMA.empty_table(), directory / "objections.parquet")  # none filed
    items = [i.code for i in scheme.items if i.points and "person" in i.subjects]
    weights = np.array([max(i.base_rate_per_year, 0.01) for i in scheme.items if i.code in items])
    weights = weights / weights.sum()
    start = np.datetime64(TODAY, "D") - WINDOW_DAYS
    writer = pq.ParquetWriter(directory / "records" / "part-0.parquet", BENCH_SCHEMA)
    item_codes = pa.array(items, pa.string())
    for part, lo in enumerate(range(0, records, CHUNK)):
        n = min(CHUNK, records - lo)
        rng = np.random.default_rng([seed, part])
        subj = rng.integers(0, subjects, n)
        item = rng.choice(len(items), size=n, p=weights)
        occurred = start + rng.integers(0, WINDOW_DAYS + 1, n).astype("timedelta64[D]")
        lag = np.minimum(rng.geometric(0.15, n) - 1, 30).astype("timedelta64[D]")
        reported = (occurred + lag).astype("datetime64[us]") + rng.integers(8 * 3600, 20 * 3600, n).astype(
            "timedelta64[s]"
        )
        reported = np.minimum(reported, np.datetime64(AS_OF, "us"))
        columns = chunk_columns(rng, lo, subj, item_codes.take(item), occurred, reported)
        writer.write_table(pa.table(columns, schema=BENCH_SCHEMA), row_group_size=1_000_000)
    writer.close()
    write_manifest(directory, subjects, records, seed, GENERATOR)
    return directory


def write_manifest(directory: Path, subjects: int, records: int, seed: int, generator: int | str) -> None:
    """The export's manifest, naming the generator that wrote the data (for ``--reuse``)."""
    manifest = {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "records": records,
        "chain_count": records,  # what `socialcredit rescore` registers its outputs against
        "subjects": subjects,
        "bench": {"seed": seed, "generator": generator},
    }
    (directory / "manifest.json").write_text(json.dumps(manifest))


def _generated(
    directory: Path, subjects: int, records: int, seed: int, generator: int | str = GENERATOR
) -> bool:
    """Whether ``directory`` holds exactly what ``generator`` would write for these arguments."""
    try:
        m = json.loads((directory / "manifest.json").read_text())
    except (OSError, ValueError):
        return False
    want = {"version": EXPORT_VERSION, "subjects": subjects, "records": records, "chain_count": records}
    return all(m.get(k) == v for k, v in want.items()) and m.get("bench") == {
        "seed": seed,
        "generator": generator,
    }


def floor_duckdb(
    directory: Path, scheme: Scheme, out: Path, threads: int | None, key: str = "subject"
) -> float:
    """The bare DuckDB query: join, window, decayed sum, group by ``key``, write.

    ``key`` is ``subject`` (the identity code: the query as one would write it from the issue)
    or ``subject_no`` (the export's integer key, which ``rescore`` groups on): both are reported,
    so the ratio is shown against the stricter floor too."""
    import duckdb

    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {threads}")
    items = pa.table(
        {
            "item": [i.code for i in scheme.items if i.points],
            "points": [i.points for i in scheme.items if i.points],
            "days": [i.counts_for_days for i in scheme.items if i.points],
            "hl": [i.half_life_days for i in scheme.items if i.points],
        }
    )
    con.register("items", items)
    t0 = time.perf_counter()
    con.execute(
        f"""
        COPY (
          SELECT r.{key},
                 SUM(FLOOR(i.points * POW(0.5, (DATE '{TODAY}' - r.occurred_on) / i.hl) + 0.5))
                   AS total
          FROM read_parquet('{directory}/records/*.parquet') r JOIN items i ON r.item = i.item
          WHERE (DATE '{TODAY}' - r.occurred_on) BETWEEN 0 AND i.days - 1
          GROUP BY r.{key}
        ) TO '{out}' (FORMAT parquet)
        """
    )  # fmt: skip
    seconds = time.perf_counter() - t0
    con.close()
    return seconds


def pandas_merge(directory: Path, scheme: Scheme, out: Path, chunk: int) -> float:
    """The straightforward pandas version of the floor's sums: read, merge with the items, filter
    the window, decay, group by subject. Above ``chunk`` records it reads ``chunk`` records at a
    time and adds the partial sums (the usual way to keep pandas within memory; at 100 million
    records a single frame of Python strings would need far more than this machine has)."""
    import pandas as pd

    items = pd.DataFrame(
        {
            "item": [i.code for i in scheme.items if i.points],
            "points": [i.points for i in scheme.items if i.points],
            "days": [i.counts_for_days for i in scheme.items if i.points],
            "hl": [i.half_life_days for i in scheme.items if i.points],
        }
    )

    def sums(df: pd.DataFrame) -> pd.Series:
        m = df.merge(items, on="item")
        age = (pd.Timestamp(TODAY) - pd.to_datetime(m["occurred_on"])).dt.days
        m = m[(age >= 0) & (age < m["days"])]
        age = age[m.index]
        m = m.assign(c=np.floor(m["points"] * np.power(0.5, age / m["hl"]) + 0.5))
        return m.groupby("subject", sort=False)["c"].sum()

    t0 = time.perf_counter()
    columns = ["subject", "item", "occurred_on"]
    files = sorted((directory / "records").glob("*.parquet"))
    if sum(pq.ParquetFile(f).metadata.num_rows for f in files) <= chunk:
        total = sums(pd.read_parquet(directory / "records", columns=columns))
    else:
        parts = [
            sums(batch.to_pandas())
            for f in files
            for batch in pq.ParquetFile(f).iter_batches(batch_size=chunk, columns=columns)
        ]
        total = pd.concat(parts).groupby(level=0, sort=False).sum()
    total.reset_index().to_parquet(out)
    return time.perf_counter() - t0


def run(args: argparse.Namespace) -> dict[str, Any]:
    import duckdb

    scheme = bench_scheme()
    work = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="sc-bench-"))
    data = work / "export"
    t0 = time.perf_counter()
    if args.reuse and _generated(data, args.subjects, args.records, args.seed):
        gen = 0.0  # the same data, kept from an earlier run with --dir
    else:
        generate(data, args.subjects, args.records, scheme, args.seed)
        gen = time.perf_counter() - t0
    size = sum(p.stat().st_size for p in (data / "records").glob("*.parquet"))
    result: dict[str, Any] = {
        "subjects": args.subjects,
        "records": args.records,
        "parquet_bytes": size,
        "generate_s": round(gen, 2),
        "duckdb": duckdb.__version__,
    }
    # floor and rescore alternate, and the best of each is kept, so a busy moment on the machine
    # does not land on one side only
    floors = []
    floors_no = []
    runs = []
    for _ in range(args.repeat):
        floors.append(floor_duckdb(data, scheme, work / "floor.parquet", args.threads))
        floors_no.append(floor_duckdb(data, scheme, work / "floor-no.parquet", args.threads, "subject_no"))
        engine = DuckDBEngine(threads=args.threads)
        # scores only, as the floor computes: the scheme's lists by grade are a pass of their own
        runs.append(rescore(engine, data, [scheme], AS_OF, work / "scores.parquet", list_schemes=[]))
        engine.close()
    floor = min(floors)
    floor_no = min(floors_no)
    result["floor_s"] = round(floor, 3)
    result["floor_subject_no_s"] = round(floor_no, 3)
    result["floor_subject_no_ratio"] = round(floor_no / floor, 2)
    best = min(runs, key=lambda r: r.seconds)
    result["rescore_duckdb_s"] = round(best.seconds, 3)
    result["rescore_duckdb_score_and_write_s"] = round(best.stages["score and write"], 3)
    result["rescore_duckdb_ratio"] = round(best.seconds / floor, 2)
    result["rescore_duckdb_score_and_write_ratio"] = round(best.stages["score and write"] / floor, 2)
    result["rescore_duckdb_ratio_to_subject_no_floor"] = round(best.seconds / floor_no, 2)
    result["grades"] = best.grades[scheme.id]
    assert best.subjects == args.subjects, "every subject is scored"
    if not args.no_pandas:
        p = pandas_merge(data, scheme, work / "pandas.parquet", args.pandas_chunk)
        result["pandas_s"] = round(p, 3)
        result["pandas_ratio"] = round(p / floor, 2)
        result["pandas_over_rescore"] = round(p / best.seconds, 2)
    if args.spark:
        from socialcredit.engines.spark import SparkEngine, session

        t = time.perf_counter()
        spark = session(partitions=max(2 * (os.cpu_count() or 2), 4))
        result["spark_session_s"] = round(time.perf_counter() - t, 2)
        engine_s = SparkEngine(spark)
        r = rescore(engine_s, data, [scheme], AS_OF, work / "scores-spark", list_schemes=[])
        result["rescore_spark_s"] = round(r.seconds, 3)
        result["rescore_spark_ratio"] = round(r.seconds / floor, 2)
        result["spark_records_per_core_s"] = round(args.records / r.seconds / (os.cpu_count() or 1))
        assert r.grades == best.grades, "Spark and DuckDB agree"
        spark.stop()
    if not args.dir:
        shutil.rmtree(work)
    return result


SECTION = """## Rescore: the relational definition against a bare DuckDB floor

```bash
.venv/bin/python bench/rescore.py --subjects 1000000 --records 10000000 --repeat 2 --spark --write
```

A synthetic export (numpy + pyarrow, deterministic) of persons and records of the Rongcheng items
with decay on (half-lives of 180, 365 and 730 days), one record in 2,000 a correction or a
withdrawal. The floor is a bare DuckDB `COPY (SELECT subject, SUM(decayed points) ... JOIN items
... WHERE in window GROUP BY subject) TO parquet` over the same file; `rescore` adds what the floor
leaves out: corrections and withdrawals (records superseded by then, from the export's derived
`superseded_at`), the report time, every subject (records or not), clamping and grades, and the
grade tally read back from what was written. The floor groups on the subject's identity code, as
the query is written from the issue's words; a second floor groups on the export's integer
`subject_no`, the key `rescore` groups on, and both ratios are shown. Floor and rescore
alternate and the best of each is kept. `tests/test_bench.py` runs it
at 800 subjects and checks that the floor sums what `rescore` scores.

"""


def write_markdown(result: dict[str, Any], path: Path) -> None:
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    spark = " --spark" if "rescore_spark_s" in result else ""
    lines = [
        f"### rescore: {result['subjects']:,} subjects, {result['records']:,} records ({when})",
        "",
        f"Machine: {machine()}; DuckDB {result['duckdb']}. "
        f"Parquet {result['parquet_bytes'] / 2**20:,.0f} MiB, generated in {result['generate_s']} s "
        "(0: reused). "
        f"Command: `.venv/bin/python bench/rescore.py --subjects {result['subjects']} "
        f"--records {result['records']}{spark} --write`.",
        "",
        "| what | seconds | ratio to floor |",
        "|---|---:|---:|",
        f"| floor: bare DuckDB join + group-by (on the subject's code) + write of the same decayed sums | "
        f"{result['floor_s']} | 1.00 |",
        "| floor on the export's integer subject number instead of the code | "
        f"{result['floor_subject_no_s']} | {result['floor_subject_no_ratio']} |",
        f"| `rescore` on DuckDB, score and write | {result['rescore_duckdb_score_and_write_s']} | "
        f"{result['rescore_duckdb_score_and_write_ratio']} |",
        f"| `rescore` on DuckDB, total (with the grade tally read back) | {result['rescore_duckdb_s']} | "
        f"{result['rescore_duckdb_ratio']} ({result['rescore_duckdb_ratio_to_subject_no_floor']} of the "
        "integer-key floor) |",
    ]  # fmt: skip
    if "pandas_s" in result:
        lines.append(
            f"| pandas merge + groupby of the same sums | {result['pandas_s']} | {result['pandas_ratio']} "
            f"(rescore is {result['pandas_over_rescore']}x faster) |"
        )
    if "rescore_spark_s" in result:
        lines.append(
            f"| `rescore` on Spark local mode (session start {result['spark_session_s']} s not counted) | "
            f"{result['rescore_spark_s']} | {result['rescore_spark_ratio']} |"
        )
    lines.append("")
    lines.append(f"Load average before the run {result['load_before']}, after {result['load_after']}.")
    lines.append("")
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n\n"
    marker = "<!-- rescore results: newest first -->\n"
    if marker not in text:
        text = text.rstrip("\n") + "\n\n" + SECTION + marker
    head, tail = text.split(marker, 1)
    path.write_text(head + marker + "\n" + "\n".join(lines) + "\n" + tail, encoding="utf-8")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--subjects", type=int, default=1_000_000)
    p.add_argument("--records", type=int, default=10_000_000)
    p.add_argument("--seed", type=int, default=2014)
    p.add_argument("--repeat", type=int, default=1, help="runs of each; the best is kept")
    p.add_argument("--threads", type=int, default=None, help="DuckDB threads (default: all cores)")
    p.add_argument(
        "--pandas-chunk", type=int, default=10_000_000, help="pandas reads this many records at a time"
    )
    p.add_argument("--no-pandas", action="store_true", help="skip the pandas comparison")
    p.add_argument("--spark", action="store_true", help="also run the Spark engine (local mode)")
    p.add_argument("--dir", default=None, help="keep the generated data here (default: a temp dir, removed)")
    p.add_argument("--write", action="store_true", help="add the figures to docs/benchmarks.md")
    p.add_argument(
        "--reuse", action="store_true", help="with --dir: keep data generated there by an earlier run"
    )
    args = p.parse_args(argv)
    before = os.getloadavg()[0]
    result = run(args)
    result["load_before"], result["load_after"] = round(before, 1), round(os.getloadavg()[0], 1)
    return report(result, args.write, write_markdown)


if __name__ == "__main__":
    main()
