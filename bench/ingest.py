"""Benchmark: ingest N records (default a million) into the embedded default, against a floor.

    .venv/bin/python bench/ingest.py [--records N] [--seed K] [--chunk-size C] [--repeat R] [--write]

The rows are a deterministic synthetic city's records (``socialcredit.synth``: valid codes, the
shipped items and sources, court records with case details), held in memory as the dicts an
agency file or an HTTP batch becomes. Timed in one run, each into a fresh SQLite file in WAL mode:

- **ingest**: ``System.ingest`` exactly as ``socialcredit ingest`` runs it: every row validated
  (fast path or full), deduplicated against the ledger (claim hashes), hash-chained (content,
  claim and chain hash), inserted, chunks of ``--chunk-size`` rows committed one by one;
- **floor**: the very tuples the ingest stored (read back from its database), inserted with one
  ``executemany`` per chunk of the same size into the same ``records`` table (same columns, same
  indexes, same connection settings, one transaction per chunk): what SQLite costs for the rows
  alone, with no validation, no dedup lookup and no hashing;
- **engine floor**: the same rows copied by SQLite itself, ``INSERT INTO records SELECT`` from
  the floor's database attached, one statement per chunk: no Python per row at all, so what no
  ingest into this table can beat on this machine;
- **bulk floor**: the same rows copied by SQLite itself in one transaction into the table made
  without its indexes, each index then built once (sorted): what a bulk-load mode into an empty
  ledger could at best reach;
- **validation alone**: ``intake.validate_row`` over the same rows (not part of the ratio; it says
  where the ingest's time goes).

For the encrypted ingest and the same in the clear, each run's CPU is also split between this
process and the sealing helper (``*_helper_cpu_s``), and ``encryption_overhead_slower_process_cpu``
compares the slower process of each: what two free cores wait for, which load inflates far less
than wall time (decision 0105).

Every accepted record is checked (all N accepted, none duplicate or quarantined, both tables hold
the same rows) and with ``--verify`` the ingested chain is verified. Ingest and floor are repeated
``--repeat`` times, alternating, and the best of each is kept. ``--write`` adds the figures to
docs/benchmarks.md with the machine and date.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import add_results, load_average, machine, now_utc, report  # noqa: E402
from ingestpeer import time_peer  # noqa: E402

from socialcredit import intake, synth  # noqa: E402
from socialcredit.schemes import shipped_registry  # noqa: E402
from socialcredit.schemes.loader import Registry  # noqa: E402
from socialcredit.service import System, utcnow  # noqa: E402
from socialcredit.store import Store  # noqa: E402
from socialcredit.store.sql import RECORD_COLUMNS  # noqa: E402

RECORDS_PER_RESIDENT = 9  # the shipped base rates give about 9 records per resident over 3 years


def make_rows(records: int, seed: int, registry: Registry) -> list[dict[str, object]]:
    """Exactly ``records`` ingest rows of a synthetic city, the same for the same arguments."""
    city = synth.generate_city(
        residents=max(100, records // RECORDS_PER_RESIDENT), seed=seed, registry=registry
    )
    rows = synth.generate_records(
        city, registry=registry, seed=seed, target_records=records + records // 10 + 50
    )
    out = list(itertools.islice(rows, records))
    if len(out) < records:
        raise SystemExit(f"the synthetic city gave only {len(out)} records, fewer than {records}")
    return out


def cpu_seconds() -> float:
    """This process's CPU time (user + system, every thread) and its ended children's (the
    ingest's sealing helper process, joined before ``System.ingest`` returns). Beside the wall
    time it tells a run on a busy machine (wall well above CPU: waiting for a core) from a slow
    one, and it counts the second core the ingest uses."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def time_ingest(
    where: Path | str,
    rows: list[dict[str, object]],
    registry: Registry,
    chunk: int,
    sealing: list[float] | None = None,
    *,
    clear: bool = False,
    helper: list[float] | None = None,
) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of ``System.ingest`` of ``rows`` into a SQLite
    file (a path) or any store (a URL: ``bench/ingest_pg.py`` passes PostgreSQL's). With
    ``sealing``, the seconds this process spent encrypting (``Sealing.seal_chunk`` here: the
    first chunk, and any the helper process did not encrypt) are added to it. With ``clear``,
    the same ingest without its encryption: every chunk stored as a ledger before schema 0006
    stored it (the plain content and claim hashes, no pseudonym, key or AES-GCM, here or in the
    helper). That is the floor of issue 21 point 5 ("within 15 % of its rate without
    encryption"), run on the same data in the same run (decision 0069). With ``helper``, the CPU
    seconds of the sealing helper process are appended to it: the rest of the CPU is this
    process's, so the two say which process is the slower (decision 0105)."""
    system = System(Store(f"sqlite:///{where}" if isinstance(where, Path) else where), registry)
    if clear:
        system.store.sealing.seal_chunk = _clear_chunk  # type: ignore[method-assign]
        system.store.helper_vault = lambda: None  # type: ignore[method-assign]
        system.store.stores_clear = lambda: True  # type: ignore[method-assign]
    if sealing is not None:
        seal = system.store.sealing.seal_chunk

        def timed(rows: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return seal(rows)
            finally:
                sealing[0] += time.perf_counter() - t0

        system.store.sealing.seal_chunk = timed  # type: ignore[method-assign]
    try:
        numbered = list(enumerate(rows, start=1))
        h0, c0, t0 = _children_cpu(), cpu_seconds(), time.perf_counter()
        result = system.ingest(numbered, origin="bench", principal=system.operator(), chunk_size=chunk)
        seconds, cpu = time.perf_counter() - t0, cpu_seconds() - c0
        if helper is not None:
            helper.append(_children_cpu() - h0)
    finally:
        system.store.close()
    if (result.accepted, result.duplicate, result.quarantined) != (len(rows), 0, 0):
        raise AssertionError(f"expected every row accepted, got {result}")
    return seconds, cpu


def _children_cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return children.ru_utime + children.ru_stime


def _clear_chunk(rows: Any) -> tuple[list[tuple[Any, ...]], dict[int, str]]:
    """``Sealing.seal_chunk`` without encryption: each converted record stored as it is, with no
    retention class or ciphertext (a record stored in the clear)."""
    return [(*r, None, None) for r in rows], {}


def verify_ingested(url: str) -> None:
    """Recompute the ingested chain's every hash; fail naming the first faults."""
    store = Store(url)
    try:
        problems = store.verify_records()
    finally:
        store.close()
    if problems:
        raise AssertionError(f"the ingested chain does not verify: {problems[:3]}")


def stored_tuples(path: Path) -> list[tuple[Any, ...]]:
    """The record rows exactly as the ingest stored them, in ledger order."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute(f"SELECT {', '.join(RECORD_COLUMNS)} FROM records ORDER BY seq").fetchall()
    finally:
        conn.close()


def time_floor(path: Path, tuples: list[tuple[Any, ...]], chunk: int) -> tuple[float, float]:
    """executemany of the same tuples into the same table, one transaction per chunk:
    (wall seconds, CPU seconds)."""
    store = Store(f"sqlite:///{path}")  # the same DDL, indexes and connection settings
    try:
        marks = ", ".join(["?"] * len(RECORD_COLUMNS))
        insert = f"INSERT INTO records ({', '.join(RECORD_COLUMNS)}) VALUES ({marks})"
        c0, t0 = cpu_seconds(), time.perf_counter()
        for i in range(0, len(tuples), chunk):
            with store.engine.begin() as conn:
                conn.exec_driver_sql(insert, tuples[i : i + chunk])
        seconds, cpu = time.perf_counter() - t0, cpu_seconds() - c0
    finally:
        store.close()
    return seconds, cpu


@contextlib.contextmanager
def attached(path: Path, source: Path) -> Iterator[Any]:
    """A raw cursor on a fresh store at ``path`` (the same DDL, indexes and connection settings
    as the ingest's) with ``source`` attached as ``src`` and its records read once, so its pages
    are cached as the floor's tuples are in memory."""
    store = Store(f"sqlite:///{path}")
    try:
        raw = store.engine.raw_connection()
        try:
            cur = raw.cursor()
            cur.execute("ATTACH DATABASE ? AS src", (str(source),))
            cur.execute("SELECT count(*) FROM src.records").fetchone()
            yield cur
            cur.execute("DETACH DATABASE src")
        finally:
            raw.close()
    finally:
        store.close()


def time_engine_floor(path: Path, source: Path, chunk: int) -> tuple[float, float]:
    """SQLite's own cost of the same rows, with no Python per row: ``INSERT INTO records SELECT``
    from the ingested database (attached), one statement and one transaction per chunk, into the
    same table on a connection with the store's settings: (wall seconds, CPU seconds). Why: it
    bounds what any ingest through this table can reach on this machine, whatever the Python."""
    with attached(path, source) as cur:
        (last,) = cur.execute("SELECT coalesce(max(seq), 0) FROM src.records").fetchone()
        cols = ", ".join(RECORD_COLUMNS)
        insert = f"INSERT INTO records ({cols}) SELECT {cols} FROM src.records WHERE seq > ? AND seq <= ?"
        c0, t0 = cpu_seconds(), time.perf_counter()
        for i in range(0, int(last), chunk):
            cur.execute("BEGIN IMMEDIATE")
            cur.execute(insert, (i, i + chunk))
            cur.execute("COMMIT")
        return time.perf_counter() - t0, cpu_seconds() - c0


def time_bulk_floor(path: Path, source: Path) -> tuple[float, float]:
    """SQLite's cheapest way to this table with these rows: in one transaction, the table made
    without its indexes, every row copied by SQLite itself (no Python per row), then each index
    built once, sorted, as ``CREATE INDEX`` does: (wall seconds, CPU seconds). Why: random
    ``record_id`` and ``subject`` keys make every chunk's inserts touch most of both indexes, and
    building an index after a load avoids that; this bounds what a bulk-load mode (only sound
    into an empty ledger) could reach on this machine. The unique constraint on ``record_id``
    becomes a unique index built after the load, which enforces the same."""
    with attached(path, source) as cur:
        found = cur.execute("SELECT name, sql FROM main.sqlite_master WHERE tbl_name = 'records'")
        ddl = dict(found.fetchall())
        table = ddl.pop("records").replace(", \n\tUNIQUE (record_id)", "")
        if "UNIQUE" in table:
            raise AssertionError(f"the records table's DDL is not what the bulk floor expects: {table}")
        indexes = [sql for sql in ddl.values() if sql]
        indexes.append("CREATE UNIQUE INDEX ux_records_record_id ON records (record_id)")
        cols = ", ".join(RECORD_COLUMNS)
        c0, t0 = cpu_seconds(), time.perf_counter()
        cur.execute("BEGIN IMMEDIATE")
        cur.execute("DROP TABLE main.records")
        cur.execute(table)
        cur.execute(f"INSERT INTO main.records ({cols}) SELECT {cols} FROM src.records ORDER BY seq")
        for sql in indexes:
            cur.execute(sql)
        cur.execute("COMMIT")
        return time.perf_counter() - t0, cpu_seconds() - c0


def time_export(
    db: Path, directory: Path, *, n: int, delta: list[dict[str, object]], registry: Registry
) -> tuple[float, float, float]:
    """(seconds of ``socialcredit export`` of the ingested ledger, seconds of its floor, seconds
    of the next export after ``delta`` was ingested): the export reads every record, derives its
    columns and writes partitioned Parquet; the floor only reads the same columns with a bare
    cursor, in pages of the same size; the next export into the same directory appends only the
    records since (export version 5). A national rescore starts with an export, so its rate
    belongs beside the ingest's, and a daily one with the incremental export."""
    from socialcredit.engines.export import DERIVED, EXPORT_SCHEMA, export_ledger

    store = Store(f"sqlite:///{db}")
    try:
        t0 = time.perf_counter()
        result = export_ledger(store, directory)
        export_s = time.perf_counter() - t0
        if result.records != n:
            raise AssertionError(f"the export wrote {result.records} records, not {n}")
        system = System(store, registry)
        more = system.ingest(enumerate(delta, start=1), origin="bench delta", principal=system.operator())
        if more.accepted != len(delta):
            raise AssertionError(f"expected every delta row accepted, got {more}")
        t0 = time.perf_counter()
        again = export_ledger(store, directory)
        incremental_s = time.perf_counter() - t0
        if (again.appended, again.records, again.generation) != (len(delta), n + len(delta), 2):
            raise AssertionError(f"the second export did not append the delta alone: {again}")
    finally:
        store.close()
    shutil.rmtree(directory)
    stored = ", ".join(f.name for f in EXPORT_SCHEMA if f.name not in DERIVED)
    conn = sqlite3.connect(db)
    try:
        t0, last, read = time.perf_counter(), 0, 0
        while rows := conn.execute(
            f"SELECT {stored} FROM records WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT 100000", (last, n)
        ).fetchall():
            read, last = read + len(rows), rows[-1][0]
        read_s = time.perf_counter() - t0
    finally:
        conn.close()
    assert read == n
    return export_s, read_s, incremental_s


def next_day(rows: list[dict[str, object]], count: int) -> list[dict[str, object]]:
    """``count`` new records for the incremental export: the first rows again under new source
    record ids (so none is a duplicate)."""
    return [{**r, "source_record_id": f"{r['source_record_id']}-next"} for r in rows[:count]]


def time_validation(rows: list[dict[str, object]], registry: Registry) -> float:
    now = utcnow()
    t0 = time.perf_counter()
    for row in rows:
        intake.validate_row(row, registry=registry, now=now)
    return time.perf_counter() - t0


def run(args: argparse.Namespace) -> dict[str, Any]:
    registry = shipped_registry()
    load_before = load_average()
    t0 = time.perf_counter()
    rows = make_rows(args.records, args.seed, registry)
    generated = time.perf_counter() - t0
    work = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="sc-bench-ingest-"))
    work.mkdir(parents=True, exist_ok=True)
    ingest_s: list[float] = []
    floor_s: list[float] = []
    ingest_cpu: list[float] = []
    floor_cpu: list[float] = []
    engine_s: list[float] = []
    engine_cpu: list[float] = []
    bulk_s: list[float] = []
    bulk_cpu: list[float] = []
    tuples: list[tuple[Any, ...]] = []
    seal_s: list[tuple[float, float]] = []
    clear_s: list[float] = []
    clear_cpu: list[float] = []
    helper_cpu: list[float] = []
    clear_helper: list[float] = []
    peer_s: list[float] = []
    peer_cpu: list[float] = []
    for k in range(args.repeat):
        db = work / f"ingest-{k}.db"
        sealing = [0.0]
        wall, cpu = time_ingest(db, rows, registry, args.chunk_size, sealing, helper=helper_cpu)
        seal_s.append((wall, sealing[0]))
        ingest_s.append(wall)
        ingest_cpu.append(cpu)
        clear_db = work / f"clear-{k}.db"
        wall, cpu = time_ingest(clear_db, rows, registry, args.chunk_size, clear=True, helper=clear_helper)
        clear_s.append(wall)
        clear_cpu.append(cpu)
        if not args.dir:
            for extra in work.glob("clear-*.db*"):
                extra.unlink()
        peer_db = work / f"peer-{k}.db"  # the same work written bare (decision 0107)
        wall, cpu, stored = time_peer(peer_db, rows, registry, args.chunk_size)
        if stored != len(rows):
            raise AssertionError(f"the peer floor stored {stored} of {len(rows)} rows")
        peer_s.append(wall)
        peer_cpu.append(cpu)
        if not args.dir:
            for extra in work.glob("peer-*.db*"):
                extra.unlink()
        if not tuples:
            tuples = stored_tuples(db)
            if args.verify:
                verify_ingested(f"sqlite:///{db}")
        floor_db = work / f"floor-{k}.db"
        wall, cpu = time_floor(floor_db, tuples, args.chunk_size)
        floor_s.append(wall)
        floor_cpu.append(cpu)
        if stored_tuples(floor_db) != tuples:
            raise AssertionError("the floor did not store the same rows")
        engine_db = work / f"engine-{k}.db"
        # from the floor's copy, which holds exactly ``tuples`` (a repeated ingest's rows differ
        # from the first's in their batch, time received and chain hashes)
        wall, cpu = time_engine_floor(engine_db, floor_db, args.chunk_size)
        engine_s.append(wall)
        engine_cpu.append(cpu)
        if stored_tuples(engine_db) != tuples:
            raise AssertionError("the engine floor did not store the same rows")
        bulk_db = work / f"bulk-{k}.db"
        wall, cpu = time_bulk_floor(bulk_db, floor_db)
        bulk_s.append(wall)
        bulk_cpu.append(cpu)
        if stored_tuples(bulk_db) != tuples:
            raise AssertionError("the bulk floor did not store the same rows")
        if k == 0:
            delta = next_day(rows, max(1, len(rows) // 100))
            copy = work / "export-source.db"  # the delta goes into a copy: the ingest's file stays as stored
            shutil.copyfile(db, copy)
            export_s, read_s, incremental_s = time_export(
                copy, work / "export", n=len(rows), delta=delta, registry=registry
            )
            for extra in work.glob("export-source.db*"):
                extra.unlink()
        if not args.dir:
            db.unlink()
            floor_db.unlink()
            engine_db.unlink()
            bulk_db.unlink()
            for extra in work.glob("*.db-*"):
                extra.unlink()
    validate_s = time_validation(rows, registry)
    n = len(rows)
    best_ingest, best_floor, best_engine = min(ingest_s), min(floor_s), min(engine_s)
    best_bulk = min(bulk_s)
    result: dict[str, Any] = {
        "records": n,
        "chunk_size": args.chunk_size,
        "repeat": args.repeat,
        "generate_s": round(generated, 2),
        "ingest_s": round(best_ingest, 3),
        "ingest_records_per_s": round(n / best_ingest),
        "floor_s": round(best_floor, 3),
        "floor_records_per_s": round(n / best_floor),
        "ratio": round(best_ingest / best_floor, 2),
        "engine_floor_s": round(best_engine, 3),
        "engine_floor_records_per_s": round(n / best_engine),
        "engine_floor_cpu_s": round(engine_cpu[engine_s.index(best_engine)], 3),
        "engine_runs_s": [round(s, 3) for s in engine_s],
        "bulk_floor_s": round(best_bulk, 3),
        "bulk_floor_records_per_s": round(n / best_bulk),
        "bulk_floor_cpu_s": round(bulk_cpu[bulk_s.index(best_bulk)], 3),
        "bulk_runs_s": [round(s, 3) for s in bulk_s],
        "export_s": round(export_s, 3),
        "export_records_per_s": round(n / export_s),
        "export_read_floor_s": round(read_s, 3),
        "export_ratio": round(export_s / read_s, 2),
        "export_incremental_records": len(delta),
        "export_incremental_s": round(incremental_s, 3),
        "validate_s": round(validate_s, 3),
        "validate_records_per_s": round(n / validate_s),
        "ingest_runs_s": [round(s, 3) for s in ingest_s],
        "floor_runs_s": [round(s, 3) for s in floor_s],
        "ingest_cpu_s": round(ingest_cpu[ingest_s.index(best_ingest)], 3),
        "floor_cpu_s": round(floor_cpu[floor_s.index(best_floor)], 3),
        "sqlite": sqlite3.sqlite_version,
        "load_average_before": load_before,
        "load_average": load_average(),
        "verified": bool(args.verify),
    }
    _wall, sealed = seal_s[ingest_s.index(best_ingest)]
    best_clear = min(clear_s)
    result["encryption_here_s"] = round(sealed, 3)
    result["ingest_without_encryption_s"] = round(best_clear, 3)
    result["ingest_without_encryption_cpu_s"] = round(clear_cpu[clear_s.index(best_clear)], 3)
    result["clear_runs_s"] = [round(s, 3) for s in clear_s]
    result["encryption_overhead"] = round(best_ingest / best_clear - 1, 3)
    # each run's slower process, in CPU (decision 0105): what two free cores would wait for
    enc = [max(c - h, h) for c, h in zip(ingest_cpu, helper_cpu, strict=True)]
    clr = [max(c - h, h) for c, h in zip(clear_cpu, clear_helper, strict=True)]
    result["ingest_helper_cpu_s"] = [round(h, 3) for h in helper_cpu]
    result["ingest_cpu_runs_s"] = [round(c, 3) for c in ingest_cpu]
    result["clear_helper_cpu_s"] = [round(h, 3) for h in clear_helper]
    result["clear_cpu_runs_s"] = [round(c, 3) for c in clear_cpu]
    result["encryption_overhead_slower_process_cpu"] = round(min(enc) / min(clr) - 1, 3)
    # issue 20 point 5's ratio (SQLite's own copy over each), and the peer floor (decision 0107)
    best_peer = min(peer_s)
    result["peer_floor_s"] = round(best_peer, 3)
    result["peer_floor_cpu_s"] = round(peer_cpu[peer_s.index(best_peer)], 3)
    result["peer_runs_s"] = [round(s, 3) for s in peer_s]
    result["ingest_over_peer"] = round(best_ingest / best_peer, 2)
    result["copy_share"] = {
        "ingest": round(best_engine / best_ingest, 3),
        "peer": round(best_engine / best_peer, 3),
        "executemany": round(best_engine / best_floor, 3),
    }
    if not args.dir:
        work.rmdir()
    return result


SECTION = """## Ingestion: `System.ingest` against a bare SQLite insert of the same rows

```bash
.venv/bin/python bench/ingest.py --records 1000000 --repeat 2 --verify --write
```

A deterministic synthetic city's records (`socialcredit.synth`, seed 2014: valid identity codes,
the shipped items and sources, court records with case details) held in memory as ingest rows,
ingested by `System.ingest` as the operator into a fresh SQLite file (the embedded default: WAL,
`synchronous=NORMAL`, 16 KiB pages, a 256 MiB page cache; chunks of 20,000 rows each committed on
its own): every row validated, deduplicated against the ledger, hash-chained (content, claim and
chain hashes) and inserted. The **floor** is the very tuples that ingest stored, read back and
inserted with one `executemany` per chunk of the same size into the same `records` table (same
columns and indexes, same connection settings, one transaction per chunk). Ingest and floor
alternate and the best of each is kept. "Validation alone" is `intake.validate_row` over the same
rows, to show where the time goes; "export" is `socialcredit export` of the ingested ledger (the
first step of a population rescore), beside its own floor, a bare cursor reading the same columns
in pages of the same size, then the next export into the same directory after 1 % more records
were ingested (incremental: it appends only those, as a daily export before a rescore would).
The **engine floor** is SQLite copying the same rows itself
(`INSERT INTO records SELECT ...` from the floor's file, attached; one statement and one
transaction per chunk, same table, indexes and settings): no Python per row at all, so no ingest
into this table can beat it on this machine. The **bulk floor** is the same copy in one
transaction into the table made without its indexes, each index then built once by
`CREATE INDEX` (a sort instead of random inserts): the best a bulk-load mode into an empty ledger
could do. "Process CPU" is the user and system time of the
bench process and of its ended children (the ingest's sealing helper) during each: above the wall
time means two cores at work, well below it means waiting for a core. `tests/test_bench_io.py`
runs it at 3,000 records with the chain verified.

The issue's target is at least 100,000 records per second: above the engine floor, so out of reach
for any ingest into this table on this machine (docs/decisions/0015-ingest-ceiling.md)."""

MARKER = "ingest results: newest first"


def write_markdown(result: Mapping[str, Any], path: Path) -> None:
    lines = [
        f"### ingest: {result['records']:,} records ({now_utc()})",
        "",
        f"Machine: {machine()}; SQLite {result['sqlite']}; load average "
        f"{result.get('load_average_before', '?')} before and {result['load_average']} at the "
        f"end of the run. Rows generated in {result['generate_s']} s. Command: `.venv/bin/python "
        f"bench/ingest.py --records {result['records']} --repeat {result['repeat']}"
        f"{' --verify' if result['verified'] else ''} --write`"
        f"{' (the ingested chain verified)' if result['verified'] else ''}.",
        "",
        "| what | seconds | records/s | ratio to floor | process CPU s |",
        "|---|---:|---:|---:|---:|",
        f"| floor: `executemany` of the same tuples into the same table | {result['floor_s']} | "
        f"{result['floor_records_per_s']:,} | 1.00 | {result.get('floor_cpu_s', '')} |",
        f"| `System.ingest` (validate, dedup, chain, insert) | {result['ingest_s']} | "
        f"{result['ingest_records_per_s']:,} | {result['ratio']} | {result.get('ingest_cpu_s', '')} |",
        f"| engine floor: SQLite's own `INSERT ... SELECT` of the same rows, no Python | "
        f"{result['engine_floor_s']} | {result['engine_floor_records_per_s']:,} | "
        f"{result['engine_floor_s'] / result['floor_s']:.2f} | {result['engine_floor_cpu_s']} |",
        f"| bulk floor: SQLite's own copy into the table without indexes, then each index built "
        f"once | {result['bulk_floor_s']} | {result['bulk_floor_records_per_s']:,} | "
        f"{result['bulk_floor_s'] / result['floor_s']:.2f} | {result['bulk_floor_cpu_s']} |",
        f"| `socialcredit export` of the ingested ledger (partitioned Parquet) | {result['export_s']} "
        f"| {result['export_records_per_s']:,} | {result['export_ratio']} x reading alone "
        f"({result['export_read_floor_s']} s) | |",
        f"| the next `socialcredit export` into the same directory, after "
        f"{result['export_incremental_records']:,} more records (appends those alone) | "
        f"{result['export_incremental_s']} | "
        f"{round(result['export_incremental_records'] / result['export_incremental_s']):,} | "
        f"{result['export_incremental_s'] / result['export_s']:.3f} x the full export | |",
        f"| the same ingest without its encryption, same run (stored in the clear: no pseudonym, key or "
        f"AES-GCM, here or in the helper; this process encrypted {result['encryption_here_s']} s of "
        f"the encrypted run, the helper the rest) | {result['ingest_without_encryption_s']} | "
        f"{round(result['records'] / result['ingest_without_encryption_s']):,} | encryption adds "
        f"{result['encryption_overhead']:.1%} | {result['ingest_without_encryption_cpu_s']} |",
        f"| peer floor: the same work written bare in one process (`bench/ingestpeer.py`; its share of "
        f"SQLite's own copy {result['copy_share']['peer']}, the ingest's {result['copy_share']['ingest']}) | "
        f"{result['peer_floor_s']} | {round(result['records'] / result['peer_floor_s']):,} | "
        f"ingest {result['ingest_over_peer']} x this | {result['peer_floor_cpu_s']} |",
        f"| validation alone (`intake.validate_row`, not stored) | {result['validate_s']} | "
        f"{result['validate_records_per_s']:,} | | |",
        "",
        f"Runs (seconds): ingest {result['ingest_runs_s']}, floor {result['floor_runs_s']}, "
        f"engine floor {result['engine_runs_s']}, bulk floor {result['bulk_runs_s']}, without "
        f"encryption {result['clear_runs_s']}, peer floor {result['peer_runs_s']}.",
        "",
    ]
    add_results(path, SECTION, MARKER, lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--records", type=int, default=1_000_000)
    p.add_argument("--seed", type=int, default=2014)
    p.add_argument(
        "--chunk-size", type=int, default=20_000, help="rows per committed chunk (the CLI default)"
    )
    p.add_argument("--repeat", type=int, default=1, help="runs of each, alternating; the best is kept")
    p.add_argument("--verify", action="store_true", help="verify the ingested chain (recomputes every hash)")
    p.add_argument("--dir", default=None, help="keep the databases here (default: a temp dir, removed)")
    p.add_argument("--write", action="store_true", help="add the figures to docs/benchmarks.md")
    args = p.parse_args(argv)
    result = run(args)
    return report(result, args.write, write_markdown)


if __name__ == "__main__":
    main()
