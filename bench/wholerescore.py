"""Benchmark: the whole ``socialcredit rescore --from`` of a synthetic export, each stage's share.

    .venv/bin/python bench/wholerescore.py --subjects 1000000 --records 10000000 --dir /tmp/wr --reuse
    .venv/bin/python bench/wholerescore.py --subjects 10000000 --records 100000000 --dir /data/wr \\
        --reuse --memory-limit 14GB --write

Generates (or, with ``--reuse``, keeps) the export of ``bench/listfloors.py`` (the Rongcheng items
at their base rates, the court's items for one subject in twenty, one record in 2,000 a
correction or a withdrawal) and runs the command on it in a fresh installation, in a child
process, as an operator would: every scheme in force at the bench's day scored, every list
derived, both outputs registered. It reports the wall time, the CPU seconds of the child
(user and system, every thread: what a shared machine's load moves less than wall time), its
peak resident memory, each stage's seconds and share (the command's own ``stages``; "start,
read, tallies" is the rest of the wall time: the interpreter, a fresh store, the reads and
counts of what was written), and the load average before and after.

``--memory-limit`` and ``--temp-directory`` are handed to the command as
``SOCIALCREDIT_DUCKDB_MEMORY_LIMIT`` and ``SOCIALCREDIT_DUCKDB_TEMP_DIRECTORY`` (decision 0103):
what lets 10 million subjects and 100 million records run within this machine's 24 GiB, DuckDB
spilling the rest to disk. No floor: each stage has its own (``bench/rescore.py`` for the scores,
``bench/listfloors.py`` for the lists); this is the sum an operator waits for.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import add_results, export_arguments, machine, report  # noqa: E402


def whole_command(
    data: Path, work: Path, as_of: dt.datetime, memory_limit: str | None = None, temp: Path | None = None
) -> dict[str, Any]:
    """``socialcredit rescore --from data`` in a fresh installation under ``work``, timed from
    outside: wall and CPU seconds (the child's user and system time), peak memory (the child's
    maximum resident set), and each stage's seconds, the rest named "start, read, tallies"."""
    home = work / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "SOCIALCREDIT_HOME": str(home), "PYTHONPATH": str(ROOT / "src")}
    env.setdefault("SOCIALCREDIT_MASTER_KEY", base64.b64encode(os.urandom(32)).decode())
    if memory_limit:
        env["SOCIALCREDIT_DUCKDB_MEMORY_LIMIT"] = memory_limit
    if temp:
        env["SOCIALCREDIT_DUCKDB_TEMP_DIRECTORY"] = str(temp)
    cli = Path(sys.executable).with_name("socialcredit")
    out = work / "cli.parquet"
    cmd = [str(cli), "rescore", "--from", str(data), "--at", as_of.isoformat(), "--out", str(out), "--json"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"socialcredit rescore failed: {done.stderr[-2000:]}")
    found = json.loads(done.stdout)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    stages = {k: float(v) for k, v in found["stages"].items()}
    stages["start, read, tallies"] = wall - sum(stages.values())
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "peak_gib": round(after.ru_maxrss / 2**20, 2),  # KiB to GiB: the largest child so far
        "stages": {k: round(v, 2) for k, v in stages.items()},
        "shares": {k: round(100 * v / wall) for k, v in stages.items()},
        "grades": found["grades"],
        "lists": found["lists"],
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    from listfloors import AS_OF, prepared

    work, data, gen = prepared(args, "sc-whole-")
    result: dict[str, Any] = {"subjects": args.subjects, "records": args.records, "generate_s": round(gen, 2)}
    temp = Path(args.temp_directory) if args.temp_directory else None
    runs = []
    for _ in range(args.repeat):
        load = round(os.getloadavg()[0], 1)
        fresh = Path(tempfile.mkdtemp(prefix="run-", dir=work))  # a fresh installation each run
        r = whole_command(data, fresh, AS_OF, args.memory_limit, temp)
        shutil.rmtree(fresh)
        r["load_before"], r["load_after"] = load, round(os.getloadavg()[0], 1)
        print(json.dumps(r), file=sys.stderr)  # noqa: T201 (a long run keeps its figures)
        runs.append(r)
    result["runs"] = runs
    result["memory_limit"] = args.memory_limit
    return result


SECTION = """## The whole `socialcredit rescore --from` (issue 20, point 4)

`bench/wholerescore.py`: the command on `bench/listfloors.py`'s export in a fresh installation,
every scheme in force scored and every list derived; wall and CPU seconds, peak memory, each
stage's share, the load average. Newest first."""


def write_markdown(result: dict[str, Any], path: Path) -> None:
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    limit = f" --memory-limit {result['memory_limit']}" if result.get("memory_limit") else ""
    lines = [
        f"### {when}: {result['subjects']:,} subjects, {result['records']:,} records; {machine()}",
        "",
        f"`bench/wholerescore.py --subjects {result['subjects']} --records {result['records']}{limit}`",
        "",
        "| wall | CPU | peak memory | stages (seconds, share of wall) | load average |",
        "|---|---|---|---|---|",
    ]
    for r in result["runs"]:
        stages = ", ".join(f"{k} {v} s ({r['shares'][k]} %)" for k, v in r["stages"].items())
        load = f"{r['load_before']} before, {r['load_after']} after"
        lines.append(f"| {r['wall_s']} s | {r['cpu_s']} s | {r['peak_gib']} GiB | {stages} | {load} |")
    lines.append("")
    add_results(path, SECTION, "wholerescore-results", lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    export_arguments(p, 1_000_000, 10_000_000)
    p.add_argument("--repeat", type=int, default=1, help="runs of the command, each reported")
    p.add_argument("--memory-limit", default=None, help="DuckDB's memory_limit for the command (e.g. 14GB)")
    p.add_argument("--temp-directory", default=None, help="where DuckDB spills (default: its own)")
    p.add_argument("--write", action="store_true", help="add the figures to docs/benchmarks.md")
    args = p.parse_args(argv)
    return report(run(args), args.write, write_markdown)


if __name__ == "__main__":
    main()
