"""The decision state's payload (``service/statecodec.py``, decision 0089): its size a subject
before and after compression with the state dictionary, what the bytes are, and the read of one
state and the build a subject, on a synthetic city.

Why these figures: the state is one row a subject (about 9 KB of lines before 0089: 12.6 TB at
1.4 billion subjects) and each question not warm in a worker reads one row. "Before" is the
plain lines, exactly what the codec wrote before and still reads (``encode_plain``); "after" is
what it writes now. The read of one state is what a question about a subject not in memory
costs: the indexed read of its row, its represented organisations and one measure's decision,
timed in rounds that alternate the same rows stored plain and compressed (each row rewritten
between rounds), the codec's memo emptied before each read (a question opens a row it has not
opened). The build's difference is the encoding alone, timed on the same prepared decisions.

    python bench/statecodec.py --residents 3000 --reads 2000 --rounds 2 [--postgres] [--write]
    python bench/statecodec.py --residents 1000 --seed 2014 --dictionary OUT.txt   # a new dictionary
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Mapping
from contextlib import ExitStack
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import add_results, load_average, machine, now_utc, percentile, report  # noqa: E402
from sqlalchemy import text  # noqa: E402
from workers import postgres  # noqa: E402

from socialcredit import synth  # noqa: E402
from socialcredit.schemes import shipped_registry  # noqa: E402
from socialcredit.service import System, statecodec  # noqa: E402
from socialcredit.store import Store  # noqa: E402

SECTION = """## The decision state's payload (decision 0089)

`bench/statecodec.py`: every subject's state of a synthetic city, its payload's size as the plain
lines written before decision 0089 and compressed with the state dictionary as now, and the read
of one state (the row by its index, its represented organisations and one measure's decision)
with the rows stored each way in alternate rounds. No floor: before and after on the same rows."""

FIELDS = ("basis", "text", "list_id", "since", "until", "grounds", "legal_basis", "how_to_resolve")
FIELDS += ("via", "explanation")


def composition(plains: list[str]) -> dict[str, int]:
    """Bytes a subject by what they hold, in the plain lines (each JSON value with its comma)."""
    spent: collections.Counter[str] = collections.Counter()
    for lines in plains:
        first, *measures = lines.split("\n")
        spent["represents"] += len(first.encode()) + 1
        for line in measures:
            mid, _, body = line.partition("\t")
            spent["measure id"] += len(mid.encode()) + 2
            kind, allowed, known, reasons = json.loads(body)
            frame = json.dumps([kind, allowed, known, []], separators=(",", ":"))
            spent["kind, answer, known"] += len(frame.encode())
            for r in reasons:
                spent["reason brackets"] += 2
                for name, value in zip(FIELDS, r, strict=True):
                    spent[name] += len(json.dumps(value, ensure_ascii=False).encode()) + 1
    return {k: round(v / len(plains)) for k, v in spent.most_common()}


def sizes(samples: list[int]) -> dict[str, int]:
    median, p90 = round(statistics.median(samples)), round(percentile(samples, 90))
    return {"median": median, "p90": p90, "max": max(samples)}


def make_dictionary(plains: list[str], codes: list[str], share: float = 0.01, limit: int = 32768) -> bytes:
    """The lines found in at least ``share`` of the states, the most common last (zlib reaches
    the dictionary's last 32 KB, the nearest cheapest), cut to ``limit`` bytes. No line may name
    a subject: checked against every code of the city (a line common to many states cannot)."""
    seen: collections.Counter[str] = collections.Counter()
    for lines in plains:
        seen.update(set(lines.split("\n")))
    common = sorted((n, line) for line, n in seen.items() if n >= share * len(plains))
    named = [line for _, line in common if any(code in line for code in codes)]
    if named:
        raise ValueError(f"dictionary: {len(named)} common lines name a subject")
    return "\n".join(line for _, line in common).encode()[-limit:]


def build(url: str, residents: int, seed: int) -> tuple[System, list[str], float]:
    """The city ingested and its state built; the codes and the build's CPU ms a subject."""
    system = System(Store(url), shipped_registry())
    city = synth.generate_city(residents=residents, seed=seed, registry=system.registry)
    system.register(city.subjects)
    rows = synth.generate_records(city, registry=system.registry, seed=seed)
    system.ingest(enumerate(rows, start=1), origin="bench statecodec", principal=system.operator())
    t0 = time.process_time()
    built = system.build_decision_state()
    return system, [s.code for s in city.subjects], 1000 * (time.process_time() - t0) / max(1, built)


def rewrite(system: System, plain: bool) -> None:
    """Every row's payload stored plain (as before 0089) or compressed (as now): the same rows."""
    with system.store.engine.begin() as conn:
        rows = conn.execute(text("SELECT subject, payload FROM decision_state")).all()
        news = []
        for subject, payload in rows:
            lines = statecodec.opened(payload)
            if not plain:
                lines = statecodec.compress(lines)
            news.append({"s": subject, "p": lines})
        conn.execute(text("UPDATE decision_state SET payload = :p WHERE subject = :s"), news)


def read_us(system: System, codes: list[str], measure: str) -> float:
    """Median µs of one state's read: the row, its organisations, one measure's decision."""
    store, spent = system.store, []
    for code in codes:
        statecodec.forget()  # a question opens a row it has not opened
        t0 = time.perf_counter()
        row = store.decision_state(code)
        assert row is not None and row.payload is not None and row.as_of is not None
        statecodec.represents(row.payload)
        assert statecodec.decision(row.payload, measure, code, row.as_of) is not None
        spent.append(time.perf_counter() - t0)
    return round(1e6 * statistics.median(spent), 1)


def codec_us(payloads: list[str], measure: str) -> float:
    """Median µs of the codec alone on a payload in memory: organisations and one decision."""
    at, spent = dt.datetime(2026, 12, 7, 12, 0), []
    for p in payloads:
        statecodec.forget()
        t0 = time.perf_counter()
        statecodec.represents(p)
        statecodec.decision(p, measure, "x", at)
        spent.append(time.perf_counter() - t0)
    return round(1e6 * statistics.median(spent), 2)


def encode_us(system: System, codes: list[str]) -> tuple[float, float]:
    """Median µs a subject to encode its prepared decisions plain (before) and compressed (now)."""
    plain, packed = [], []
    for code in codes:
        row = system.store.decision_state(code)
        assert row is not None and row.payload is not None and row.as_of is not None
        made, represents = statecodec.decode(row.payload, code, row.as_of)
        prepared = {mid: (d, {}) for mid, d in made.items()}
        t0 = time.perf_counter()
        statecodec.encode_plain(prepared, represents)
        t1 = time.perf_counter()
        statecodec.encode(prepared, represents)
        plain.append(t1 - t0)
        packed.append(time.perf_counter() - t1)
    return round(1e6 * statistics.median(plain), 1), round(1e6 * statistics.median(packed), 1)


def run(
    residents: int, seed: int, reads: int, rounds: int, url: str, dictionary: Path | None = None
) -> dict[str, Any]:
    load_before = load_average()
    system, codes, build_ms = build(url, residents, seed)
    try:
        with system.store.engine.connect() as conn:
            payloads = [p for (p,) in conn.execute(text("SELECT payload FROM decision_state"))]
        plains = [statecodec.opened(p) for p in payloads]
        if dictionary is not None:
            dictionary.write_bytes(make_dictionary(plains, codes))
        sample = codes[:: max(1, len(codes) // reads)][:reads]
        measure = "no-flights"
        rounds_us: dict[str, list[float]] = {"plain": [], "compressed": []}
        for _ in range(max(1, rounds)):
            for form in ("plain", "compressed"):
                rewrite(system, plain=form == "plain")
                rounds_us[form].append(read_us(system, sample, measure))
        enc_plain, enc_packed = encode_us(system, sample[:500])
        before = [len(p.encode()) for p in plains]
        after = [len(statecodec.compress(p).encode()) for p in plains]
    finally:
        system.store.close()
    return {
        "residents": residents,
        "seed": seed,
        "database": url.split(":", 1)[0].split("+", 1)[0],
        "subjects": len(payloads),
        "bytes_before": sizes(before),
        "bytes_after": sizes(after),
        "ratio_median": round(statistics.median(before) / statistics.median(after), 1),
        "composition_before": composition(plains),
        "read_us_before": min(rounds_us["plain"]),
        "read_us_after": min(rounds_us["compressed"]),
        "read_rounds_us": rounds_us,
        "codec_us_before": codec_us(plains[:reads], measure),
        "codec_us_after": codec_us([statecodec.compress(p) for p in plains[:reads]], measure),
        "encode_us_before": enc_plain,
        "encode_us_after": enc_packed,
        "build_cpu_ms_a_subject": round(build_ms, 2),
        "reads": len(sample),
        "machine": machine(),
        "load_before": load_before,
        "load_after": load_average(),
        "when": now_utc(),
    }


def write_markdown(result: Mapping[str, Any], doc: Path) -> None:
    b, a = result["bytes_before"], result["bytes_after"]
    read = f"{result['read_us_before']} | {result['read_us_after']}"
    encode = f"{result['encode_us_before']} | {result['encode_us_after']}"
    lines = [
        f"### {result['when']}: {result['residents']:,} residents (seed {result['seed']}), "
        f"{result['subjects']:,} states on {result['database']}; {result['machine']}, "
        f"load average {result['load_before']} before, {result['load_after']} after",
        "",
        f"| | before (plain lines) | after (dictionary {statecodec.DICTIONARY}) |",
        "|---|---|---|",
        f"| payload bytes, median / p90 / max | {b['median']:,} / {b['p90']:,} / {b['max']:,} | "
        f"{a['median']:,} / {a['p90']:,} / {a['max']:,} |",
        f"| read of one state (row, organisations, one decision), median µs, best of "
        f"{len(result['read_rounds_us']['plain'])} | {read} |",
        f"| the codec alone, median µs | {result['codec_us_before']} | {result['codec_us_after']} |",
        f"| encoding a subject's state, median µs | {encode} |",
        "",
        f"Building the state: {result['build_cpu_ms_a_subject']} ms of CPU a subject (compressed).",
        "",
    ]
    add_results(doc, SECTION, "statecodec-results", lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--residents", type=int, default=3000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--reads", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument(
        "--postgres", action="store_true", help="on a PostgreSQL of its own (pgserver), not SQLite"
    )
    p.add_argument("--dictionary", type=Path, help="write a new dictionary from this city's states")
    p.add_argument("--write", action="store_true", help="add the figures to docs/benchmarks.md")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as home, ExitStack() as stack:
        url = stack.enter_context(postgres()) if args.postgres else f"sqlite:///{Path(home) / 'bench.db'}"
        result = run(args.residents, args.seed, args.reads, args.rounds, url, args.dictionary)
    return report(result, args.write, write_markdown)


if __name__ == "__main__":
    main()
