"""Benchmark: the audit writer's cost per decision entry, against a bare synced insert of the same rows.

    .venv/bin/python bench/auditwriter.py [--entries N] [--prefill P] [--group G] [--repeat R]

What ``POST /decisions`` hands the group commit, one entry a distinct resident (decision 0100):
a relying party's decision entry with its reasons and receipt, about a subject asked about for
the first time (so its audit key is made, as for the bench's distinct residents). A SQLite store
in a temporary directory is first filled with ``--prefill`` such entries (the audit log's indexes
then have the size of a served city's, which decides how many pages each entry dirties), then
``--entries`` more are appended in groups of ``--group`` through ``append_audit(durable=True)``,
the writer thread's own call (``store/auditsqlite.py``: one synced transaction a group).

Timed in the calling thread's CPU time (``time.thread_time``) and wall time, per entry, the best
of ``--repeat`` passes (each on new subjects), with the parts apart, measured on their own on
entries of the same shape: **sealing** (``AuditSealing.stored``: keys made, codes sealed, detail
written), **chain** (``audit_statements``: the canonical content, the links, the leaves, the
statement); the rest is SQLite's (the insert, the synced commit, the tiles and the head).

**Floor**: the same stored rows (sealed and chained beforehand, untimed) inserted by a bare loop a
peer would write into the same table of a second store: one multi-row ``INSERT`` and one synced
``COMMIT`` a group on a plain ``sqlite3`` connection (``synchronous=FULL``, WAL). It chains and
seals nothing, so the ratio is what the writer costs beyond storing the same bytes durably.

The load average is printed with every figure: the machine is shared.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import load_average  # noqa: E402
from stdnum.cn import ric  # noqa: E402

from socialcredit.knowledge import Receipt, decision_id  # noqa: E402
from socialcredit.store import Store  # noqa: E402

SCHEMES = {"credit-city": "a" * 64, "court-list": "b" * 64, "airline": "c" * 64}
REASONS = {
    "reasons": [
        "Grade A (score 1,012 on 2026-12-07): no measure applies at this grade.",
        "Not on the list of dishonest judgment debtors.",
    ],
    "grounds": ["credit-city:grade", "court-list:entries"],
}


def code(n: int) -> str:
    """A valid resident ID number, different for each ``n`` below ten million."""
    body = f"{110101 + n // 1000 % 9000:06d}19{60 + n // 90000 % 40:02d}0101{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def entries(start: int, n: int, at: dt.datetime) -> list[dict[str, Any]]:
    """``n`` decision entries about subjects ``start``..., shaped as ``service/decisions.py``'s:
    the shared reasons of a prepared decision, with each request's receipt."""
    out = []
    for i in range(start, start + n):
        receipt = Receipt(decision_id(), at, at, 200_000, 21_000, 40, SCHEMES)
        out.append(
            {
                "at": at,
                "key_id": "k-airline",
                "role": "relying",
                "principal": "airline",
                "action": "decision",
                "subject": code(i),
                "measure": "flights",
                "purpose": "boarding check",
                "answer": "allow",
                "detail": {**REASONS, "receipt": receipt},
            }
        )
    return out


def groups(items: Sequence[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])


class Run:
    """One store and where its next subjects start."""

    def __init__(self, path: Path) -> None:
        self.store = Store(f"sqlite:///{path}")
        self.next = 0

    def sealed(self, group: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The group as the writer seals it: on the durable connection, its new keys left to
        store (``DurableSqliteAudit.sealed``), where the code has that path (decision 0100)."""
        appender = self.store.dialect.durable_audit(self.store)
        if appender is not None and hasattr(appender, "sealed"):
            rows: list[dict[str, Any]] = appender.sealed(group)[0]
            return rows
        return self.store.audit_sealing.stored(group)

    def take(self, n: int) -> list[dict[str, Any]]:
        at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        out = entries(self.next, n, at)
        self.next += n
        return out

    def fill(self, n: int, group: int) -> None:
        for g in groups(self.take(n), group):
            self.store.append_audit(g, durable=True)


def timed(fn: Any) -> tuple[float, float]:
    cpu, wall = time.thread_time(), time.perf_counter()
    fn()
    return time.thread_time() - cpu, time.perf_counter() - wall


def writer_pass(run: Run, n: int, group: int) -> dict[str, float]:
    batch = list(groups(run.take(n), group))

    def go() -> None:
        for g in batch:
            run.store.append_audit(g, durable=True)

    cpu, wall = timed(go)
    # the parts, on entries of the same shape (new subjects, so new keys as above)
    parts = list(groups(run.take(n), group))
    rows: list[list[dict[str, Any]]] = []
    seal_cpu, _ = timed(lambda: rows.extend(run.sealed(g) for g in parts))
    head = "0" * 64

    def chain() -> None:
        for r in rows:
            run.store.audit_statements(0, head, r, [])

    chain_cpu, _ = timed(chain)
    return {
        "cpu_us": cpu / n * 1e6,
        "wall_us": wall / n * 1e6,
        "per_s": n / wall,
        "sealing_us": seal_cpu / n * 1e6,
        "chain_us": chain_cpu / n * 1e6,
    }


def floor_pass(run: Run, path: Path, n: int, group: int) -> dict[str, float]:
    """The bare loop (module docstring) on the rows the writer would store, made untimed."""
    stored = [run.store.audit_sealing.stored(g) for g in groups(run.take(n), group)]
    count = run.store.head("audit")[0]
    batches = []
    for rows in stored:
        statements, count, _ = run.store.audit_statements(count, "0" * 64, rows, [])
        batches.extend(statements)
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL"):
        conn.execute(f"PRAGMA {pragma}")

    def go() -> None:
        for sql, params in batches:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(sql, params)
            conn.execute("COMMIT")

    cpu, wall = timed(go)
    conn.close()
    # keep the chain head where the rows left it, so a later pass appends after them
    with sqlite3.connect(path) as c:
        c.execute("UPDATE chain_heads SET count = ? WHERE chain = 'audit'", (count,))
    return {"cpu_us": cpu / n * 1e6, "wall_us": wall / n * 1e6, "per_s": n / wall}


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entries", type=int, default=6000)
    ap.add_argument("--prefill", type=int, default=60000)
    ap.add_argument("--group", type=int, default=30)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", type=Path, default=None)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        load_before = load_average()
        writer_db, floor_db = Path(tmp) / "writer.db", Path(tmp) / "floor.db"
        writer, bare = Run(writer_db), Run(floor_db)
        writer.fill(args.prefill, args.group)
        bare.fill(args.prefill, args.group)
        best: dict[str, dict[str, float]] = {}
        for _ in range(args.repeat):
            for name, res in (
                ("writer", writer_pass(writer, args.entries, args.group)),
                ("floor", floor_pass(bare, floor_db, args.entries, args.group)),
            ):
                if name not in best or res["cpu_us"] < best[name]["cpu_us"]:
                    best[name] = res
        problems = writer.store.verify_audit()
        total = writer.store.head("audit")[0]
        writer.store.close()
        bare.store.close()
    w, f = best["writer"], best["floor"]
    out = {
        "entries": args.entries,
        "prefill": args.prefill,
        "group": args.group,
        "writer": {k: round(v, 1) for k, v in w.items()},
        "floor": {k: round(v, 1) for k, v in f.items()},
        "cpu_ratio": round(w["cpu_us"] / f["cpu_us"], 2),
        "sqlite_us": round(w["cpu_us"] - w["sealing_us"] - w["chain_us"], 1),
        "audit_entries": total,
        "chain_problems": len(problems),
        "load_average": f"{load_before} before, {load_average()} after",
    }
    print(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
