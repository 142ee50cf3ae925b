"""Benchmark: ingest N records into PostgreSQL, against a bare ``COPY`` of the same rows.

    .venv/bin/python bench/ingest_pg.py [--records N] [--seed K] [--chunk-size C] [--repeat R] [--write]

A real PostgreSQL server (the ``pgserver`` wheel, in a temporary directory) and the same rows as
``bench/ingest.py`` (a deterministic synthetic city's records, as ingest rows). Timed in one run,
each into a fresh database whose schema the store made (same table, same indexes):

- **ingest**: ``System.ingest`` exactly as ``socialcredit ingest`` runs it against PostgreSQL:
  every row validated, deduplicated against the ledger, hash-chained and inserted (by ``COPY``,
  ``store.dialect.insert_rows``), chunks of ``--chunk-size`` rows each committed on its own;
- **floor**: the very tuples the ingest stored (read back), written by one bare ``COPY ... FROM
  STDIN`` into the same ``records`` table in one transaction: what a peer bulk-loading the same
  rows would write, with no validation, no dedup lookup, no hashing and no chunking.

Both tables must end up holding the same rows. Ingest and floor alternate ``--repeat`` times and
the best of each is kept. Issue 20's target: ingest at least 0.5 of the floor's records/s.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import add_results, load_average, machine, now_utc, report  # noqa: E402
from ingest import cpu_seconds, make_rows, time_ingest, verify_ingested  # noqa: E402

from socialcredit.schemes import shipped_registry  # noqa: E402
from socialcredit.store import Store  # noqa: E402
from socialcredit.store.sql import RECORD_COLUMNS  # noqa: E402

COLUMNS = ", ".join(RECORD_COLUMNS)


def fresh_database(server: Any, name: str) -> str:
    """A new, empty database on the server (dropped first if a run left it) and its URL, with
    the store's schema made in it."""
    server.psql(f"DROP DATABASE IF EXISTS {name};")
    server.psql(f"CREATE DATABASE {name};")
    url = server.get_uri(name).replace("postgresql://", "postgresql+psycopg://", 1)
    Store(url).close()  # the schema: the same table and indexes for ingest and floor
    return str(url)


def _raw(url: str) -> Any:
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1))


def stored_tuples(url: str) -> list[tuple[Any, ...]]:
    """The record rows exactly as stored, in ledger order."""
    with _raw(url) as conn:
        return list(conn.execute(f"SELECT {COLUMNS} FROM records ORDER BY seq").fetchall())


def time_floor(url: str, tuples: list[tuple[Any, ...]]) -> tuple[float, float]:
    """(wall, CPU) of one bare ``COPY`` of ``tuples`` into ``records``, committed."""
    with _raw(url) as conn:
        c0, t0 = cpu_seconds(), time.perf_counter()
        with conn.cursor() as cur, cur.copy(f"COPY records ({COLUMNS}) FROM STDIN") as copy:
            for row in tuples:
                copy.write_row(row)
        conn.commit()
        return time.perf_counter() - t0, cpu_seconds() - c0


def server_cpu(root: Path, settle: float = 5.0) -> float:
    """CPU seconds the PostgreSQL server has used so far (Linux ``/proc``): the postmaster's own,
    its reaped children's and its running background processes'. Beside the bench process's own
    CPU it gives each side's whole cost, the figure a loaded machine cannot blur into its wall
    time (decision 0104). Read once no client backend is left (up to ``settle`` seconds): one
    exiting between the read of the running processes and the postmaster's reaping would be
    counted by neither reading, then by the next. 0.0 where ``/proc`` is missing."""
    try:
        pid = int(next(root.rglob("postmaster.pid")).read_text().split()[0])
        tick = os.sysconf("SC_CLK_TCK")
    except (StopIteration, OSError, ValueError):
        return 0.0
    deadline = time.monotonic() + settle
    while True:
        total, clients = 0, 0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
                title = Path(f"/proc/{entry}/cmdline").read_bytes()
            except OSError:
                continue
            if int(entry) == pid:  # its own, and its reaped children's
                total += sum(int(x) for x in fields[11:15])
            elif int(fields[1]) == pid:
                total += int(fields[11]) + int(fields[12])
                # a client backend's title names its peer: "[local]" or "host(port)"
                clients += b"[local]" in title or b"(" in title
        if not clients or time.monotonic() > deadline:
            return total / tick
        time.sleep(0.05)


def run(args: argparse.Namespace) -> dict[str, Any]:
    import pgserver

    registry = shipped_registry()
    load_before = load_average()
    rows = make_rows(args.records, args.seed, registry)
    root = Path(tempfile.mkdtemp(prefix="sc-bench-pg-"))
    server = pgserver.get_server(root, cleanup_mode="stop")
    ingest_s: list[float] = []
    floor_s: list[float] = []
    ingest_cpu: list[float] = []
    floor_cpu: list[float] = []
    ingest_server: list[float] = []
    floor_server: list[float] = []
    try:
        version = server.psql("SHOW server_version;").split("\n")[2].strip()
        tuples: list[tuple[Any, ...]] = []
        for _ in range(args.repeat):
            url = fresh_database(server, "bench_ingest")
            s0 = server_cpu(root)
            wall, cpu = time_ingest(url, rows, registry, args.chunk_size)
            ingest_server.append(server_cpu(root) - s0)
            ingest_s.append(wall)
            ingest_cpu.append(cpu)
            stored = stored_tuples(url)
            if not tuples:
                if args.verify:
                    verify_ingested(url)
                tuples = stored
            floor_url = fresh_database(server, "bench_floor")
            s0 = server_cpu(root)
            wall, cpu = time_floor(floor_url, tuples)
            floor_server.append(server_cpu(root) - s0)
            floor_s.append(wall)
            floor_cpu.append(cpu)
            if stored_tuples(floor_url) != tuples:
                raise AssertionError("the floor did not store the same rows")
    finally:
        server.cleanup()
        shutil.rmtree(root, ignore_errors=True)
    n = len(rows)
    best_ingest, best_floor = min(ingest_s), min(floor_s)
    ingest_all = min(c + s for c, s in zip(ingest_cpu, ingest_server, strict=True))
    floor_all = min(c + s for c, s in zip(floor_cpu, floor_server, strict=True))
    return {
        "records": n,
        "chunk_size": args.chunk_size,
        "repeat": args.repeat,
        "postgres": version,
        "ingest_s": round(best_ingest, 3),
        "ingest_records_per_s": round(n / best_ingest),
        "floor_s": round(best_floor, 3),
        "floor_records_per_s": round(n / best_floor),
        "rate_ratio": round(best_floor / best_ingest, 3),
        "ingest_runs_s": [round(s, 3) for s in ingest_s],
        "floor_runs_s": [round(s, 3) for s in floor_s],
        "ingest_cpu_s": round(ingest_cpu[ingest_s.index(best_ingest)], 3),
        "floor_cpu_s": round(floor_cpu[floor_s.index(best_floor)], 3),
        "ingest_server_cpu_s": round(ingest_server[ingest_s.index(best_ingest)], 3),
        "floor_server_cpu_s": round(floor_server[floor_s.index(best_floor)], 3),
        "ingest_total_cpu_s": round(ingest_all, 3),
        "floor_total_cpu_s": round(floor_all, 3),
        "cpu_ratio": round(floor_all / ingest_all, 3) if ingest_all else None,
        "load_average_before": load_before,
        "load_average": load_average(),
        "verified": bool(args.verify),
    }


SECTION = """### Ingestion into PostgreSQL: `System.ingest` against a bare `COPY` of the same rows

```bash
.venv/bin/python bench/ingest_pg.py --records 1000000 --repeat 2 --verify --write
```

A real PostgreSQL (the `pgserver` wheel) and the same rows as the SQLite ingest bench. **Ingest** is
`System.ingest` as `socialcredit ingest` runs it (validated, deduplicated, hash-chained, inserted by
`COPY` in chunks of 20,000, each committed). The **floor** is the very tuples the ingest stored,
written by one bare `COPY ... FROM STDIN` into the same table and indexes in one transaction: the
bulk load a peer would write. Both tables must hold the same rows. "Process CPU" is the bench
process's CPU time; "server CPU" the PostgreSQL server's (its processes', from `/proc`); "CPU ratio" is
the floor's process and server CPU over the ingest's (best of each): the share a loaded machine
cannot blur. Issue 20's target: at least 0.5 of the floor's
records/s. `tests/test_bench_io.py` runs it at 2,000 records."""

MARKER = "ingest into PostgreSQL results: newest first"


def write_markdown(result: Mapping[str, Any], path: Path) -> None:
    lines = [
        f"### ingest into PostgreSQL: {result['records']:,} records ({now_utc()})",
        "",
        f"Machine: {machine()}; PostgreSQL {result['postgres']}; load average "
        f"{result['load_average_before']} before and {result['load_average']} at the end of the run. "
        f"Command: `.venv/bin/python bench/ingest_pg.py --records {result['records']} --repeat "
        f"{result['repeat']}{' --verify' if result['verified'] else ''} --write`.",
        "",
        "| what | seconds | records/s | rate as a share of the floor's | process CPU s | server CPU s |",
        "|---|---:|---:|---:|---:|---:|",
        f"| floor: one bare `COPY` of the same rows into the same table | {result['floor_s']} | "
        f"{result['floor_records_per_s']:,} | 1.00 | {result['floor_cpu_s']} | "
        f"{result['floor_server_cpu_s']} |",
        f"| `System.ingest` (validate, dedup, chain, `COPY` per chunk) | {result['ingest_s']} | "
        f"{result['ingest_records_per_s']:,} | {result['rate_ratio']} | {result['ingest_cpu_s']} | "
        f"{result['ingest_server_cpu_s']} |",
        "",
        f"CPU ratio (process and server, the floor's over the ingest's): {result['cpu_ratio']}.",
        "",
        f"Runs (seconds): ingest {result['ingest_runs_s']}, floor {result['floor_runs_s']}.",
        "",
    ]
    add_results(path, SECTION, MARKER, lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--records", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=2014)
    p.add_argument("--chunk-size", type=int, default=20_000, help="rows per committed chunk (CLI default)")
    p.add_argument("--repeat", type=int, default=1, help="runs of each, alternating; the best is kept")
    p.add_argument("--verify", action="store_true", help="verify the ingested chain (recomputes every hash)")
    p.add_argument("--write", action="store_true", help="add the figures to docs/benchmarks.md")
    args = p.parse_args(argv)
    result = run(args)
    return report(result, args.write, write_markdown)


if __name__ == "__main__":
    main()
