"""Benchmark: ``socialcredit serve --workers N`` on PostgreSQL at 1 and 2 workers, and how many
audit appends per second one chain takes.

    .venv/bin/python bench/workers.py [--residents N] [--workers 1,2] [--seconds S] [--rounds R]
        [--connections C] [--write]

Setup: a deterministic synthetic city (``socialcredit.synth``) ingested into a fresh PostgreSQL
database (the ``pgserver`` wheel's server, started by the bench), an airline's relying-party key.
Load: wrk (``wrkload.py``: one thread, ``--connections`` connections), every request about a
resident not asked before in the run (the cold path, as an airline asks), each with its own
purpose. Rounds alternate the worker counts, so the other engineers' load on the shared machine
falls on all alike; the figure per count is its best round, every round printed beside it.

Audit: every answered request is in the audit log exactly once (at least the answered, at most
the written: wrk stops counting replies in flight when its clock ends), and the chains verify.

The chain's limit: ``Store.append_audit`` from one process, groups of 1, 32 and 256 entries (the
group commit's sizes at no load, at 32 connections, and under a burst), entries and commits per
second for ``--append-seconds`` each. Every append takes the chain head's row lock, so this is
the ceiling of one chain however many workers or nodes feed it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import add_results, load_average, machine, now_utc, report  # noqa: E402
from decisions import SOCIALCREDIT, audit_purposes, build_city, free_port, served_env, stop  # noqa: E402
from httpload import MEASURE  # noqa: E402
from wrkload import ensure_wrk, run_wrk  # noqa: E402

from socialcredit.store import Store  # noqa: E402

MAX_RATE = 20_000
"""More requests per second than two cores answer: the bodies written per run (each its own
purpose) outnumber what wrk can send, so none is sent twice."""


@contextmanager
def postgres() -> Iterator[str]:
    """A fresh database on a PostgreSQL server of its own (the ``pgserver`` wheel)."""
    import pgserver

    root = Path(tempfile.mkdtemp(prefix="sc-bench-pg-"))
    server = pgserver.get_server(root, cleanup_mode="delete")
    try:
        server.psql("CREATE DATABASE bench;")
        yield "postgresql+psycopg://" + server.get_uri("bench").split("://", 1)[1]
    finally:
        server.cleanup()


def serve(env: dict[str, str], workers: int) -> tuple[subprocess.Popen[bytes], int]:
    """``socialcredit serve --workers N``, once every worker answers (each is asked on a
    connection of its own until ``workers`` distinct ones have answered, or 120 s)."""
    import httpx

    port = free_port()
    cmd = [SOCIALCREDIT, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("the server did not come up")
        time.sleep(0.2)
    time.sleep(3 * workers)  # the other workers import the app as the first answers
    return proc, port


def append_rate(url: str, group: int, seconds: float) -> dict[str, Any]:
    """Entries and commits per second of ``Store.append_audit`` in groups of ``group``."""
    store = Store(url)
    try:
        at = dt.datetime.now(dt.UTC)
        detail = {"measure": MEASURE, "answer": "allow"}
        n = commits = 0
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            entries = [
                {"at": at, "action": "bench-append", "purpose": f"append {group}-{n + i}", "detail": detail}
                for i in range(group)
            ]
            store.append_audit(entries, durable=True)
            n += group
            commits += 1
        took = time.perf_counter() - start
    finally:
        store.close()
    return {"group": group, "entries_per_s": round(n / took), "commits_per_s": round(commits / took)}


def run(args: argparse.Namespace) -> dict[str, Any]:
    ensure_wrk()
    result: dict[str, Any] = {
        "residents": args.residents,
        "connections": args.connections,
        "seconds": args.seconds,
    }
    result["load_average_before"] = load_average()
    with postgres() as url, tempfile.TemporaryDirectory(prefix="sc-bench-workers-") as home:
        env = served_env(Path(home), url)
        t0 = time.perf_counter()
        persons, key, _state_s = build_city(url, args.residents, args.seed)
        result["setup_s"] = round(time.perf_counter() - t0, 1)
        runs: dict[int, list[dict[str, Any]]] = {w: [] for w in args.workers}
        answered = written = 0
        at = 0  # distinct residents: each run continues where the last stopped
        for r in range(args.rounds):
            for w in args.workers:
                bodies = [
                    json.dumps(
                        {
                            "subject": persons[(at + i) % len(persons)],
                            "measure": MEASURE,
                            "purpose": f"w{w} r{r} {i}",
                        }
                    ).encode()
                    for i in range(max(len(persons), int(MAX_RATE * args.seconds)))
                ]  # a purpose per request: wrk wraps around the list, a request never repeats one
                proc, port = serve(env, w)
                try:
                    run_ = run_wrk(port, key, bodies, args.connections, args.seconds)
                finally:
                    stop(proc)
                at += run_.written
                answered += run_.answered
                written += run_.written
                runs[w].append(run_.figures())
                print(f"workers={w} round {r}: {run_.rps:.0f}/s p99 {run_.p99_ms:.1f} ms", file=sys.stderr)
        logged = audit_purposes(url)
        store = Store(url)
        try:
            chains_ok = store.verify_records() == [] and store.verify_audit() == []
        finally:
            store.close()
        result["appends"] = [append_rate(url, g, args.append_seconds) for g in (1, 32, 256)]
    result["runs"] = {str(w): rs for w, rs in runs.items()}
    result["best_rps"] = {str(w): max(r["rps"] for r in rs) for w, rs in runs.items()}
    result["audit"] = {
        "answered": answered,
        "logged": sum(logged.values()),
        "written": written,
        "twice": sum(1 for c in logged.values() if c > 1),
        "ok": answered <= sum(logged.values()) <= written and all(c == 1 for c in logged.values()),
    }
    result["chains_verify"] = chains_ok
    result["load_average"] = load_average()
    result["cores"] = os.cpu_count()
    return result


SECTION = """## Workers: `socialcredit serve --workers N` on PostgreSQL, and one audit chain's appends

`bench/workers.py`: a synthetic city on a fresh PostgreSQL server (pgserver), `POST /decisions`
about distinct residents under wrk at 1 and 2 workers, rounds alternating, and
`Store.append_audit` from one process in groups of 1, 32 and 256 entries (the audit chain's
ceiling: every append holds the chain head's row lock). Figures from a shared machine, labelled
with its load average; docs/scale.md reads its capacity plan from them."""

MARKER = "workers results: newest first"


def write_markdown(result: dict[str, Any], path: Path) -> None:
    lines = [
        f"### {now_utc()}: {machine()}, load average "
        f"{result['load_average_before']} before, {result['load_average']} after",
        "",
        f"`bench/workers.py --residents {result['residents']} --connections {result['connections']} "
        f"--seconds {result['seconds']}` (setup {result['setup_s']} s)",
        "",
        "| workers | decisions/s (best) | every round: decisions/s, p99 ms |",
        "|---|---|---|",
    ]
    for w, rs in result["runs"].items():
        each = "; ".join(f"{r['rps']:.0f}, {r['p99_ms']:.0f}" for r in rs)
        lines.append(f"| {w} | {result['best_rps'][w]:.0f} | {each} |")
    a = result["audit"]
    lines += [
        "",
        f"Audit: {a['answered']} answered, {a['logged']} logged, {a['written']} written, "
        f"{a['twice']} purposes twice ({'exactly once' if a['ok'] else 'FAILED'}); chains verify: "
        f"{result['chains_verify']}.",
        "",
        "| audit group | entries/s | commits/s |",
        "|---|---|---|",
        *(f"| {x['group']} | {x['entries_per_s']} | {x['commits_per_s']} |" for x in result["appends"]),
    ]
    add_results(path, SECTION, MARKER, lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--residents", type=int, default=5000)
    p.add_argument("--seed", type=int, default=20)
    p.add_argument("--workers", type=lambda s: [int(x) for x in s.split(",")], default=[1, 2])
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--append-seconds", type=float, default=3)
    p.add_argument("--write", action="store_true", help="Add the figures to docs/benchmarks.md")
    args = p.parse_args(argv)
    return report(run(args), args.write, write_markdown)


if __name__ == "__main__":
    main()
