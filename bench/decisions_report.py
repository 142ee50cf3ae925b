"""The decision bench's section of docs/benchmarks.md: its method and each run's tables
(``bench/decisions.py --write``). Apart from the bench so that each stays a readable size."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import add_results, machine, now_utc  # noqa: E402

SECTION = """## Decisions: the decision endpoint against a bare async endpoint under wrk, and in process

```bash
.venv/bin/python bench/decisions.py --residents 100000 --ask distinct,repeat --connections 32 \\
    --seconds 10 --rounds 3 --rates 250,500,1000 --write
```

A deterministic synthetic city (`socialcredit.synth`, seed 2014, about 9 records per resident) is
ingested into a fresh SQLite file (the embedded default). The **floor** is what a peer would write
for the same work: a bare `async def` FastAPI endpoint parsing and validating the same JSON body
(subject, measure, purpose) and answering a constant, under uvicorn with httptools and uvloop (which
`socialcredit serve` gets as well: uvicorn picks them when installed). The **load** is wrk (Debian's,
installed by the bench if missing): one thread, 32 keep-alive connections, 10 s per run, each
request with its own body and purpose. Each round drives the floor, then `socialcredit serve`
(asked `no-flights`) once per pattern: **distinct** residents, each asked at most once in the whole
bench, as an airline asks (the subject's view is built at the question), and **repeat**, the same
1,000 residents over and over (warm caches). Every server is warmed up for 2 s first, not counted.
Rounds alternate, so other load on the machine falls on all alike. Write rate limits are raised for
the run (a policy with its own tests, not the capacity measured); the limits middleware still runs.

Then **paced** runs (an open loop in Python, latency from each request's due time: wrk has no open
loop) at each of `--rates` give the p99 at a bounded load, per rate the round with the lower p99.

The audit check: every request's purpose is its own; for each wrk run the audit log must hold
between the requests answered and the requests written (wrk stops counting replies in flight when
its clock ends) and no purpose twice; for the paced runs exactly the answered; every chain must
verify. "Server CPU" is the server process's CPU time over the run per request written. In process:
`decisions.decide` on a prepared view (median of 7 timed loops) and `System.check` end to end (view,
decision, audit entry committed and synced; median of single calls), first about 2,000 distinct
residents, then the same again (cached views). `tests/test_bench_io.py` runs it for a second.

The **audited floor** (`bench/auditedfloor.py`, run in every round unless `--no-audited-floor`)
is the same work written bare, as a strong peer would: the bare floor's endpoint, the code checked
by python-stdnum, the answer read by one indexed `SELECT` from a table of ready answers (written
beforehand from the city's own decision states), and an audit row appended by one writer thread
in groups (a keyed pseudonym, the code sealed by AES-GCM under one key in memory, a SHA-256 chain,
one synced commit a group) before the reply. It says how much of the gap to the bare floor is the
work itself (decision 0107).

Issue 20's targets: distinct residents of a 100,000-resident city at least 0.5 of the floor's
requests/s, p99 at most twice the floor's in the same round, every decision durably audited exactly
once, an in-process decision under 5 µs."""

MARKER = "decision results (wrk): newest first"


def write_markdown(result: Mapping[str, Any], path: Path) -> None:
    ip = result["in_process"]
    asks = ",".join(result["ask"])
    rate_arg = ",".join(f"{p['rate']:g}" for p in result["paced"])
    reused = " (by an earlier run, reused)" if result.get("city_reused") else ""
    la = f"load average {result['load_average_before']} before the HTTP runs, {result['load_average']} after"
    lines = [
        f"### decisions under wrk: {result['residents']:,} residents, {result['connections']} connections, "
        f"{result['seconds']} s per run, {result['rounds']} rounds ({now_utc()})",
        "",
        f"Machine: {machine()}; {la}. City set up in {result['setup_s']} s, its decision state built in "
        f"{result.get('state_build_s')} s{reused}. "
        "Command: `.venv/bin/python "
        f"bench/decisions.py --residents {result['residents']} --ask {asks} --connections "
        f"{result['connections']} --seconds {result['seconds']} --rounds {result['rounds']} "
        f"--rates {rate_arg} --write`.",
        "",
        "Closed loop (wrk), each round: the floor, then the decision endpoint per pattern:",
        "",
        "| round | server | answered | requests/s | ratio to floor | p50 ms | p99 ms | p99 ratio | errors "
        "| server CPU µs/request |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]  # fmt: skip
    labels = {
        "distinct": "`POST /decisions`, distinct residents",
        "repeat": "`POST /decisions`, the same residents",
    }
    for n, row in enumerate(result["rounds_closed"], start=1):
        f = row["floor"]
        lines.append(
            f"| {n} | floor: bare async FastAPI | {f['answered']:,} | {f['rps']:,} | 1.00 | {f['p50_ms']} "
            f"| {f['p99_ms']} | 1.00 | {f['errors']} | {f['cpu_us_per_request']} |"
        )
        if "audited_floor" in row:
            f = row["audited_floor"]
            p99_ratio = round(f["p99_ms"] / row["floor"]["p99_ms"], 2) if row["floor"]["p99_ms"] else None
            lines.append(
                f"| {n} | audited floor: the same work written bare | {f['answered']:,} | {f['rps']:,} "
                f"| {f['rps_ratio']} | {f['p50_ms']} | {f['p99_ms']} | {p99_ratio} "
                f"| {f['errors']} | {f['cpu_us_per_request']} |"
            )
        for ask in result["ask"]:
            f = row[ask]
            lines.append(
                f"| {n} | {labels[ask]} | {f['answered']:,} | {f['rps']:,} | {f['rps_ratio']} "
                f"| {f['p50_ms']} | {f['p99_ms']} | {f['p99_ratio']} | {f['errors']} "
                f"| {f['cpu_us_per_request']} |"
            )
    lines += [
        "",
        "Paced (open loop, latency from each request's due time), per rate the round with the lower p99 of "
        "each server, and every round's p99:",
        "",
        "| requests/s | server | answered | errors | p50 ms | p99 ms | generator late, p99 ms "
        "| p99 ms, each round |",
        "|---:|---|---:|---:|---:|---:|---:|---|",
    ]
    for pc in result["paced"]:
        for name, label in (("floor", "floor: bare async FastAPI"), ("decisions", "`POST /decisions`")):
            f = pc[name]
            each = ", ".join(str(x) for x in pc[f"{name}_p99_each_ms"])
            lines.append(
                f"| {pc['rate']:,.0f} | {label} | {f['answered']:,} | {f['errors']} | {f['p50_ms']} "
                f"| {f['p99_ms']} | {f.get('send_lag_p99_ms', '')} | {each} |"
            )
    lines += [
        "",
        f"Audit: {result['audit_entries']:,} decision entries over {result['audit_runs_checked']} runs "
        "checked; "
        f"audited exactly once: {result['audited_exactly_once']}; chains verify: {result['chains_verify']}. "
        f"Distinct residents asked again when the city ran out: {result['distinct_repeats']:,}.",
    ]
    if "audited_floor_audit" in result:
        a = result["audited_floor_audit"]
        lines += [
            "",
            "Audited floor (`bench/auditedfloor.py`): its own chain verifies; "
            f"{a['audit_entries']:,} rows, audited exactly once: {a['audited_exactly_once']}. "
            "Distinct residents' requests/s of `POST /decisions` over the audited floor's, each round: "
            + ", ".join(str(x) for x in result["distinct_rps_ratio_to_audited_floor"])
            + "; the audited floor's over the bare floor's: "
            + ", ".join(str(x) for x in result["audited_floor_rps_ratio"])
            + ".",
        ]
    lines += [
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
