"""Benchmark: the decision endpoint over HTTP on loopback against a bare FastAPI endpoint, and
the decision in process.

    .venv/bin/python bench/decisions.py [--residents N] [--connections C] [--seconds S] [--write]

Setup: a deterministic synthetic city (``socialcredit.synth``, ``--residents`` persons and their
records) ingested into a fresh SQLite file (the embedded default), an airline's relying-party key.

Over HTTP, each for ``--seconds`` with ``--connections`` keep-alive connections (after a short
warm-up that is not counted), from a small asyncio HTTP/1.1 load generator in this process:

- **bare**: a FastAPI app whose ``POST /decisions`` (a plain ``def``, like the real one) returns
  a constant, served by uvicorn in a subprocess with the settings ``socialcredit serve`` uses;
- **decisions**: ``socialcredit serve`` itself over the city, asked ``no-flights`` about the
  city's residents in turn, each request with its own purpose. Its write rate limits are raised
  for the run (they are a policy, tested elsewhere, not the capacity measured here); the
  middleware still runs.

Requests per second (answered 200s over the measured window), p50 and p99 latency, the ratio of
the two servers' rates, and the audit check: the audit log must have grown by exactly one
``decision`` entry per answered request, with the purposes sent, and both chains must verify.

In process: ``decisions.decide`` on a prepared subject view, and ``System.check`` end to end
(view, decision and audit entry committed), per call, the median of many calls: first questions
about distinct subjects, then the same again from cached views.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import add_results, load_average, machine, now_utc, percentile  # noqa: E402

from socialcredit import codes, synth  # noqa: E402
from socialcredit.decisions import decide  # noqa: E402
from socialcredit.schemes import shipped_registry  # noqa: E402
from socialcredit.service import System  # noqa: E402
from socialcredit.store import Store  # noqa: E402

MEASURE = "no-flights"
SOCIALCREDIT = str(Path(sys.executable).with_name("socialcredit"))


# ------------------------------------------------------------------------------------ servers


def bare_app() -> Any:
    """The floor: FastAPI, one POST endpoint (a plain ``def``, run in the thread pool like the
    real one) that returns a constant."""
    from fastapi import FastAPI

    app = FastAPI()

    @app.post("/decisions")
    def decisions() -> dict[str, object]:
        return {"ok": True, "answer": "allow", "reasons": []}

    return app


def serve_bare(port: int) -> None:
    import uvicorn

    # the same call as socialcredit.cli.run_server makes
    uvicorn.run(bare_app(), host="127.0.0.1", port=port, log_level="warning")


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of a process so far (Linux ``/proc``), 0.0 where unavailable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(cmd: list[str], env: Mapping[str, str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(cmd, env=dict(env), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"the server did not come up: {' '.join(cmd)}") from None
            time.sleep(0.1)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


# ------------------------------------------------------------------------------------ load


@dataclass
class Load:
    seconds: float = 0.0
    answered: int = 0
    errors: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    purposes: list[str] = field(default_factory=list)
    answers: dict[str, int] = field(default_factory=dict)

    def figures(self) -> dict[str, Any]:
        lat = self.latencies_ms
        return {
            "seconds": round(self.seconds, 2),
            "answered": self.answered,
            "errors": len(self.errors),
            "rps": round(self.answered / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(percentile(lat, 50), 2) if lat else None,
            "p99_ms": round(percentile(lat, 99), 2) if lat else None,
            "max_ms": round(max(lat), 2) if lat else None,
            "answers": dict(sorted(self.answers.items())),
        }


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    body = await reader.readexactly(length) if length else b""
    return status, body


def _request(port: int, key: str, body: bytes) -> bytes:
    return (
        f"POST /decisions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-API-Key: {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def _load(
    port: int, key: str, subjects: list[str], connections: int, seconds: float, warmup: float, tag: str
) -> Load:
    out = Load()
    t_start = time.perf_counter()
    t_measure = t_start + warmup
    t_end = t_measure + seconds

    async def worker(w: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        n = 0
        try:
            while True:
                now = time.perf_counter()
                if now >= t_end:
                    return
                n += 1
                purpose = f"{tag} {w}-{n}"
                subject = subjects[(w * 7919 + n) % len(subjects)]
                body = json.dumps({"subject": subject, "measure": MEASURE, "purpose": purpose}).encode()
                t0 = time.perf_counter()
                writer.write(_request(port, key, body))
                status, reply = await _read_response(reader)
                t1 = time.perf_counter()
                if status != 200:
                    out.errors.append(f"{status} {reply[:200]!r}")
                    continue
                answer = json.loads(reply).get("answer", "?")
                if t0 >= t_measure and t1 <= t_end:
                    out.answered += 1
                    out.latencies_ms.append((t1 - t0) * 1000)
                    out.answers[answer] = out.answers.get(answer, 0) + 1
                out.purposes.append(purpose)  # every answered one, warm-up included: all are audited
        finally:
            writer.close()

    await asyncio.gather(*(worker(w) for w in range(connections)))
    out.seconds = t_end - t_measure
    return out


def load(
    port: int, key: str, subjects: list[str], connections: int, seconds: float, warmup: float, tag: str
) -> Load:
    return asyncio.run(_load(port, key, subjects, connections, seconds, warmup, tag))


async def _paced(
    port: int, key: str, subjects: list[str], connections: int, rate: float, seconds: float, tag: str
) -> Load:
    """Open loop: request k is due at ``k / rate`` seconds, whatever became of the others, sent
    on the first of ``connections`` keep-alive connections free by then; its latency counts from
    when it was due, so a request that waited for a connection is charged the wait (no
    coordinated omission). This is the bounded load a relying party offers below capacity."""
    out = Load()
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await asyncio.open_connection("127.0.0.1", port))

    async def one(k: int, due: float) -> None:
        purpose = f"{tag} paced-{k}"
        subject = subjects[(k * 7919) % len(subjects)]
        body = json.dumps({"subject": subject, "measure": MEASURE, "purpose": purpose}).encode()
        reader, writer = await pool.get()
        try:
            writer.write(_request(port, key, body))
            status, reply = await _read_response(reader)
        finally:
            pool.put_nowait((reader, writer))
        done = time.perf_counter()
        if status != 200:
            out.errors.append(f"{status} {reply[:200]!r}")
            return
        answer = json.loads(reply).get("answer", "?")
        out.answered += 1
        out.latencies_ms.append((done - due) * 1000)
        out.answers[answer] = out.answers.get(answer, 0) + 1
        out.purposes.append(purpose)

    start = time.perf_counter()
    tasks = []
    for k in range(int(rate * seconds)):
        due = start + k / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(k, due)))
    await asyncio.gather(*tasks)
    out.seconds = time.perf_counter() - start
    while not pool.empty():
        pool.get_nowait()[1].close()
    return out


def paced(
    port: int, key: str, subjects: list[str], connections: int, rate: float, seconds: float, tag: str
) -> Load:
    return asyncio.run(_paced(port, key, subjects, connections, rate, seconds, tag))


# ------------------------------------------------------------------------------------ setup


def build_city(url: str, residents: int, seed: int) -> tuple[list[str], str]:
    """Ingest the city; return the residents' codes and an airline's key."""
    system = System(Store(url), shipped_registry())
    try:
        city = synth.generate_city(residents=residents, seed=seed, registry=system.registry)
        system.register(city.subjects)
        rows = synth.generate_records(city, registry=system.registry, seed=seed)
        system.ingest(enumerate(rows, start=1), origin="bench decisions", principal=system.operator())
        key = system.create_key("relying_party", "airlines").token
    finally:
        system.store.close()
    persons = [s.code for s in city.subjects if s.kind == "person"]
    return persons, key


def audit_decisions(url: str) -> tuple[int, set[str]]:
    store = Store(url)
    try:
        entries = store.audit_entries(limit=10**9)
    finally:
        store.close()
    purposes = {e["purpose"] for e in entries if e["action"] == "decision"}
    return sum(1 for e in entries if e["action"] == "decision"), purposes


def in_process(url: str, subjects: list[str], key: str, calls: int) -> dict[str, Any]:
    """Per-call medians of ``decide`` on a prepared view and of ``System.check`` end to end,
    first about ``calls`` distinct subjects (their views computed), then about them again
    (cached views)."""
    system = System(Store(url), shipped_registry())
    try:
        measure = system.registry.measure(MEASURE)
        assert measure is not None
        principal = system.authenticate(key)
        views = [system.view(s) for s in subjects[:50]]
        denied = [v for v in views if not _decide(v, measure).allowed]
        allowed = [v for v in views if _decide(v, measure).allowed]
        out: dict[str, Any] = {}
        for name, group in (("deny", denied), ("allow", allowed)):
            if not group:
                continue
            v = group[0]
            number = max(1, calls * 10)
            runs = timeit.repeat(lambda v=v: _decide(v, measure), number=number, repeat=7)
            out[f"decide_{name}_us"] = round(statistics.median(runs) / number * 1e6, 3)
        # one after the other, so each pays a whole commit (a group of one): first questions
        # (the view computed from the store), then the same subjects again (cached views)
        calls = min(calls, len(subjects))  # distinct subjects, so the first phase is all cold
        for phase, n0 in (("check", 0), ("check_cached", calls)):
            per_call: list[float] = []
            for n in range(calls):
                s = subjects[n]
                t0 = time.perf_counter()
                system.check(s, MEASURE, principal, purpose=f"in-process {n0 + n}")
                per_call.append(time.perf_counter() - t0)
            out[f"{phase}_us"] = round(statistics.median(per_call) * 1e6, 1)
            out[f"{phase}_p99_us"] = round(percentile(per_call, 99) * 1e6, 1)
        out["check_calls"] = calls
        out["views_deny_allow"] = [len(denied), len(allowed)]
    finally:
        system.store.close()
    return out


def _decide(view: Any, measure: Any) -> Any:
    kind: codes.SubjectKind = view.kind
    return decide(
        subject=view.code,
        subject_kind=kind,
        measure=measure,
        entries=view.entries,
        scores=view.scores,
        at=view.as_of,
    )


# ------------------------------------------------------------------------------------ run


def run(args: argparse.Namespace) -> dict[str, Any]:
    work = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="sc-bench-decisions-"))
    work.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{work / 'decisions.db'}"
    t0 = time.perf_counter()
    persons, key = build_city(url, args.residents, args.seed)
    setup_s = time.perf_counter() - t0
    subjects = persons[: args.subjects]

    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALCREDIT_")}
    env.update(SOCIALCREDIT_HOME=str(work / "home"), SOCIALCREDIT_DATABASE_URL=url)
    big = str(10**9)
    env.update(SOCIALCREDIT_RATE_PER_KEY=big, SOCIALCREDIT_BURST_PER_KEY=big)
    env.update(SOCIALCREDIT_RATE_PER_ADDRESS=big, SOCIALCREDIT_BURST_PER_ADDRESS=big)

    result: dict[str, Any] = {
        "residents": args.residents,
        "subjects_asked": len(subjects),
        "connections": args.connections,
        "seconds": args.seconds,
        "setup_s": round(setup_s, 1),
    }
    port = free_port()
    proc = start([sys.executable, str(Path(__file__).resolve()), "--serve-bare", str(port)], env, port)
    try:
        cpu0 = cpu_seconds(proc.pid)
        bare = load(port, key, subjects, args.connections, args.seconds, args.warmup, "bare")
        bare_cpu = cpu_seconds(proc.pid) - cpu0
        bare_paced = paced(port, key, subjects, args.connections, args.rate, args.paced_seconds, "bare")
    finally:
        stop(proc)

    before, _ = audit_decisions(url)
    port = free_port()
    proc = start([SOCIALCREDIT, "serve", "--host", "127.0.0.1", "--port", str(port)], env, port)
    try:
        cpu0 = cpu_seconds(proc.pid)
        real = load(port, key, subjects, args.connections, args.seconds, args.warmup, "http")
        real_cpu = cpu_seconds(proc.pid) - cpu0
        real_paced = paced(port, key, subjects, args.connections, args.rate, args.paced_seconds, "http")
    finally:
        stop(proc)
    after, logged = audit_decisions(url)

    store = Store(url)
    try:
        chains_ok = store.verify_records() == [] and store.verify_audit() == []
    finally:
        store.close()
    result["bare"] = bare.figures()
    result["decisions"] = real.figures()
    result["rps_ratio"] = round(real.answered / real.seconds / (bare.answered / bare.seconds), 3)
    # the server process's CPU per request answered (warm-up included on both sides): less
    # sensitive than the rate to what else the shared machine is doing
    result["bare"]["cpu_us_per_request"] = round(bare_cpu / max(1, len(bare.purposes)) * 1e6)
    result["decisions"]["cpu_us_per_request"] = round(real_cpu / max(1, len(real.purposes)) * 1e6)
    result["paced"] = {
        "rate": args.rate,
        "seconds": args.paced_seconds,
        "bare": bare_paced.figures(),
        "decisions": real_paced.figures(),
    }
    asked = real.purposes + real_paced.purposes
    result["audit_added"] = after - before
    result["audit_expected"] = len(asked)
    result["audit_missing"] = sum(1 for p in asked if p not in logged)
    result["chains_verify"] = chains_ok
    result["in_process"] = in_process(url, persons, key, args.calls)
    result["load_average"] = load_average()
    errors = real.errors + bare.errors + real_paced.errors + bare_paced.errors
    if errors:
        result["error_samples"] = errors[:5]
    if not args.dir:
        for p in sorted(work.rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
        work.rmdir()
    return result


SECTION = """## Decisions: the decision endpoint against a bare FastAPI endpoint, and in process

```bash
.venv/bin/python bench/decisions.py --residents 20000 --connections 32 --seconds 10 --write
```

A deterministic synthetic city (`socialcredit.synth`, seed 2014, about 9 records per resident) is
ingested into a fresh SQLite file (the embedded default). Over HTTP on loopback, an asyncio
HTTP/1.1 load generator in the bench process (keep-alive connections, each sending its next
request when the last reply is read; a 2-second warm-up not counted) drives, one after the other
with the same uvicorn settings (`socialcredit serve`'s: one process, default loop and HTTP
implementation):

- **bare**: a FastAPI app whose `POST /decisions` (a plain `def`, as the real route) returns a
  constant;
- **decisions**: `socialcredit serve` over the city, asked `no-flights` about its first residents
  in turn, each request with its own purpose. Its write rate limits are raised for the run (they
  are a policy with their own tests, not the capacity measured); the limits middleware still runs.

Each server is then also driven **paced** (`--rate`, default 500 requests/s, `--paced-seconds`,
default 10): an open loop in which request k is due at k/rate seconds on the first free one of
the same connections, its latency counted from when it was due.

After the run the audit log must hold exactly one `decision` entry per request answered (warm-up
included), with the purposes sent, and every chain must verify. "Server CPU" is the server
process's user and system CPU time over its run divided by the requests it answered (warm-up
included): less moved than the rate by what else the shared machine is doing (the writer thread,
the watcher and fsyncs are in it; the load generator is not). In process: `decisions.decide` on
a prepared subject view (median of 7 timed loops) and `System.check` end to end (view, decision,
audit entry committed and synced; median of single calls, one after the other, so each is a
group of one): first about 2,000 distinct residents (each view computed from the store), then
about the same residents again (cached views). `tests/test_bench_io.py` runs it for a second.

The issue's targets: at least 80 % of the bare endpoint's requests per second, p99 under 10 ms,
every decision durably audited, an in-process decision under 5 µs. The load generator shares the
2 cores with the server, so both servers are measured under the same handicap."""

MARKER = "decision results: newest first"


def write_markdown(result: Mapping[str, Any], path: Path) -> None:
    b, d, ip = result["bare"], result["decisions"], result["in_process"]
    lines = [
        f"### decisions: {result['connections']} connections, {result['seconds']} s each ({now_utc()})",
        "",
        f"Machine: {machine()}; load average {result['load_average']} at the end of the run. City: "
        f"{result['residents']:,} residents (set up in {result['setup_s']} s), {result['subjects_asked']} "
        f"asked about. Command: `.venv/bin/python bench/decisions.py --residents {result['residents']} "
        f"--connections {result['connections']} --seconds {result['seconds']} --write`.",
        "",
        "| server | answered | requests/s | ratio to bare | p50 ms | p99 ms | max ms | errors "
        "| server CPU µs/request |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| bare FastAPI, constant | {b['answered']:,} | {b['rps']:,} | 1.00 | {b['p50_ms']} | {b['p99_ms']} "
        f"| {b['max_ms']} | {b['errors']} | {b.get('cpu_us_per_request', '')} |",
        f"| `POST /decisions` | {d['answered']:,} | {d['rps']:,} | {result['rps_ratio']} | {d['p50_ms']} "
        f"| {d['p99_ms']} | {d['max_ms']} | {d['errors']} | {d.get('cpu_us_per_request', '')} |",
    ]  # fmt: skip
    if "paced" in result:
        pc = result["paced"]
        for name, label in (("bare", "bare FastAPI, constant"), ("decisions", "`POST /decisions`")):
            f = pc[name]
            lines.append(
                f"| {label}, paced at {pc['rate']:,.0f}/s for {pc['seconds']} s | {f['answered']:,} "
                f"| {f['rps']:,} | | {f['p50_ms']} | {f['p99_ms']} | {f['max_ms']} | {f['errors']} | |"
            )
    lines += [
        "",
        f"Answers: {d['answers']}. Audit: {result['audit_added']:,} decision entries added for "
        f"{result['audit_expected']:,} requests answered (warm-up and paced run included), "
        f"{result['audit_missing']} missing; chains verify: {result['chains_verify']}.",
        "",
        "| in process | per call |",
        "|---|---:|",
    ]
    for name in ("deny", "allow"):
        if f"decide_{name}_us" in ip:
            lines.append(f"| `decisions.decide` on a prepared view ({name}) | {ip[f'decide_{name}_us']} µs |")
    lines.append(
        f"| `System.check` end to end, first question about each subject (median of {ip['check_calls']:,}; "
        f"p99 {ip['check_p99_us']:,} µs) | {ip['check_us']:,} µs |"
    )
    if "check_cached_us" in ip:
        lines.append(
            f"| `System.check` end to end, cached view (median of {ip['check_calls']:,}; "
            f"p99 {ip['check_cached_p99_us']:,} µs) | {ip['check_cached_us']:,} µs |"
        )
    lines.append("")
    add_results(path, SECTION, MARKER, lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--residents", type=int, default=20_000)
    p.add_argument("--subjects", type=int, default=1000, help="residents asked about, in turn")
    p.add_argument("--seed", type=int, default=2014)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--calls", type=int, default=2000, help="System.check calls timed in process")
    p.add_argument("--rate", type=float, default=500.0, help="requests/s of the paced (open-loop) run")
    p.add_argument("--paced-seconds", type=float, default=10.0, help="length of the paced run")
    p.add_argument("--dir", default=None, help="keep the database here (default: a temp dir, removed)")
    p.add_argument("--write", action="store_true", help="add the figures to docs/benchmarks.md")
    p.add_argument("--serve-bare", type=int, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.serve_bare is not None:
        serve_bare(args.serve_bare)
        return {}
    result = run(args)
    print(json.dumps(result, indent=2))
    if args.write:
        write_markdown(result, ROOT / "docs" / "benchmarks.md")
    return result


if __name__ == "__main__":
    main()
