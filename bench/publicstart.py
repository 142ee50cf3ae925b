"""The first public request of a freshly started server (issue 20 point 6).

Builds a demo city of ``--residents`` (default 100,000) in a SQLite file, rescores its public pages
once (``Disclosure.rescore``: what ``socialcredit demo`` and a day's first rescore leave in the
store), then ``--starts`` times starts ``socialcredit serve`` afresh on it and times its first
``GET /public/transparency`` and first ``GET /public/lists/<court's list>``. Target: under 200 ms at
100,000 residents (decision 0049).

Floors, in the same run: the same fresh server's first ``GET /health`` (a bare endpoint: what any
first request costs), and a bare read of the kept snapshot (one ``SELECT`` and ``json.loads``, what a
peer serving a precomputed page would do). Beside them, the rescore itself: what the first request
cost before (it scanned the population).

    python bench/publicstart.py --residents 100000 --starts 3 --write
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
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
from decisions import SOCIALCREDIT, free_port, start, stop  # noqa: E402

from socialcredit.demo import run_demo  # noqa: E402
from socialcredit.schemes import shipped_registry  # noqa: E402
from socialcredit.service import System  # noqa: E402
from socialcredit.store import Store  # noqa: E402

COURT_LIST = "court-dishonest-debtors/dishonest-debtors"
TARGET_MS = 200.0

SECTION = """## Appendix H: the first public request after a start

`bench/publicstart.py`: a demo city built and rescored once, then `socialcredit serve` started
afresh on it, and its first `GET /public/transparency` and first public list page timed; floors: the
same fresh server's first `GET /health`, and a bare read of the kept snapshot (decision 0049)."""


def build(path: Path, residents: int) -> dict[str, float]:
    """The city in ``path`` with its public pages rescored and kept; the seconds each step took."""
    system = System(Store(f"sqlite:///{path}"), shipped_registry())
    t0 = time.perf_counter()
    run_demo(system, residents=residents)
    built = time.perf_counter() - t0
    t0 = time.perf_counter()
    system.disclosure.rescore()
    rescored = time.perf_counter() - t0
    system.store.close()
    return {"build_s": round(built, 1), "rescore_s": round(rescored, 2)}


def timed_get(url: str) -> tuple[float, dict[str, Any]]:
    import httpx

    t0 = time.perf_counter()
    r = httpx.get(url, timeout=600)
    ms = (time.perf_counter() - t0) * 1000
    r.raise_for_status()
    return ms, r.json()


def first_requests(path: Path, env: Mapping[str, str]) -> dict[str, Any]:
    """One fresh start: the first /health, then the first transparency report and list page."""
    port = free_port()
    proc = start([SOCIALCREDIT, "serve", "--host", "127.0.0.1", "--port", str(port)], env, port)
    try:
        base = f"http://127.0.0.1:{port}"
        health_ms, _ = timed_get(f"{base}/health")
        report_ms, body = timed_get(f"{base}/public/transparency")
        list_ms, page = timed_get(f"{base}/public/lists/{COURT_LIST}")
    finally:
        stop(proc)
    return {
        "health_ms": round(health_ms, 1),
        "transparency_ms": round(report_ms, 1),
        "list_ms": round(list_ms, 1),
        "as_of_rescore": body["rescore_of"] is not None and page["rescore_of"] is not None,
        "subjects": body["subjects"],
        "court_rows": page["total"],
    }


def bare_snapshot_read(path: Path) -> float:
    """A peer's floor: the kept page read and parsed, nothing else (milliseconds)."""
    t0 = time.perf_counter()
    with sqlite3.connect(path) as conn:
        (payload,) = conn.execute("SELECT payload FROM public_snapshots WHERE name = 'public'").fetchone()
    json.loads(payload)
    return (time.perf_counter() - t0) * 1000


def run(residents: int, starts: int, db: Path | None = None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="publicstart-") as tmp:
        path = db or Path(tmp) / "city.db"
        built = build(path, residents) if db is None or not path.exists() else {}
        env = {
            **os.environ,
            "SOCIALCREDIT_DATABASE_URL": f"sqlite:///{path}",
            "PYTHONPATH": str(ROOT / "src"),
        }
        load_before = load_average()
        runs = [first_requests(path, env) for _ in range(starts)]
        bare = statistics.median(bare_snapshot_read(path) for _ in range(5))
    first = statistics.median(r["transparency_ms"] for r in runs)
    health = statistics.median(r["health_ms"] for r in runs)
    return {
        "when": now_utc(),
        "machine": machine(),
        "load_average": f"{load_before} before, {load_average()} after",
        "residents": residents,
        **built,
        "starts": runs,
        "first_transparency_ms_median": first,
        "first_list_ms_median": statistics.median(r["list_ms"] for r in runs),
        "floor_first_health_ms_median": health,
        "floor_bare_snapshot_read_ms": round(bare, 1),
        "ratio_to_health": round(first / health, 2) if health else None,
        "ratio_to_bare_read": round(first / bare, 2) if bare else None,
        "target_ms": TARGET_MS,
        "met": first < TARGET_MS,
    }


def write_markdown(r: Mapping[str, Any], doc: Path) -> None:
    lines = [
        f"### {r['when']}: {r['residents']:,} residents; {r['machine']}, load average {r['load_average']}",
        "",
        f"City built in {r.get('build_s', '?')} s; the public pages' rescore took "
        f"{r.get('rescore_s', '?')} s (what the first request cost before decision 0049).",
        "",
        "| start | first `/health` (floor) | first `/public/transparency` | first list page "
        "| as of the rescore |",
        "|---|---|---|---|---|",
        *(
            f"| {n} | {s['health_ms']} ms | {s['transparency_ms']} ms | {s['list_ms']} ms "
            f"| {s['as_of_rescore']} |"
            for n, s in enumerate(r["starts"], start=1)
        ),
        "",
        f"Median first report {r['first_transparency_ms_median']} ms (target {r['target_ms']:.0f} ms: "
        f"{'met' if r['met'] else 'not met'}); {r['ratio_to_health']}x the first `/health`, "
        f"{r['ratio_to_bare_read']}x a bare read of the snapshot ({r['floor_bare_snapshot_read_ms']} ms).",
        "",
    ]
    add_results(doc, SECTION, "publicstart-results", lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--starts", type=int, default=3, help="fresh starts timed (median reported)")
    parser.add_argument("--db", type=Path, help="a city database to reuse (built there if missing)")
    parser.add_argument("--write", action="store_true", help="add the figures to docs/benchmarks.md")
    args = parser.parse_args()
    report(run(args.residents, args.starts, args.db), args.write, write_markdown)


if __name__ == "__main__":
    main()
