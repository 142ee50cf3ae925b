"""Benchmark: the decision endpoint over HTTP against a bare async endpoint, and in process.

    .venv/bin/python bench/decisions.py [--residents N] [--ask distinct,repeat] [--connections C]
        [--seconds S] [--rates R1,R2,...] [--paced-seconds S] [--rounds N] [--write]

Setup: a deterministic synthetic city (``socialcredit.synth``, ``--residents`` persons and their
records) ingested into a fresh SQLite file (the embedded default), an airline's relying-party key.

The floor (issue 20) is what a peer would write for the same work: a bare ``async def`` FastAPI
endpoint that parses the same JSON body (the same fields, validated) and answers a constant,
served by uvicorn with httptools and uvloop (what ``socialcredit serve`` gets too: uvicorn picks
them by itself when installed, as they are). The load is wrk (``wrkload.py``), a C generator:
one thread, ``--connections`` connections, ``--seconds`` per run. Each round drives the floor,
then ``socialcredit serve`` once per ``--ask`` pattern:

- **distinct**: each request about a resident not asked before in the run, as an airline asks
  (most passengers are asked about once): the subject's view is built at the question;
- **repeat**: the same ``--subjects`` residents over and over (warm caches).

``--rounds`` rounds alternate, so what else loads the machine falls on all alike. Each server is
warmed up for ``--warmup`` seconds first (not counted). Then the paced runs (``httpload.py``, an
open loop in Python: wrk has none) give the p99 at bounded rates.

Figures: requests/s answered, p50/p99 (wrk's), the ratio of rates and of p99s to the floor's in
the same round, the server's CPU per request, and the audit check: every request has its own
purpose, and each one the server answered is in the audit log exactly once (at least the answered,
at most the written: wrk stops counting replies still in flight when the clock ends), and the
chains verify. In process: ``decisions.decide`` on a prepared subject view, and ``System.check``
end to end (view, decision and audit entry committed), per call, first about distinct subjects,
then the same again from cached views.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import auditedfloor  # noqa: E402
from auditedfloor import Question  # noqa: E402
from benchlib import load_average, percentile, report  # noqa: E402
from decisions_report import write_markdown  # noqa: E402
from httpload import MEASURE, Load, body, paced  # noqa: E402
from wrkload import WrkRun, ensure_wrk, run_wrk  # noqa: E402

from socialcredit import codes, synth  # noqa: E402
from socialcredit.decisions import decide  # noqa: E402
from socialcredit.schemes import shipped_registry  # noqa: E402
from socialcredit.service import Question as Asked  # noqa: E402
from socialcredit.service import System  # noqa: E402
from socialcredit.settings import get_settings  # noqa: E402
from socialcredit.store import Store  # noqa: E402

SOCIALCREDIT = str(Path(sys.executable).with_name("socialcredit"))


# ------------------------------------------------------------------------------------ servers


def bare_app() -> Any:
    """The floor: FastAPI, one ``async def`` POST endpoint that parses and validates the same JSON
    body as the real one (subject, measure, purpose) and returns a constant."""
    from fastapi import FastAPI

    app = FastAPI()

    @app.post("/decisions")
    async def decisions(question: Question) -> dict[str, object]:
        return {"ok": True, "subject": question.subject[:6], "answer": "allow", "reasons": []}

    return app


def serve_bare(port: int) -> None:
    import uvicorn

    # what socialcredit.cli.demo.run_server gets from uvicorn's "auto", named: no handicap
    uvicorn.run(bare_app(), host="127.0.0.1", port=port, log_level="warning", http="httptools", loop="uvloop")


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


def served_env(home: Path, url: str) -> dict[str, str]:
    """The environment of the servers measured on the installation at ``url``: no settings of
    this process's but its master key, and no rate limits. One installation, one master key
    (decision 0046): the city is built here and every decision's audit entry is sealed there
    (decision 0060), so both must hold it. Without ``SOCIALCREDIT_MASTER_KEY`` this process takes
    ``home`` too (a key file made there is the servers' as well)."""
    master = os.environ.get("SOCIALCREDIT_MASTER_KEY")
    if not master:
        os.environ["SOCIALCREDIT_HOME"] = str(home)
        get_settings.cache_clear()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALCREDIT_")}
    env.update(SOCIALCREDIT_HOME=str(home), SOCIALCREDIT_DATABASE_URL=url)
    if master:
        env["SOCIALCREDIT_MASTER_KEY"] = master
    big = str(10**9)
    env.update(SOCIALCREDIT_RATE_PER_KEY=big, SOCIALCREDIT_BURST_PER_KEY=big)
    env.update(SOCIALCREDIT_RATE_PER_ADDRESS=big, SOCIALCREDIT_BURST_PER_ADDRESS=big)
    return env


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


# ------------------------------------------------------------------------------------ setup


def build_city(url: str, residents: int, seed: int) -> tuple[list[str], str, float]:
    """Ingest the city and build every subject's decision state (what ``serve``'s sweep does
    first, done here so that it does not run during the measured rounds); return the
    residents' codes, an airline's key and the seconds the state took to build."""
    system = System(Store(url), shipped_registry())
    try:
        city = synth.generate_city(residents=residents, seed=seed, registry=system.registry)
        system.register(city.subjects)
        rows = synth.generate_records(city, registry=system.registry, seed=seed)
        system.ingest(enumerate(rows, start=1), origin="bench decisions", principal=system.operator())
        key = system.create_key("relying_party", "airlines").token
        t0 = time.perf_counter()
        system.build_decision_state()
        state_s = time.perf_counter() - t0
    finally:
        system.store.close()
    persons = [s.code for s in city.subjects if s.kind == "person"]
    return persons, key, state_s


def audit_purposes(url: str, run_id: str = "") -> Counter[str]:
    """How many ``decision`` audit entries carry each purpose (of one run, with its ``run_id``:
    a reused city's log holds earlier runs' entries too)."""
    store = Store(url)
    try:
        entries = store.audit_entries(limit=10**9)
    finally:
        store.close()
    ours = f"{run_id} " if run_id else ""
    decided = (e["purpose"] for e in entries if e["action"] == "decision")
    return Counter(p for p in decided if p.startswith(ours))


def in_process(url: str, subjects: list[str], key: str, calls: int, run_id: str = "") -> dict[str, Any]:
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
                system.check(Asked(s, MEASURE, principal, purpose=f"{run_id} in-process {n0 + n}".lstrip()))
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
class Closed:
    """One wrk run against one server: its figures, its purposes' prefix, the server's CPU."""

    run: WrkRun
    prefix: str
    cpu_s: float
    bodies: int


@dataclass
class Driven:
    """One server driven in one round: a closed loop per ask pattern, then the paced runs."""

    closed: dict[str, Closed]
    paced: dict[float, Load]


class Asker:
    """The request bodies of each run: whom each request asks about, each with its own purpose.

    ``distinct`` hands out residents not asked before in this bench (a cursor moving by what each
    run wrote); when they run out, the bodies go on with residents asked before, and the result
    counts how many requests asked again (``repeats``). ``repeat`` cycles over ``subjects``."""

    def __init__(self, persons: list[str], subjects: list[str], most: int) -> None:
        self.persons, self.subjects, self.most = persons, subjects, most
        self.cursor = 0
        self.repeats = 0

    def bodies(self, ask: str, prefix: str) -> list[bytes]:
        pool = self.persons[self.cursor :] if ask == "distinct" else []
        who = [*pool, *(self.subjects if ask == "repeat" else self.persons)]
        n = max(self.most, len(pool))
        return [body(who[k % len(who)], f"{prefix} {k}") for k in range(n)]

    def used(self, ask: str, written: int) -> None:
        if ask == "distinct":
            fresh = min(written, len(self.persons) - self.cursor)
            self.cursor += fresh
            self.repeats += written - fresh


def drive(
    cmd: list[str],
    env: Mapping[str, str],
    tag: str,
    key: str,
    asker: Asker,
    asks: list[str],
    args: Any,
    *,
    floor: bool = False,
    rates: list[float] | None = None,
) -> Driven:
    """Start the server (``cmd`` followed by a free port), warm it up, drive it with wrk once per
    ask pattern, then paced at each rate, and stop it. The floor and the real server go through
    exactly this, with the same generators and the same bodies' shapes."""
    port = free_port()
    proc = start([*cmd, str(port)], env, port)
    closed: dict[str, Closed] = {}
    try:
        if args.warmup > 0:
            warm = asker.bodies("repeat", f"{tag} warm-up")
            run_wrk(port, key, warm, args.connections, args.warmup)
        for ask in asks:
            prefix = f"{tag} {ask}"
            bodies = asker.bodies(ask, prefix)
            cpu0 = cpu_seconds(proc.pid)
            figures = run_wrk(port, key, bodies, args.connections, args.seconds)
            closed[ask] = Closed(figures, prefix, cpu_seconds(proc.pid) - cpu0, len(bodies))
            if not floor:  # the floor builds no view: whom it was asked about uses no one up
                asker.used(ask, figures.written)
        runs = {
            rate: paced(
                port, key, asker.subjects, args.connections, rate, args.paced_seconds, f"{tag} {rate:g}/s"
            )
            for rate in (args.rates if rates is None else rates)
        }
    finally:
        stop(proc)
    return Driven(closed, runs)


def _best(runs: list[Load]) -> Load:
    """The run with the lowest p99 (errors first: a run with errors is never the best)."""
    return min(runs, key=lambda r: (len(r.errors), percentile(r.latencies_ms, 99) if r.latencies_ms else 1e9))


def _figures(c: Closed) -> dict[str, Any]:
    out = c.run.figures()
    out["cpu_us_per_request"] = round(c.cpu_s / max(1, c.run.written) * 1e6)
    return out


def audit_check(logged: Counter[str], pairs: list[tuple[Driven, Driven]]) -> dict[str, Any]:
    """Every answered decision audited exactly once: per wrk run, between the answered and the
    written; per paced run, exactly the answered; no purpose twice."""
    by_prefix: Counter[str] = Counter()
    for purpose, n in logged.items():
        by_prefix[purpose.rsplit(" ", 1)[0]] += n
    runs, short, over = 0, [], []
    for _, real in pairs:
        for c in real.closed.values():
            runs += 1
            got = by_prefix[c.prefix]
            if got < c.run.answered:
                short.append(f"{c.prefix}: {got} audited < {c.run.answered} answered")
            if got > c.run.written:
                over.append(f"{c.prefix}: {got} audited > {c.run.written} written")
        for load in real.paced.values():
            runs += 1
            missing = [p for p in load.purposes if p not in logged]
            if missing:
                short.append(f"{len(missing)} paced answers not audited, e.g. {missing[0]}")
    twice = [p for p, n in logged.items() if n > 1]
    return {
        "audit_entries": sum(logged.values()),
        "audit_runs_checked": runs,
        "audit_short": short,
        "audit_over": over,
        "audit_twice": len(twice),
        "audited_exactly_once": not short and not over and not twice,
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    ensure_wrk()
    work = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="sc-bench-decisions-"))
    work.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{work / 'decisions.db'}"
    env = served_env(work / "home", url)
    city_file = work / "city.json"
    saved = json.loads(city_file.read_text()) if args.reuse and city_file.exists() else {}
    if saved.get("residents") == args.residents and saved.get("seed") == args.seed:
        persons, key, state_s, setup_s = saved["persons"], saved["key"], saved["state_s"], saved["setup_s"]
    else:
        t0 = time.perf_counter()
        persons, key, state_s = build_city(url, args.residents, args.seed)
        setup_s = time.perf_counter() - t0 - state_s
        city = {"residents": args.residents, "seed": args.seed, "persons": persons, "key": key}
        city_file.write_text(json.dumps({**city, "state_s": state_s, "setup_s": setup_s}))
    run_id = secrets.token_hex(3)  # in every purpose: a reused city's log holds earlier runs' too
    subjects = persons[: args.subjects]
    asker = Asker(persons, subjects, most=int(args.most_rate * args.seconds))

    bare_cmd = [sys.executable, str(Path(__file__).resolve()), "--serve-bare"]
    floor_db = work / "audited-floor.db"
    t0 = time.perf_counter()
    floor_rows = auditedfloor.prepare(url, floor_db, persons)
    floor_prepare_s = time.perf_counter() - t0
    audited_cmd = [sys.executable, str(Path(__file__).resolve()), "--audited-db", str(floor_db)]
    audited_cmd += ["--audited-key", key, "--serve-audited"]
    real_cmd = [SOCIALCREDIT, "serve", "--host", "127.0.0.1", "--port"]

    result: dict[str, Any] = {
        "residents": args.residents,
        "subjects_repeated": len(subjects),
        "ask": args.ask,
        "connections": args.connections,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "city_reused": bool(saved),
        "setup_s": round(setup_s, 1),
        "state_build_s": round(state_s, 1),
        "audited_floor_rows": floor_rows,
        "audited_floor_prepare_s": round(floor_prepare_s, 1),
        "load_average_before": load_average(),
    }
    pairs: list[tuple[Driven, Driven]] = []
    audited: list[Driven] = []
    for r in range(args.rounds):  # alternating, so the other engineers' load falls on all alike
        bare = drive(bare_cmd, env, f"{run_id} bare r{r}", key, asker, ["distinct"], args, floor=True)
        if args.audited_floor:  # the same distinct bodies the server is asked next: no one used up
            tag = f"{run_id} audited r{r}"
            audited.append(drive(audited_cmd, env, tag, key, asker, ["distinct"], args, floor=True, rates=[]))
        pairs.append((bare, drive(real_cmd, env, f"{run_id} http r{r}", key, asker, args.ask, args)))
    logged = audit_purposes(url, run_id)

    store = Store(url)
    try:
        chains_ok = store.verify_records() == [] and store.verify_audit() == []
    finally:
        store.close()

    rounds = []
    for bare, real in pairs:
        b = bare.closed["distinct"].run
        row: dict[str, Any] = {"floor": _figures(bare.closed["distinct"])}
        for ask, c in real.closed.items():
            row[ask] = _figures(c)
            row[ask]["rps_ratio"] = round(c.run.rps / b.rps, 3) if b.rps else None
            row[ask]["p99_ratio"] = round(c.run.p99_ms / b.p99_ms, 2) if b.p99_ms else None
        rounds.append(row)
    for row, a in zip(rounds, audited, strict=False):
        f = row["audited_floor"] = _figures(a.closed["distinct"])
        row["audited_floor"]["rps_ratio"] = (
            round(f["rps"] / row["floor"]["rps"], 3) if row["floor"]["rps"] else None
        )
        d = row["distinct"]["rps"] if "distinct" in row else None
        row["audited_floor"]["distinct_rps_ratio"] = round(d / f["rps"], 3) if d and f["rps"] else None
    if audited:
        result["audited_floor_rps_ratio"] = [row["audited_floor"]["rps_ratio"] for row in rounds]
        result["distinct_rps_ratio_to_audited_floor"] = [
            row["audited_floor"]["distinct_rps_ratio"] for row in rounds
        ]
        floor_check = audit_check(Counter(auditedfloor.audited_rows(floor_db)), [(a, a) for a in audited])
        result["audited_floor_audit"] = floor_check
    result["rounds_closed"] = rounds
    for ask in args.ask:
        result[f"{ask}_rps_ratio"] = [row[ask]["rps_ratio"] for row in rounds]
        result[f"{ask}_p99_ratio"] = [row[ask]["p99_ratio"] for row in rounds]
    result["distinct_repeats"] = asker.repeats
    result["paced"] = []
    for rate in args.rates:
        entry: dict[str, Any] = {"rate": rate, "seconds": args.paced_seconds}
        for name, side in (("floor", 0), ("decisions", 1)):
            runs = [pair[side].paced[rate] for pair in pairs]
            entry[name] = _best(runs).figures()
            entry[f"{name}_p99_each_ms"] = [r.figures()["p99_ms"] for r in runs]
        result["paced"].append(entry)
    result.update(audit_check(logged, pairs))
    result["chains_verify"] = chains_ok
    result["load_average"] = load_average()
    result["in_process"] = in_process(url, persons, key, args.calls, run_id)
    errors = [e for pair in pairs for side in pair for run in side.paced.values() for e in run.errors]
    if errors:
        result["error_samples"] = errors[:5]
    if not args.dir:
        for p in sorted(work.rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
        work.rmdir()
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--residents", type=int, default=100_000)
    p.add_argument("--subjects", type=int, default=1000, help="residents asked about over and over (repeat)")
    p.add_argument(
        "--ask",
        type=lambda text: [x for x in text.split(",") if x],
        default=["distinct", "repeat"],
        help="patterns of the decision runs: distinct (each resident once), repeat (the same ones)",
    )
    p.add_argument(
        "--most-rate", type=float, default=20_000.0, help=argparse.SUPPRESS
    )  # bodies prepared per second of a run: more than any server here answers
    p.add_argument("--seed", type=int, default=2014)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--calls", type=int, default=2000, help="System.check calls timed in process")
    p.add_argument(
        "--rates",
        type=lambda text: [float(x) for x in text.split(",")],
        default=[250.0, 500.0, 1000.0],
        help="requests/s of the paced (open-loop) runs, comma-separated",
    )
    p.add_argument("--paced-seconds", type=float, default=10.0, help="length of each paced run")
    p.add_argument("--rounds", type=int, default=3, help="times each server is driven, alternating")
    p.add_argument("--dir", default=None, help="keep the database here (default: a temp dir, removed)")
    p.add_argument("--write", action="store_true", help="add the figures to docs/benchmarks.md")
    p.add_argument(
        "--reuse",
        action="store_true",
        help="with --dir: reuse the city a run of the same --residents and --seed built there",
    )
    p.add_argument("--serve-bare", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument(
        "--no-audited-floor",
        dest="audited_floor",
        action="store_false",
        help="skip the audited floor (bench/auditedfloor.py) in each round",
    )
    p.add_argument("--serve-audited", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--audited-db", default=None, help=argparse.SUPPRESS)
    p.add_argument("--audited-key", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.serve_audited is not None:
        auditedfloor.serve(args.serve_audited, Path(args.audited_db), args.audited_key)
        return {}
    if args.serve_bare is not None:
        serve_bare(args.serve_bare)
        return {}
    result = run(args)
    return report(result, args.write, write_markdown)


if __name__ == "__main__":
    main()
