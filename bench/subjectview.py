"""A subject's view with sealed records against the same view less its decryption (issue 21
point 5: "a subject's view within 10 %").

Why "less its decryption", the ingest bench's method (``bench/ingest.py``'s ``encryption_*``):
a ledger cannot be both sealed and not in one installation, and two installations on a shared
machine differ by more than the cost measured. So one run times every cold ``System.read`` (the
audited subject view, ``GET /subjects/{code}``'s work: the records read and opened, scored, listed)
and, inside it, the time spent in the store's one decryption (``Sealing.open_rows``: key-store
reads, unwrapping, AES-GCM, the split; less building each ``Record`` from its row, which a clear
ledger does as well) and in computing the subject's pseudonym; the view
without sealing is the rest. Each round is read by a fresh installation process over the same
database (no data key cached), and the view cache is dropped before every read.

    python bench/subjectview.py --residents 3000 --reads 500 --rounds 3 [--write]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from benchlib import add_results, load_average, machine, now_utc, report  # noqa: E402

from socialcredit import synth  # noqa: E402
from socialcredit.schemes import shipped_registry  # noqa: E402
from socialcredit.service import System  # noqa: E402
from socialcredit.store import Store, sealedrows  # noqa: E402

SECTION = """## Subject view with sealed records (issue 21 point 5)

`bench/subjectview.py`: every cold `System.read` of a sample of subjects (a fresh process per
round, no data key cached, the view cache dropped before each read), and inside it the time
spent opening sealed records (`Sealing.open_rows`: key reads, unwrapping, AES-GCM, less building
each `Record` from its row, which a clear ledger does too), computing the pseudonym and, since
decision 0062, listing the subject's erased records (`Store.erased_records`, or since decision
0076 `Sealing.erased_in` over the rows the view read: a clear ledger has none to look up). The
view without sealing is the same run less that time (the ingest bench's method). Target: within
10 %."""


def timed(obj: Any, name: str, spent: list[float]) -> None:
    """Wrap ``obj.name`` so the seconds spent in it add up in ``spent[0]``."""
    inner: Callable[..., Any] = getattr(obj, name)

    def wrapper(*args: Any, **kw: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return inner(*args, **kw)
        finally:
            spent[0] += time.perf_counter() - t0

    setattr(obj, name, wrapper)


def run(residents: int, reads: int, rounds: int, home: Path) -> dict[str, Any]:
    url = f"sqlite:///{home / 'bench.db'}"
    registry = shipped_registry()
    system = System(Store(url), registry)
    city = synth.generate_city(residents=residents, seed=7, registry=registry)
    system.register(city.subjects)
    ingested = system.ingest(
        enumerate(synth.generate_records(city, registry=registry, seed=7), start=1),
        origin="bench",
        principal=system.operator(),
    )
    system.store.close()
    codes = [s.code for s in city.subjects][:: max(1, len(city.subjects) // reads)][:reads]
    load_before = load_average()
    walls, sealing = [], []
    records = 0
    rounds = max(1, rounds)
    record = sealedrows._record
    reader = System(Store(url), registry)
    for k in range(rounds + 1):
        if k < rounds:  # a fresh process: no key cached; the last round reuses it: keys cached
            reader.store.close()
            reader = System(Store(url), registry)
        spent, plain = [0.0], [0.0]
        timed(reader.store.sealing, "open_rows", spent)
        timed(reader.store.sealing, "pseudonym", spent)
        # which records were erased (shown as such): a ledger in the clear has none to look up
        timed(reader.store, "erased_records", spent)
        # ... or, for a view computed now, among the rows it read (decision 0076)
        timed(reader.store.sealing, "erased_in", spent)
        timed(sealedrows, "_record", plain)  # a record built from its row: a clear ledger does it too
        op = reader.operator()
        wall = 0.0
        for code in codes:
            reader.context.views.invalidate()
            t0 = time.perf_counter()
            view = reader.read(code, op, purpose="bench")
            wall += time.perf_counter() - t0
            records += len(view.records)
        walls.append(wall)
        sealing.append(spent[0] - plain[0])
        sealedrows._record = record  # type: ignore[assignment]
    reader.store.close()
    warm_wall, warm_sealed = walls.pop(), sealing.pop()
    best = min(range(rounds), key=lambda i: walls[i])
    wall, sealed = walls[best], sealing[best]
    return {
        "residents": residents,
        "records": ingested.accepted,
        "reads": len(codes),
        "records_per_read": round(records / ((rounds + 1) * len(codes)), 1),
        "rounds": rounds,
        "view_ms": round(1000 * wall / len(codes), 3),
        "sealing_ms": round(1000 * sealed / len(codes), 3),
        "view_without_sealing_ms": round(1000 * (wall - sealed) / len(codes), 3),
        "sealing_overhead": round(sealed / (wall - sealed), 3),
        "overheads": [round(s / (w - s), 3) for w, s in zip(walls, sealing, strict=True)],
        "keys_cached_view_ms": round(1000 * warm_wall / len(codes), 3),
        "keys_cached_overhead": round(warm_sealed / (warm_wall - warm_sealed), 3),
        "machine": machine(),
        "load_before": load_before,
        "load_after": load_average(),
        "when": now_utc(),
    }


def write_markdown(result: Mapping[str, Any], doc: Path) -> None:
    lines = [
        f"### {result['when']}: {result['residents']:,} residents, {result['records']:,} records; "
        f"{result['machine']}, load average {result['load_before']} before, {result['load_after']} after",
        "",
        "| | ms per read | |",
        "|---|---|---|",
        f"| `System.read`, cold, sealed records ({result['reads']} subjects, "
        f"{result['records_per_read']} records each, best of {result['rounds']} rounds) | "
        f"{result['view_ms']} | |",
        "| of which opening sealed records, the pseudonym and the erased records | "
        f"{result['sealing_ms']} | |",
        f"| the same view without sealing (the run less that) | {result['view_without_sealing_ms']} | "
        f"sealing adds {result['sealing_overhead']:.1%} (rounds: "
        f"{', '.join(f'{x:.1%}' for x in result['overheads'])}) |",
        f"| the same reads again in that process (data keys cached, view cache dropped) | "
        f"{result['keys_cached_view_ms']} | sealing adds {result['keys_cached_overhead']:.1%} |",
    ]
    add_results(doc, SECTION, "subject-view-runs", lines)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--residents", type=int, default=3000)
    p.add_argument("--reads", type=int, default=500)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--write", action="store_true", help="add the figures to docs/benchmarks.md")
    args = p.parse_args(argv)
    os.environ.setdefault("SOCIALCREDIT_HOME", tempfile.mkdtemp(prefix="sc-view-home-"))
    with tempfile.TemporaryDirectory(prefix="sc-view-") as tmp:
        return report(run(args.residents, args.reads, args.rounds, Path(tmp)), args.write, write_markdown)


if __name__ == "__main__":
    main()
