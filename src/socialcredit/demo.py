"""The demo: a deterministic synthetic city ingested, scored and listed through the real paths.

Nothing here is a shortcut: the synthetic agencies' records go through the same validation,
deduplication and hash chaining as any agency file, and the summary is computed by the same
scoring and list rules that answer relying parties.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from socialcredit import synth
from socialcredit.ledger import IngestResult
from socialcredit.rules import days
from socialcredit.service import PopulationSummary, System


@dataclass(frozen=True)
class DemoResult:
    city: synth.City
    ingest: IngestResult
    """The city's records (its agencies', its applications and platforms')."""
    summary: PopulationSummary
    seconds: dict[str, float]


def origin_of(residents: int, seed: int) -> str:
    """How the demo's batch is labelled, so a second run can recognise its own database."""
    return f"demo city (residents={residents}, seed={seed})"


def consent_origin(residents: int, seed: int) -> str:
    """How the batch of the demo's consents to publicity is labelled."""
    return f"{origin_of(residents, seed)}: consent to publicity"


def stream_consents(system: System, city: synth.City, *, origin: str, seed: int) -> IngestResult:
    """Ingest the consents to publicity the city's listed subjects give and withdraw
    (``synth.consent``), as a city sees them: after the records that put the subjects on a list
    that names only with consent (Rongcheng's honour roll, decision 0042), from the list's
    entries by the end of the window. Why: without them such a list is empty in public."""
    end = days.end_of(city.end)
    entered: dict[str, list[tuple[str, dt.date]]] = {}
    for s in system.scan(end):
        for e in s.entries:
            if e.via is None:
                entered.setdefault(e.qualified_id, []).append((s.code, e.since))
    rows = synth.consent_records(system.registry, entered, city.end, seed)
    return system.ingest(enumerate(rows, start=1), origin=origin, principal=system.operator())


def run_demo(
    system: System,
    *,
    residents: int,
    seed: int = 2014,
    reuse: bool = False,
    ingest_progress: Callable[[int, int], None] | None = None,
    score_progress: Callable[[int, int], None] | None = None,
) -> DemoResult:
    """Generate, register, ingest and summarise a city of ``residents`` people.

    With ``reuse`` the city is already in the database (a second run): it is not ingested again.
    The progress callbacks receive ``(advance, total)``."""
    import time

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    city = synth.generate_city(residents=residents, seed=seed, registry=system.registry)
    origin = origin_of(residents, seed)
    if reuse:
        [b] = system.store.batches_by_origin()[origin][-1:]
        result = IngestResult(b["batch_id"], b["submitted"], b["accepted"], b["duplicate"], b["quarantined"])
    else:
        system.register(city.subjects)
        timings["generate"] = time.perf_counter() - t0
        target = 10 * residents
        total = synth.estimate_records(city, system.registry, target_records=target)
        rows = synth.generate_records(city, registry=system.registry, seed=seed, target_records=target)
        t0 = time.perf_counter()
        result = system.ingest(
            enumerate(rows, start=1),
            origin=origin,
            principal=system.operator(),
            chunk_size=50_000,
            progress=(lambda n: ingest_progress(n, total)) if ingest_progress else None,
        )
        stream_consents(system, city, origin=consent_origin(residents, seed), seed=seed)
        timings["ingest"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    n_subjects = len(city.subjects)
    summary = system.population(
        as_of=days.end_of(city.end),
        progress=(lambda n: score_progress(n, n_subjects)) if score_progress else None,
    )
    timings["score"] = time.perf_counter() - t0
    return DemoResult(city, result, summary, timings)
