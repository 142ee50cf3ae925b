"""One contract for every evaluator of a scheme (issue 15): on random histories, the simulator's
compiled rules and the relational engines give the scores, grades and list membership the
per-subject evaluator (the point of service) gives.

A history is drawn by hypothesis: subjects of a small synthetic population, each with records of
the scheme's items on the first days of random months (the simulator models records as reported
on the day they occur, so the contract holds it at month ends). The same history is

- run through the simulator (its record draw replaced by the history: nothing else changes),
- turned into ledger records and evaluated per subject (``scores_for``, ``entries_for``),
- ingested through the real validation into a store, exported and rescored on DuckDB (and, once
  per scheme kind, on Spark),

and every evaluator must agree with the per-subject one, subject for subject (the simulator on the
measures it applies too, by ``decide``). Every shipped scored scheme takes part, with decaying
variants and one without due process (no notice before listing), so each model kind (points,
tier, factor) and decay are under the same contract. (The simulator's own behaviour at the shipped
rates, and the court's list by its provisions, are tests/test_sim_parity.py's.)"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st

from socialcredit import ledger
from socialcredit.decisions import decide
from socialcredit.engines.base import Engine, rescore
from socialcredit.engines.duck import DuckDBEngine
from socialcredit.engines.export import export_ledger
from socialcredit.lists import entries_for
from socialcredit.rules import days
from socialcredit.schemes import shipped_registry
from socialcredit.schemes.model import Scheme
from socialcredit.schemes.segments import segmented
from socialcredit.scoring import scores_for
from socialcredit.service import System
from socialcredit.sim.engine import Simulation
from socialcredit.sim.population import Population, synthesize
from socialcredit.sim.scenario import Settings
from socialcredit.sim.world import Records
from socialcredit.store import Store
from socialcredit.synth import generate_city

SLOW = pytest.mark.slow  # a simulation (and for the engines a store and an export) per example

PERSONS = 100
MONTHS = 24
LIVES = (None, 45, 180, 400)


def _decaying(scheme: Scheme) -> Scheme:
    items = [
        i.model_copy(update={"half_life_days": LIVES[k % len(LIVES)]}) for k, i in enumerate(scheme.items)
    ]
    return scheme.model_copy(update={"items": items})


def _schemes(chosen: str, decay: bool, versioned: bool = False) -> list[Scheme]:
    out = list(shipped_registry().schemes.values())
    out = [_decaying(s) if decay and s.id == chosen else s for s in out]
    return [*out, _version_2(next(s for s in out if s.id == chosen))] if versioned else out


CHANGE = dt.date(2025, 10, 15)
"""A toy change of rules in the middle of a month: month 10 (from 1 November 2025) is the first
scored and listed under version 2, month 9 (1 October) the last under version 1."""
FIRST_UNDER_2 = 10


def _version_2(v1: Scheme) -> Scheme:
    """Version 2 of a shipped scheme, in force from :data:`CHANGE`: Suining's deductions doubled
    (a points change, no list touched: each day is scored under its version over the whole
    history); the enterprise list of serious violators shortened to a year for two violations
    within a year (a list change whose earlier listings stay ended, decision 0051: SPC provisions
    Art. 2, the period runs "from the listing decision", which the old rules fixed)."""
    data = v1.model_dump()
    data |= {"version": "2", "effective_from": CHANGE}
    if v1.id == "suining-2010":
        for item in data["items"]:
            item["points"] = item["points"] * 2 if item["points"] < 0 else item["points"]
    else:
        [lst] = [x for x in data["lists"] if x["id"] == "serious-violators"]
        lst["period_days"] = 365
        lst["criteria"] |= {"min_records": 2, "window_days": 365}
        data["revision"] = {
            "replaces": v1.version,
            "earlier_listings": "stay-ended",
            "reason": "The 2025 measures list only repeated violations, for a year.",
        }
    return Scheme.model_validate(data)


CASES = [
    ("rongcheng", False, True),
    ("rongcheng", True, True),
    ("rongcheng", False, False),
    ("suining-2010", False, True),
    ("honest-shanghai", True, True),
    ("enterprise-credit", False, True),
    ("sesame", False, True),
]
"""(scheme, decaying items, due process): without due process a list gives no notice first."""
IDS = [f"{s}{'-decay' if d else ''}{'' if p else '-no-due-process'}" for s, d, p in CASES]
QUICK = {"suining-2010", "enterprise-credit"}
"""Cases the simulator's contract holds in the inner loop too (a points and a tier scheme, persons
and organisations: a second or two each)."""


@dataclass
class Run:
    """A history run through the simulator, with what the other evaluators need."""

    sim: Simulation
    pop: Population
    codes: list[str]
    kinds: list[str]
    by_agent: dict[int, list[ledger.Record]]
    rows: list[dict[str, Any]]


@pytest.fixture(scope="module")
def population() -> tuple[Population, list[str], list[str]]:
    pop = synthesize(PERSONS, seed=11)
    city = generate_city(residents=pop.n_persons, organisations=pop.n_orgs, seed=11)
    return pop, [s.code for s in city.subjects], [s.kind for s in city.subjects]


def _simulate(
    scheme: str,
    decay: bool,
    history: list[tuple[int, int, int]],
    population: tuple[Population, list[str], list[str]],
    due_process: bool = True,
    versioned: bool = False,
) -> Run:
    pop, codes, kinds = population
    settings_ = Settings(
        scheme=scheme, due_process=due_process, error_rate=0.0, restore_propensity=0.0, black_market=0.0
    )
    sim = Simulation(
        _schemes(scheme, decay, versioned), settings_, pop, seed=3, months=MONTHS, trace=np.arange(pop.n)
    )
    w = sim.world
    usable = [i for i in range(len(w.items)) if w.feeds[:, i].any() or w.item_points[i] != 0]
    wanted: dict[int, list[tuple[int, int]]] = {}
    for who, pick, month in history:
        agent = who % pop.n
        kind = "person" if agent < pop.n_persons else "organisation"
        fits = [i for i in usable if kind in w.registry.kinds_by_item[w.items[i]]]
        if fits:
            wanted.setdefault(month, []).append((agent, fits[pick % len(fits)]))
    if sim.enrolment_item >= 0:  # those the simulator lets join an opt-in scheme, on the first day
        wanted.setdefault(0, []).extend((int(a), sim.enrolment_item) for a in np.flatnonzero(sim.joins))
    if sim.withdrawal_item >= 0:  # and some of them leave (``Settings.withdrawal``) and join again
        for who, pick, month in history:  # (``Settings.rejoin``), afresh, in any order
            agent = who % pop.n
            if month > 0 and pick % 3 in (0, 1) and sim.joins[agent]:
                item = sim.withdrawal_item if pick % 3 == 0 else sim.enrolment_item
                wanted.setdefault(month, []).append((agent, item))

    def draw(t: int) -> Records:
        got = sorted(wanted.get(t, []))  # ledger order: by subject
        agent = np.array([a for a, _ in got], dtype=np.int64)
        item = np.array([i for _, i in got], dtype=np.int64)
        source = np.array([w.item_sources[i][0] for i in item.tolist()], dtype=np.int64)
        none = np.zeros(len(got), dtype=np.bool_)
        return Records(agent, item, source, none, none.copy())

    sim._draw = draw  # type: ignore[method-assign]  # the history instead of behaviour
    sim.run()
    assert sim.trace is not None
    by_agent: dict[int, list[ledger.Record]] = {}
    rows: list[dict[str, Any]] = []
    for a, it, day, seq in sim.trace.records:
        on = dt.date.fromordinal(day)
        code = w.items[it]
        source = w.sources[w.item_sources[it][0]]
        by_agent.setdefault(a, []).append(
            ledger.Record(
                record_id=f"r{seq}",
                subject=codes[a],
                subject_kind=kinds[a],
                item=code,
                source=source,
                source_record_id=str(seq),
                occurred_on=on,
                reported_at=dt.datetime.combine(on, dt.time()),
                seq=seq + 1,
            )  # fmt: skip
        )
        rows.append(
            {
                "subject": codes[a],
                "item": code,
                "source": source,
                "source_record_id": str(seq),
                "occurred_on": on.isoformat(),
                "reported_at": dt.datetime.combine(on, dt.time()).isoformat(),
            }  # fmt: skip
        )
    return Run(sim, pop, codes, kinds, by_agent, rows)


PerSubject = tuple[dict[int, tuple[int, str] | None], dict[int, set[str]], dict[int, list[bool]]]


def _per_subject(run: Run, t: int) -> PerSubject:
    """Scores, the lists in force and the measures applied (each of the registry's, in order) per
    subject at the end of month ``t``, one subject at a time, under the versions in force then."""
    w = run.sim.versions.world_at(t)
    at = days.end_of(dt.date.fromordinal(int(run.sim.days[t])))  # the day's last second in China
    reps = {
        int(o): int(run.pop.representative[o - run.pop.n_persons])
        for o in range(run.pop.n_persons, run.pop.n)
    }
    represents: dict[int, list[int]] = {}
    for o, p in reps.items():
        represents.setdefault(p, []).append(o)
    measures = list(w.registry.measures().values())
    scores: dict[int, tuple[int, str] | None] = {}
    lists: dict[int, set[str]] = {}
    applied: dict[int, list[bool]] = {}
    for a in range(run.pop.n):
        recs = ledger.effective(run.by_agent.get(a, []), at)
        rated = scores_for(run.codes[a], run.kinds[a], recs, [w.scheme], at)  # who is rated, who joined
        got = rated.get(w.scheme.id)
        scores[a] = (got.score, got.grade) if got is not None else None
        represented = {
            run.codes[o]: ledger.effective(run.by_agent.get(o, []), at) for o in represents.get(a, [])
        }
        entries = entries_for(run.codes[a], recs, w.registry, at, represented=represented)
        lists[a] = {e.qualified_id for e in entries if e.active_on(at.date())}
        applied[a] = []
        for measure in measures:
            d = decide(
                subject=run.codes[a],
                subject_kind=run.kinds[a],  # type: ignore[arg-type]
                measure=measure,
                entries=entries,
                scores=rated,
                at=at,
            )
            applicable = d.reasons[0].basis != "not-applicable"
            applied[a].append(applicable and (d.allowed if measure.kind == "reward" else not d.allowed))
    return scores, lists, applied


HISTORY = st.lists(
    st.tuples(st.integers(0, 10_000), st.integers(0, 10_000), st.integers(0, MONTHS - 1)),
    min_size=1,
    max_size=90,
)
DENSE = [(k * 37 if k % 3 else 100 + k % 5, k * 11, (k * 7) % MONTHS) for k in range(90)]
"""A history dense enough that every case moves scores or lists someone, with a third of its
records on the organisations (agents 100 to 104), held as an explicit example besides hypothesis's
draws."""
CROWDED = [(k % 4 if k % 5 else 100 + k % 2, k * 13, (k * 5) % MONTHS) for k in range(90)]
"""Ninety records on four persons and two organisations (each of them represented by one of
those persons or another): several records of a subject within a window, as the simulator's own
behaviour gives at the shipped rates, so caps, counts within days, repeat listings and further
grounds meet on one subject. An explicit example besides DENSE, which spreads its records."""
SETTINGS = settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


def _holds_at(run: Run, t: int) -> bool:
    """The simulator's month ``t`` against the per-subject evaluator, subject for subject, under
    the versions in force that month; whether any measure applied to anyone."""
    trace = run.sim.trace
    assert trace is not None
    w = run.sim.versions.world_at(t)
    scores, lists, applied = _per_subject(run, t)
    for a in range(run.pop.n):
        want = scores[a]
        assert (want is not None) == bool(trace.scored[t][a]), (t, a)
        if want is not None:
            got = int(trace.scores[t][a])
            assert (got, w.scorer.grade_names[int(w.scorer.grades(np.array([got]))[0])]) == want, (t, a)
        mine = {lid for j, lid in enumerate(w.list_ids) if trace.active[t][a, j]}
        assert mine == lists[a], (t, a)
        assert [bool(x) for x in trace.applied[t][a]] == applied[a], (t, a)
    return any(any(x) for x in applied.values())


@pytest.mark.parametrize(
    "scheme,decay,due_process",
    [pytest.param(*c, marks=() if c[0] in QUICK else SLOW) for c in CASES],
    ids=IDS,
)
@SETTINGS
@given(history=HISTORY)
@example(history=DENSE)
@example(history=CROWDED)
def test_the_simulator_keeps_the_contract(
    scheme: str, decay: bool, due_process: bool, history: list[tuple[int, int, int]], population: Any
) -> None:
    """At every month end: each subject's score and grade (or no score: not rated, not joined),
    the lists it is on and the measures applied to it, as the per-subject evaluator gives them for
    the same records."""
    run = _simulate(scheme, decay, history, population, due_process)
    trace = run.sim.trace
    assert trace is not None
    w = run.sim.world
    if history == DENSE:  # the explicit example exercises the rules, not only the defaults
        moved = any(
            int(x) != w.scorer.base for v, on in zip(trace.scores, trace.scored, strict=True) for x in v[on]
        )
        listed = any(step.any() for step in trace.active)
        assert len(trace.records) >= 60 and (moved or listed)
    if history == CROWDED:  # the records meet on a few subjects
        per_agent = Counter(a for a, *_ in trace.records)
        assert sum(n >= 10 for n in per_agent.values()) >= 4, per_agent
    applied_any = False
    for t in range(0, MONTHS, 3):
        applied_any = _holds_at(run, t) or applied_any
    if history == DENSE:  # and some measure applies to someone
        assert applied_any


def _engine_rows(
    engine: Engine, run: Run, root: Path
) -> tuple[dict[str, tuple[int, str]], dict[str, set[str]]]:
    """The history ingested, exported and rescored at the end of the last month."""
    w = run.sim.versions.world_at(MONTHS - 1)
    at = days.end_of(dt.date.fromordinal(int(run.sim.days[MONTHS - 1])))  # the last second of it in China
    store = Store(f"sqlite:///{root / 'ledger.db'}")
    try:
        system = System(store, w.registry, clock=lambda: at + dt.timedelta(days=1))
        city = generate_city(residents=run.pop.n_persons, organisations=run.pop.n_orgs, seed=11)
        # each organisation represented by whom the simulated population says, as the others read it
        n_p = run.pop.n_persons
        subjects = [
            dataclasses.replace(row, legal_representative=run.codes[int(run.pop.representative[k - n_p])])
            if k >= n_p
            else row
            for k, row in enumerate(city.subjects)
        ]
        system.register(subjects)
        result = system.ingest(enumerate(run.rows, start=1), origin="contract", principal=system.operator())
        assert result.accepted == len(run.rows), result.quarantine
        export_ledger(store, root / "export")
    finally:
        store.close()
    rescore(
        engine, root / "export", [w.scheme], at, root / "scores.parquet",
        list_schemes=list(w.registry.schemes.values()), lists_out=root / "lists.parquet",
        segments=segmented(w.registry),
    )  # fmt: skip
    scores = {
        r["subject"]: (int(r["score"]), r["grade"])
        for r in pq.read_table(root / "scores.parquet").to_pylist()
    }
    lists: dict[str, set[str]] = {}
    for r in pq.read_table(root / "lists.parquet").to_pylist():
        if r["status"] == "active":
            lists.setdefault(r["subject"], set()).add(r["list"])
    return scores, lists


def _holds_for(engine: Engine, run: Run, root: Path) -> None:
    got_scores, got_lists = _engine_rows(engine, run, root)
    scores, lists, _applied = _per_subject(run, MONTHS - 1)  # engines decide no measures
    for a in range(run.pop.n):
        code = run.codes[a]
        assert got_scores.get(code) == scores[a], (code, got_scores.get(code), scores[a])
        assert got_lists.get(code, set()) == lists[a], (code, got_lists.get(code), lists[a])


@SLOW
@pytest.mark.parametrize("scheme,decay,due_process", CASES, ids=IDS)
@settings(max_examples=3, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(history=HISTORY)
@example(history=DENSE)
@example(history=CROWDED)
def test_duckdb_keeps_the_contract(
    scheme: str,
    decay: bool,
    due_process: bool,
    history: list[tuple[int, int, int]],
    population: Any,
    tmp_path_factory: Any,
) -> None:
    """Scores, grades and the lists in force at the end, as the per-subject evaluator gives them."""
    run = _simulate(scheme, decay, history, population, due_process)
    engine = DuckDBEngine()
    try:
        _holds_for(engine, run, tmp_path_factory.mktemp("contract"))
    finally:
        engine.close()


@SLOW
@pytest.mark.parametrize("scheme,decay", [("rongcheng", True), ("honest-shanghai", True), ("sesame", False)])
@settings(phases=[Phase.explicit], deadline=None, suppress_health_check=list(HealthCheck))
@given(history=HISTORY)
@example(history=DENSE)
def test_spark_keeps_the_contract(
    scheme: str,
    decay: bool,
    history: list[tuple[int, int, int]],
    population: Any,
    spark: Any,
    tmp_path_factory: Any,
) -> None:
    """The same on Spark (local mode), once per kind of model, on the dense history (each Spark
    job costs seconds; DuckDB, above, takes the random ones)."""
    from socialcredit.engines.spark import SparkEngine

    run = _simulate(scheme, decay, history, population)
    _holds_for(SparkEngine(spark), run, tmp_path_factory.mktemp("contract-spark"))


VERSIONED = ["suining-2010", "enterprise-credit"]
"""Schemes given a version 2 from :data:`CHANGE` (:func:`_version_2`): a points change, and a list
change whose earlier listings stay ended."""


@pytest.mark.parametrize("scheme", VERSIONED)
@settings(SETTINGS, max_examples=2)
@given(history=HISTORY)
@example(history=DENSE)
@example(history=CROWDED)
def test_the_simulator_keeps_the_contract_across_a_change_of_version(
    scheme: str, history: list[tuple[int, int, int]], population: Any
) -> None:
    """Issue 16: "Scheme files carry a version and an effective date, and a rule change applies
    from that date." Every month is under the version in force on its first day, and at every
    month end the simulator gives each subject's score, grade, lists and measures as the
    per-subject evaluator gives them that day: a score by its version over the whole history; an
    entry made under version 1 keeping the period version 1 set, version 2 judging only grounds
    reported from its day (SPC provisions, Art. 2: "from the listing decision")."""
    _across(scheme, history, population)


@SLOW
@pytest.mark.parametrize("scheme", VERSIONED)
@SETTINGS
@given(history=HISTORY)
def test_the_simulator_keeps_the_contract_across_a_change_of_version_at_length(
    scheme: str, history: list[tuple[int, int, int]], population: Any
) -> None:
    """The same contract over :data:`SETTINGS`' six drawn histories, in CI; the inner loop draws
    two besides the explicit DENSE and CROWDED (a simulation a history; decision 0106)."""
    _across(scheme, history, population)


def _across(scheme: str, history: list[tuple[int, int, int]], population: Any) -> None:
    """:func:`test_the_simulator_keeps_the_contract_across_a_change_of_version`'s check."""
    run = _simulate(scheme, False, history, population, versioned=True)
    found = [v[scheme] for v in run.sim.versions.in_force]
    assert found == ["1"] * FIRST_UNDER_2 + ["2"] * (MONTHS - FIRST_UNDER_2)
    for t in range(MONTHS):
        _holds_at(run, t)
    if history == DENSE:  # version 2 answered differently from what version 1 would have
        old = run.sim.versions.first
        at = days.end_of(dt.date.fromordinal(int(run.sim.days[MONTHS - 1])))
        differs = False
        for a in range(run.pop.n):
            recs = ledger.effective(run.by_agent.get(a, []), at)
            if scheme == "suining-2010":
                now = scores_for(run.codes[a], run.kinds[a], recs, [run.sim.world.scheme], at)
                then = scores_for(run.codes[a], run.kinds[a], recs, [old.scheme], at)
                differs = differs or now != then
            else:
                now_e = entries_for(run.codes[a], recs, run.sim.world.registry, at)
                then_e = entries_for(run.codes[a], recs, old.registry, at)
                differs = differs or [e.since for e in now_e] != [e.since for e in then_e]
        assert differs


@SLOW
@pytest.mark.parametrize("scheme", VERSIONED)
@settings(phases=[Phase.explicit], deadline=None, suppress_health_check=list(HealthCheck))
@given(history=HISTORY)
@example(history=DENSE)
@example(history=CROWDED)
def test_the_engines_keep_the_contract_across_a_change_of_version(
    scheme: str, history: list[tuple[int, int, int]], population: Any, spark: Any, tmp_path_factory: Any
) -> None:
    """DuckDB and Spark at the last month end, under version 2, as the per-subject evaluator."""
    from socialcredit.engines.spark import SparkEngine

    run = _simulate(scheme, False, history, population, versioned=True)
    engine = DuckDBEngine()
    try:
        _holds_for(engine, run, tmp_path_factory.mktemp("contract-versions"))
    finally:
        engine.close()
    if history == DENSE:
        _holds_for(SparkEngine(spark), run, tmp_path_factory.mktemp("contract-versions-spark"))
