"""Benchmark: one simulation arm, N persons (default a million) x M months (default 60), timed.

    .venv/bin/python bench/simulate.py [--persons N] [--months M] [--seed K] [--scheme S]

``--scheme`` picks the scored scheme (default rongcheng, a points model; ``sesame`` is the factor
model, with half its persons enrolled and one item decaying).

Prints the wall time to synthesise the population and to run the months (with a progress bar
on stderr), the process's CPU time (which, unlike wall time, does not grow when other work shares
the machine) and the peak memory. The figure goes into docs/benchmarks.md; tests/test_sim.py runs a
tiny version so this script cannot rot.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from socialcredit.schemes.loader import shipped_registry
from socialcredit.sim.engine import Simulation
from socialcredit.sim.population import synthesize
from socialcredit.sim.scenario import Settings


def run(persons: int, months: int, seed: int, show: bool = True, scheme: str = "rongcheng") -> dict[str, Any]:
    t0 = time.perf_counter()
    pop = synthesize(persons, seed=seed)
    t1 = time.perf_counter()
    schemes = list(shipped_registry().schemes.values())
    sim = Simulation(schemes, Settings(scheme=scheme), pop, seed=seed, months=months)
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not show,
    ) as p:
        task = p.add_task(f"{persons:,} persons x {months} months", total=months)
        result = sim.run(progress=lambda n: p.advance(task, n))
    t2 = time.perf_counter()
    return {
        "scheme": scheme,
        "persons": persons,
        "organisations": pop.n_orgs,
        "months": months,
        "population_seconds": round(t1 - t0, 2),
        "run_seconds": round(t2 - t1, 2),
        "total_seconds": round(t2 - t0, 2),
        "cpu_seconds": round(resource.getrusage(resource.RUSAGE_SELF).ru_utime, 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "final_mean_score": round(result["steps"][-1]["mean_score"], 2),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--persons", type=int, default=1_000_000)
    ap.add_argument("--months", type=int, default=60)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scheme", default="rongcheng")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    out = run(args.persons, args.months, args.seed, show=not args.quiet, scheme=args.scheme)
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main(sys.argv[1:])
