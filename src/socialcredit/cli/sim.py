"""``socialcredit simulate``: what a scheme does to a population, as a report.

The arms of a comparison run on the same synthetic population with the same seed, so any
difference between them is the scheme's or the setting's, not chance's. ``--vs`` takes a scheme, or
``key=value`` settings changed from the first arm, or both: ``--vs due-process=off`` compares the
scheme with and without due process in one command.
"""

from __future__ import annotations

import dataclasses
import shlex
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from socialcredit import i18n, inforce
from socialcredit.api.reports import SimulationOut
from socialcredit.cli.common import SAFEGUARDS_FAILED, JsonOpt, app, emit, fail, progress_bar, say
from socialcredit.i18n import N_
from socialcredit.schemes.loader import SchemeError
from socialcredit.schemes.safeguards import RESEARCH_ONLY
from socialcredit.settings import get_settings
from socialcredit.sim.engine import START, Simulation
from socialcredit.sim.population import synthesize
from socialcredit.sim.scenario import Settings, parse_vs


def _score(value: float | None) -> str:
    """A mean score for the summary line (none when nobody is scored, e.g. nobody joined)."""
    return "n/a" if value is None else f"{value:.1f}"


def _switch(name: str, value: str) -> bool:
    if value.lower() in ("on", "true", "yes"):
        return True
    if value.lower() in ("off", "false", "no"):
        return False
    fail(escape(i18n.translate(N_("{option}: {value!r} is not on or off", option=name, value=value))))


@app.command()
def simulate(
    scheme: Annotated[str, typer.Option(help="The scored scheme in force")] = "rongcheng",
    vs: Annotated[
        str | None,
        typer.Option(help="Second arm: a scheme and/or key=value settings, e.g. due-process=off"),
    ] = None,
    population: Annotated[
        int, typer.Option(min=100, max=20_000_000, help="Persons (+1 organisation per 20)")
    ] = 100_000,
    years: Annotated[int, typer.Option(min=1, max=30, help="Years of monthly steps")] = 5,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same report")] = 1,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Directory for report.html, report.json, charts")
    ] = Path("simulation"),
    due_process: Annotated[str, typer.Option(help="on or off: notice, objections, restoration")] = "on",
    feedback: Annotated[str, typer.Option(help="on or off: sanctions and rewards change lives")] = "on",
    error_rate: Annotated[float, typer.Option(min=0, max=1, help="Per source: wrong-person share")] = 0.01,
    relationships: Annotated[
        float, typer.Option(min=0, max=1, help="Weight of contacts' scores (0: off)")
    ] = 0.0,
    ostracism: Annotated[
        float, typer.Option(min=0, max=1, help="Monthly propensity to drop low-graded contacts")
    ] = 0.1,
    black_market: Annotated[
        float, typer.Option(min=0, max=1, help="Share of persons buying fabricated records")
    ] = 0.0,
    enrolment: Annotated[
        float, typer.Option(min=0, max=1, help="Under an opt-in scheme (Sesame): share of persons who joined")
    ] = Settings.enrolment,
    withdrawal: Annotated[
        float,
        typer.Option(
            min=0, max=1, help="Under an opt-in scheme: share of members who leave each month (0: none)"
        ),
    ] = Settings.withdrawal,
    rejoin: Annotated[
        float,
        typer.Option(
            min=0,
            max=1,
            help="Under an opt-in scheme: share of those who left who join again a month, afresh (0: none)",
        ),
    ] = Settings.rejoin,
    research_only: Annotated[
        bool,
        typer.Option(
            "--research-only",
            help="Run even if a scheme in force fails the safeguards; the report is stamped "
            f'"{RESEARCH_ONLY}"',
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Simulate a population under a scheme month by month and write a report (HTML, PNG, JSON).

    A scheme that fails the safeguards is never in force; studying what it would do is the one
    use left for it, so the simulator runs it only with ``--research-only`` and stamps the report."""
    base = Settings(
        scheme=scheme,
        due_process=_switch("--due-process", due_process),
        feedback=_switch("--feedback", feedback),
        error_rate=error_rate,
        relationships=relationships,
        ostracism=ostracism,
        black_market=black_market,
        enrolment=enrolment,
        withdrawal=withdrawal,
        rejoin=rejoin,
    )
    arms = [base]
    if vs is not None:
        try:
            arms.append(parse_vs(vs, base))
        except ValueError as exc:
            fail(str(exc))
    try:
        found = inforce.load(get_settings())
    except SchemeError as exc:
        invalid = i18n.translate(N_("a scheme in force is invalid:"))
        fail(f"{invalid}\n{escape(exc.describe())}")
    # what the simulated worlds hold: each arm's scheme and the schemes without a score (lists and
    # measures); a failing scheme outside them plays no part in the figures
    world = {a.scheme for a in arms} | {s.id for s in found.registry.schemes.values() if s.model is None}
    failing = [b for b in found.breaches if b.scheme in world]
    breaches = [str(b) for b in failing]  # English in report.json
    shown = [i18n.translate(b) for b in failing]  # the reader's, on the page and here
    if breaches and not research_only:
        fail(
            SAFEGUARDS_FAILED
            + "\n"
            + escape("\n".join(shown))
            + "\n"
            + i18n.translate(
                N_(
                    '(to study it anyway: --research-only; the report is stamped "{stamp}")',
                    stamp=RESEARCH_ONLY,
                )
            )
        )
    # imported here, not with the command line: the report's charts load matplotlib, about a
    # quarter of the import of ``socialcredit.cli``, which every other command paid (decision 0099)
    from socialcredit.sim import report

    months = 12 * years
    # the simulated months run from START, each under the versions in force on its first day
    # (sim/versions.py, decision 0064): every version of the schemes in force at START
    registry = found.registry
    schemes = [v for sid in registry.at(START).schemes for _, v in registry.versions(sid)]
    started = time.perf_counter()
    results: list[dict[str, Any]] = []
    pops: dict[bool, Any] = {}
    try:
        sims = []
        for arm in arms:
            if arm.heterogeneity not in pops:
                pops[arm.heterogeneity] = synthesize(population, seed=seed, heterogeneity=arm.heterogeneity)
            sims.append(Simulation(schemes, arm, pops[arm.heterogeneity], seed=seed, months=months))
    except (SchemeError, ValueError) as exc:
        fail(i18n.reword(exc.args[0] if exc.args else exc))
    bar = i18n.translate(N_("simulating {arms} arm(s) x {months} months", arms=len(arms), months=months))
    with progress_bar(bar, months * len(arms)) as p:
        for sim in sims:
            results.append(sim.run(progress=lambda n: p.advance(p.task_ids[0], n)))
    elapsed = time.perf_counter() - started
    pop = next(iter(pops.values()))
    command = "socialcredit simulate " + " ".join(shlex.quote(a) for a in sys.argv[2:])
    meta = {
        "persons": pop.n_persons,
        "organisations": pop.n_orgs,
        "months": months,
        "seed": seed,
        "arms_settings": [dataclasses.asdict(a) for a in arms],
        "seconds": round(elapsed, 1),
    }
    left_out = {k: v for sim in sims for k, v in sim.world.skipped.items()}
    if left_out:  # lists with no vector form, and their measures, named with the field (0063)
        meta |= {"left_out": left_out}
    if breaches:
        meta |= {"stamp": RESEARCH_ONLY, "safeguard_breaches": breaches}
    doc = report.write(results, out_dir, command=command, meta=meta, breaches=shown)
    if as_json:
        emit(SimulationOut.of(out_dir, meta, doc["summary"]))
        return
    if breaches:
        say(N_("[bold red]{stamp}[/]", stamp=RESEARCH_ONLY))
    say(
        N_(
            "{persons} persons, {organisations} organisations, {months} months in {seconds} s",
            persons=f"{pop.n_persons:,}",
            organisations=f"{pop.n_orgs:,}",
            months=months,
            seconds=f"{elapsed:.1f}",
        )
    )
    for s in doc["summary"]:
        say(
            N_(
                "[bold]{arm}[/]: mean score {score}; punished at the end {punished}; ever in a spiral "
                "{spiral}; wrongly punished person-days {wrong}; entry-days suspended by objections "
                "{suspended}; objections {filed} ({corrected} corrected)",
                arm=escape(i18n.translate(s["label"])),
                score=_score(s["final_mean_score"]),
                punished=f"{s['persons_punished_at_end']:,}",
                spiral=f"{s['persons_ever_in_spiral']:,}",
                wrong=f"{s['wrongly_punished_person_days']:,}",
                suspended=f"{s['suspended_entry_days']:,}",
                filed=f"{s['objections'].get('filed', 0):,}",
                corrected=f"{s['objections'].get('corrected', 0):,}",
            )
        )
    say(N_("report: {path}", path=str(out_dir / "report.html")))
