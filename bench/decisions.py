"""Benchmark: the decision endpoint over HTTP on loopback against a bare FastAPI endpoint, and
the decision in process.

    .venv/bin/python bench/decisions.py [--residents N] [--connections C] [--seconds S]
        [--rates R1,R2,...] [--paced-seconds S] [--rounds N] [--write]

Setup: a deterministic synthetic city (``socialcredit.synth``, ``--residents`` persons and their
records) ingested into a fresh SQLite file (the embedded default), an airline's relying-party key.

Over HTTP, each server is driven by the same ``drive()`` from a small asyncio HTTP/1.1 load
generator in this process: a closed loop for ``--seconds`` on ``--connections`` keep-alive
connections (after a short warm-up that is not counted), then paced (open loop, latency from each
request's due time) at each of ``--rates`` for ``--paced-seconds``; ``--rounds`` times, bare and
decisions alternating:

- **bare**: a FastAPI app whose ``POST /decisions`` (a plain ``def``, like the real one) returns
  a constant, served by uvicorn in a subprocess with the settings ``socialcredit serve`` uses;
- **decisions**: ``socialcredit serve`` itself over the city, asked ``no-flights`` about the
  city's residents in turn, each request with its own purpose. Its write rate limits are raised
  for the run (they are a policy, tested elsewhere, not the capacity measured here); the
  middleware still runs.

Requests per second (answered 200s over the measured window), p50 and p99 latency, the ratio of
the two servers' rates in each round, per rate the paced p99 of every round, and the audit
check: the audit log must have grown by exactly one ``decision`` entry per answered request,
with the purposes sent, and both chains must verify.

In process: ``decisions.decide`` on a prepared subject view, and ``System.check`` end to end
(view, decision and audit entry committed), per call, the median of many calls: first questions
about distinct subjects, then the same again from cached views.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
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

    # the same call as socialcredit.cli.demo.run_server makes
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
    lags_ms: list[float] = field(default_factory=list)
    """Paced runs: how late after its due time each request was written (the generator's own lag
    plus any wait for a free connection); part of the latency, shown apart."""
    purposes: list[str] = field(default_factory=list)
    answers: dict[str, int] = field(default_factory=dict)

    def figures(self) -> dict[str, Any]:
        lat = self.latencies_ms
        out = {
            "seconds": round(self.seconds, 2),
            "answered": self.answered,
            "errors": len(self.errors),
            "rps": round(self.answered / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(percentile(lat, 50), 2) if lat else None,
            "p99_ms": round(percentile(lat, 99), 2) if lat else None,
            "max_ms": round(max(lat), 2) if lat else None,
            "answers": dict(sorted(self.answers.items())),
        }
        if self.lags_ms:
            out["send_lag_p99_ms"] = round(percentile(self.lags_ms, 99), 2)
        return out

    def answer(self, status: int, reply: bytes, purpose: str) -> bool:
        """Count one reply; False (and the error kept) unless it is a 200."""
        if status != 200:
            self.errors.append(f"{status} {reply[:200]!r}")
            return False
        i = reply.find(b'"answer":"')
        answer = reply[i + 10 : reply.find(b'"', i + 10)].decode() if i >= 0 else "?"
        self.answers[answer] = self.answers.get(answer, 0) + 1
        self.purposes.append(purpose)  # every answered one (warm-up included): all are audited
        return True


def _body(subject: str, purpose: str) -> bytes:
    return json.dumps({"subject": subject, "measure": MEASURE, "purpose": purpose}).encode()


def _request(port: int, key: str, body: bytes) -> bytes:
    return (
        f"POST /decisions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-API-Key: {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


class _Conn(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection of the load generator, one request in flight at a time.

    A protocol rather than asyncio streams, and no task or future per request: the response is
    parsed straight off the received bytes (the head up to the blank line, then Content-Length
    bytes of body, which both servers always send) and handed to ``done`` with the time it was
    complete, in the same callback. The generator shares the 2 cores with the server, so its own
    CPU per request and its scheduling delays are measured into every latency; this keeps them
    small and equal for both servers."""

    def __init__(self, done: Callable[[_Conn, int, bytes, float], None]) -> None:
        self.done = done
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.end = -1  # where the response in progress ends, once its head is in
        self.body_at = 0
        self.status = 0
        self.busy = False
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        """Done once the connection is gone (the server may close one idle for a while)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def send(self, data: bytes) -> None:
        assert self.transport is not None and not self.busy
        self.busy = True
        self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if self.end < 0:
            head_end = self.buf.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = bytes(self.buf[:head_end]).lower()
            self.status = int(head[9:12])
            i = head.find(b"\r\ncontent-length:")
            if i < 0:
                raise RuntimeError(f"a response without Content-Length: {head[:200]!r}")
            j = head.find(b"\r\n", i + 2)
            self.body_at = head_end + 4
            self.end = self.body_at + int(head[i + 17 : j if j >= 0 else len(head)])
        if len(self.buf) < self.end:
            return
        t = time.perf_counter()
        body = bytes(self.buf[self.body_at : self.end])
        del self.buf[: self.end]
        self.end = -1
        self.busy = False
        self.done(self, self.status, body, t)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.busy:
            self.busy = False
            self.done(self, 0, f"connection lost: {exc}".encode(), time.perf_counter())
        if not self.closed.done():
            self.closed.set_result(None)


async def _connect(port: int, done: Callable[[_Conn, int, bytes, float], None]) -> _Conn:
    _, conn = await asyncio.get_running_loop().create_connection(lambda: _Conn(done), "127.0.0.1", port)
    return conn


async def _close(conns: list[_Conn]) -> None:
    for c in conns:
        assert c.transport is not None
        c.transport.close()
    await asyncio.gather(*(c.closed for c in conns))


async def _load(
    port: int, key: str, subjects: list[str], connections: int, seconds: float, warmup: float, tag: str
) -> Load:
    """Closed loop: each connection sends its next request as soon as the last reply is in."""
    out = Load()
    loop = asyncio.get_running_loop()
    t_start = time.perf_counter()
    t_measure = t_start + warmup
    t_end = t_measure + seconds
    sent: dict[_Conn, tuple[float, str]] = {}
    count = dict.fromkeys(range(connections), 0)
    worker: dict[_Conn, int] = {}
    finished = loop.create_future()

    def send(conn: _Conn) -> None:
        w = worker[conn]
        n = count[w] = count[w] + 1
        purpose = f"{tag} {w}-{n}"
        data = _request(port, key, _body(subjects[(w * 7919 + n) % len(subjects)], purpose))
        sent[conn] = (time.perf_counter(), purpose)
        conn.send(data)

    def done(conn: _Conn, status: int, reply: bytes, t1: float) -> None:
        t0, purpose = sent.pop(conn)
        if out.answer(status, reply, purpose) and t0 >= t_measure and t1 <= t_end:
            out.answered += 1
            out.latencies_ms.append((t1 - t0) * 1000)
        if status and time.perf_counter() < t_end:
            send(conn)
        elif not sent and not finished.done():
            finished.set_result(None)

    conns = [await _connect(port, done) for _ in range(connections)]
    for w, conn in enumerate(conns):
        worker[conn] = w
    for conn in conns:
        send(conn)
    await finished
    out.seconds = t_end - t_measure
    await _close(conns)
    return out


async def _paced(
    port: int, key: str, subjects: list[str], connections: int, rate: float, seconds: float, tag: str
) -> Load:
    """Open loop: request k is due at ``k / rate`` seconds, whatever became of the others, and is
    written on the first of ``connections`` keep-alive connections free by then (waiting in a
    queue if none is); its latency counts from when it was due, so a request that waited for a
    connection, or for the generator itself, is charged the wait (no coordinated omission). Every
    request is encoded before the clock starts. This is the bounded load a relying party offers
    below capacity."""
    out = Load()
    loop = asyncio.get_running_loop()
    total = int(rate * seconds)
    purposes = [f"{tag} paced-{k}" for k in range(total)]
    data = [
        _request(port, key, _body(subjects[(k * 7919) % len(subjects)], purposes[k])) for k in range(total)
    ]
    free: deque[_Conn] = deque()  # used in turn, as a server sees several clients' connections
    waiting: deque[int] = deque()
    sent: dict[_Conn, int] = {}
    finished = loop.create_future()
    remaining = total
    start = 0.0

    def send(conn: _Conn, k: int) -> None:
        sent[conn] = k
        out.lags_ms.append((time.perf_counter() - start - k / rate) * 1000)
        conn.send(data[k])

    def done(conn: _Conn, status: int, reply: bytes, t: float) -> None:
        nonlocal remaining
        k = sent.pop(conn)
        if out.answer(status, reply, purposes[k]):
            out.answered += 1
            out.latencies_ms.append((t - start - k / rate) * 1000)
        remaining -= 1
        if status:
            if waiting:
                send(conn, waiting.popleft())
            else:
                free.append(conn)
        elif not sent and not any(not c.closed.done() for c in free):  # all lost: nothing can be sent
            while waiting:
                out.errors.append(f"no connection left for {purposes[waiting.popleft()]}")
                remaining -= 1
        if remaining == 0 and not finished.done():
            finished.set_result(None)

    free.extend([await _connect(port, done) for _ in range(connections)])
    conns = list(free)
    start = time.perf_counter()
    for k in range(total):
        delay = start + k / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        while free and free[0].closed.done():  # closed by the server while idle: not usable
            free.popleft()
        if free:
            send(free.popleft(), k)
        elif sent:
            waiting.append(k)
        else:
            out.errors.append(f"no connection left for {purposes[k]}")
            remaining -= 1
    if remaining == 0 and not finished.done():
        finished.set_result(None)
    await finished
    out.seconds = time.perf_counter() - start
    await _close(conns)
    return out


def _quiet_gc(run: Callable[[], Load]) -> Load:
    """Run a load with the generator's start-up heap frozen out of its own collector's sight, so
    its collections (which would be charged to the server's latency) stay short."""
    gc.collect()
    gc.freeze()
    try:
        return run()
    finally:
        gc.unfreeze()


def load(
    port: int, key: str, subjects: list[str], connections: int, seconds: float, warmup: float, tag: str
) -> Load:
    return _quiet_gc(lambda: asyncio.run(_load(port, key, subjects, connections, seconds, warmup, tag)))


def paced(
    port: int, key: str, subjects: list[str], connections: int, rate: float, seconds: float, tag: str
) -> Load:
    return _quiet_gc(lambda: asyncio.run(_paced(port, key, subjects, connections, rate, seconds, tag)))


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
            runs = timeit.repeat(partial(_decide, v, measure), number=number, repeat=7)
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


@dataclass
class Driven:
    """One server driven once: the closed loop, the server's CPU over it, the paced runs."""

    closed: Load
    cpu_s: float
    paced: dict[float, Load]


def drive(
    cmd: list[str], env: Mapping[str, str], tag: str, key: str, subjects: list[str], args: Any
) -> Driven:
    """Start the server (``cmd`` followed by a free port), drive it in a closed loop, then paced at
    each rate, and stop it. Bare and real go through exactly this, with the same generator."""
    port = free_port()
    proc = start([*cmd, str(port)], env, port)
    try:
        cpu0 = cpu_seconds(proc.pid)
        closed = load(port, key, subjects, args.connections, args.seconds, args.warmup, tag)
        cpu_s = cpu_seconds(proc.pid) - cpu0
        runs = {
            rate: paced(port, key, subjects, args.connections, rate, args.paced_seconds, f"{tag} {rate:g}/s")
            for rate in args.rates
        }
    finally:
        stop(proc)
    return Driven(closed, cpu_s, runs)


def _best(runs: list[Load]) -> Load:
    """The run with the lowest p99 (errors first: a run with errors is never the best)."""
    return min(runs, key=lambda r: (len(r.errors), percentile(r.latencies_ms, 99) if r.latencies_ms else 1e9))


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
    bare_cmd = [sys.executable, str(Path(__file__).resolve()), "--serve-bare"]
    real_cmd = [SOCIALCREDIT, "serve", "--host", "127.0.0.1", "--port"]

    result: dict[str, Any] = {
        "residents": args.residents,
        "subjects_asked": len(subjects),
        "connections": args.connections,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "setup_s": round(setup_s, 1),
        "load_average_before": load_average(),
    }
    before, _ = audit_decisions(url)
    pairs: list[tuple[Driven, Driven]] = []
    for r in range(args.rounds):  # alternating, so the other engineers' load falls on both alike
        bare = drive(bare_cmd, env, f"bare r{r}", key, subjects, args)
        pairs.append((bare, drive(real_cmd, env, f"http r{r}", key, subjects, args)))
    after, logged = audit_decisions(url)

    store = Store(url)
    try:
        chains_ok = store.verify_records() == [] and store.verify_audit() == []
    finally:
        store.close()

    closed = []
    for bare, real in pairs:
        b, d = bare.closed, real.closed
        row: dict[str, Any] = {
            "bare": b.figures(),
            "decisions": d.figures(),
            "rps_ratio": round((d.answered / d.seconds) / (b.answered / b.seconds), 3),
        }
        # the server process's CPU per request answered (warm-up included on both sides): less
        # sensitive than the rate to what else the shared machine is doing
        row["bare"]["cpu_us_per_request"] = round(bare.cpu_s / max(1, len(b.purposes)) * 1e6)
        row["decisions"]["cpu_us_per_request"] = round(real.cpu_s / max(1, len(d.purposes)) * 1e6)
        closed.append(row)
    worst = min(closed, key=lambda row: row["rps_ratio"])
    result.update(bare=worst["bare"], decisions=worst["decisions"], rps_ratio=worst["rps_ratio"])
    result["closed_rounds"] = closed
    result["paced"] = []
    for rate in args.rates:
        entry: dict[str, Any] = {"rate": rate, "seconds": args.paced_seconds}
        for name, side in (("bare", 0), ("decisions", 1)):
            runs = [pair[side].paced[rate] for pair in pairs]
            entry[name] = _best(runs).figures()
            entry[f"{name}_p99_each_ms"] = [r.figures()["p99_ms"] for r in runs]
        result["paced"].append(entry)

    asked = [
        p
        for _, real in pairs
        for p in real.closed.purposes + [q for run in real.paced.values() for q in run.purposes]
    ]
    result["audit_added"] = after - before
    result["audit_expected"] = len(asked)
    result["audit_missing"] = sum(1 for p in asked if p not in logged)
    result["chains_verify"] = chains_ok
    result["load_average"] = load_average()
    result["in_process"] = in_process(url, persons, key, args.calls)
    errors = [
        e
        for pair in pairs
        for side in pair
        for run in (side.closed, *side.paced.values())
        for e in run.errors
    ]
    if errors:
        result["error_samples"] = errors[:5]
    if not args.dir:
        for p in sorted(work.rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
        work.rmdir()
    return result


SECTION = """## Decisions: the decision endpoint against a bare FastAPI endpoint, and in process

```bash
.venv/bin/python bench/decisions.py --residents 20000 --connections 32 --seconds 10 \\
    --rates 250,500,750,1000 --rounds 2 --write
```

A deterministic synthetic city (`socialcredit.synth`, seed 2014, about 9 records per resident) is
ingested into a fresh SQLite file (the embedded default). Two servers, started with the same
uvicorn settings (`socialcredit serve`'s: one process, default loop and HTTP implementation):

- **bare**: a FastAPI app whose `POST /decisions` (a plain `def`) returns a constant;
- **decisions**: `socialcredit serve` over the city, asked `no-flights` about its first 1,000
  residents in turn, each request with its own purpose. Its write rate limits are raised for the
  run (they are a policy with their own tests, not the capacity measured); the limits middleware
  still runs.

Each is driven by the same `drive()`: started, a **closed loop** (32 keep-alive connections,
each sending its next request when the last reply is read; a 2-second warm-up not counted), then
**paced** at each rate of `--rates` for `--paced-seconds` (default 10): an open loop in which
request k is due at k/rate seconds and is written on the first free one of the same 32
connections (queued if none is), its latency counted from when it was due, so time a request
spent waiting for a connection or for the generator is charged to it (no coordinated omission);
then stopped. `--rounds` repeats bare then decisions, alternating, so the other engineers' load
on this shared machine falls on both alike; the paced table gives per rate and server the round
with the lower p99 and every round's p99, and the closed loop every round. "Generator late" is
how late after its due time a request was written: the load generator's own lag (it runs in the
bench process on the same 2 cores), part of every latency and shown apart. The generator is
asyncio protocols (no task or future per request, each reply parsed off the bytes in the
callback that completes it, paced requests encoded before the clock starts, its own heap frozen
out of its collector's sight), to keep that lag small and equal for both servers.

After the run the audit log must hold exactly one `decision` entry per request answered (every
round, warm-up and paced runs included), with the purposes sent, and every chain must verify.
"Server CPU" is the server process's user and system CPU time over its closed loop divided by
the requests it answered (warm-up included): less moved than the rate by what else the machine
is doing. In process: `decisions.decide` on a prepared subject view (median of 7 timed loops)
and `System.check` end to end (view, decision, audit entry committed and synced; median of
single calls, one after the other, so each is a group of one): first about 2,000 distinct
residents (each view computed from the store), then about the same residents again (cached
views). `tests/test_bench_io.py` runs it for a second.

The issue's targets: at least 80 % of the bare endpoint's requests per second, p99 under 10 ms
with a bounded load, every decision durably audited, an in-process decision under 5 µs. A closed
loop of 32 connections is not a bounded load: it runs every server at saturation, where the bare
endpoint's own p99 is 90 to 100 ms (Little's law: 32 requests in flight at 1,400 requests/s is
23 ms on average), so the p99 target is read against the paced runs."""

MARKER = "decision results: newest first"


def write_markdown(result: Mapping[str, Any], path: Path) -> None:
    ip = result["in_process"]
    rates = "/".join(f"{p['rate']:,.0f}" for p in result["paced"])
    paced_s = result["paced"][0]["seconds"] if result["paced"] else 0
    rate_arg = ",".join(f"{p['rate']:g}" for p in result["paced"])
    la = f"load average {result['load_average_before']} before the HTTP runs, {result['load_average']} after"
    lines = [
        f"### decisions: {result['connections']} connections, {result['seconds']} s closed, paced at {rates} "
        f"requests/s for {paced_s} s each, {result['rounds']} rounds ({now_utc()})",
        "",
        f"Machine: {machine()}; {la}. City: {result['residents']:,} residents (set up in "
        f"{result['setup_s']} s), {result['subjects_asked']} asked about. Command: `.venv/bin/python "
        f"bench/decisions.py --residents {result['residents']} --connections {result['connections']} "
        f"--seconds {result['seconds']} --rates {rate_arg} --rounds {result['rounds']} --write`.",
        "",
        "Closed loop, each round (bare, then decisions):",
        "",
        "| round | server | answered | requests/s | ratio to bare | p50 ms | p99 ms | max ms | errors "
        "| server CPU µs/request |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]  # fmt: skip
    for n, row in enumerate(result["closed_rounds"], start=1):
        for name, label, ratio in (
            ("bare", "bare FastAPI, constant", "1.00"),
            ("decisions", "`POST /decisions`", row["rps_ratio"]),
        ):
            f = row[name]
            lines.append(
                f"| {n} | {label} | {f['answered']:,} | {f['rps']:,} | {ratio} | {f['p50_ms']} "
                f"| {f['p99_ms']} | {f['max_ms']} | {f['errors']} | {f.get('cpu_us_per_request', '')} |"
            )
    lines += [
        "",
        "Paced (open loop, latency from each request's due time), per rate the round with the lower p99 of "
        "each server, and every round's p99:",
        "",
        "| requests/s | server | answered | errors | p50 ms | p99 ms | max ms | generator late, p99 ms "
        "| p99 ms, each round |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for pc in result["paced"]:
        for name, label in (("bare", "bare FastAPI, constant"), ("decisions", "`POST /decisions`")):
            f = pc[name]
            each = ", ".join(str(x) for x in pc[f"{name}_p99_each_ms"])
            lines.append(
                f"| {pc['rate']:,.0f} | {label} | {f['answered']:,} | {f['errors']} | {f['p50_ms']} "
                f"| {f['p99_ms']} | {f['max_ms']} | {f.get('send_lag_p99_ms', '')} | {each} |"
            )
    d = result["decisions"]
    lines += [
        "",
        f"Answers (closed loop with its warm-up, the round with the lowest ratio): {d['answers']}. Audit: "
        f"{result['audit_added']:,} decision entries added for {result['audit_expected']:,} requests "
        f"answered (every round, warm-up and paced runs included), {result['audit_missing']} missing; "
        f"chains verify: {result['chains_verify']}.",
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
    p.add_argument(
        "--rates",
        type=lambda text: [float(x) for x in text.split(",")],
        default=[250.0, 500.0, 750.0, 1000.0],
        help="requests/s of the paced (open-loop) runs, comma-separated",
    )
    p.add_argument("--paced-seconds", type=float, default=10.0, help="length of each paced run")
    p.add_argument("--rounds", type=int, default=2, help="times each server is driven, alternating")
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
