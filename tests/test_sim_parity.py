"""The simulator's rules are the live rules: a few hundred simulated subjects, their records turned
into real ledger records, run month by month through ``score_points``, ``entries_for`` and
``decide``, give the same score, the same list membership and the same measures as the simulator's
compiled state at every snapshot."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from socialcredit import ledger
from socialcredit.decisions import decide
from socialcredit.lists import entries_for
from socialcredit.schemes.loader import shipped_registry
from socialcredit.schemes.model import Notice, Scheme
from socialcredit.scoring import scores_for
from socialcredit.sim.engine import Simulation
from socialcredit.sim.population import synthesize
from socialcredit.sim.scenario import Settings
from socialcredit.synth import generate_city

PERSONS = 4000
MONTHS = 36


def _fast_court(window: bool = False) -> list[Scheme]:
    """The shipped schemes with a court list that moves fast: grounds 40 times as frequent, a
    120-day period extended by 60 days per further ground up to 240, and 10 days' notice, so that
    extensions, caps, removals and notice all happen within a short run; with ``window``, a listing
    also needs two grounds within 90 days (``min_records``, ``window_days``)."""
    out = []
    for s in shipped_registry().schemes.values():
        if s.id == "court-dishonest-debtors":
            items = [
                i.model_copy(update={"base_rate_per_year": i.base_rate_per_year * 40}) if i.points == 0 else i
                for i in s.items
            ]
            lst = s.lists[0].model_copy(
                update={
                    "period_days": 120,
                    "extension_days": 60,
                    "max_period_days": 240,
                    "notice": Notice(required=True, days=10),
                }
            )
            if window:
                criteria = lst.criteria.model_copy(update={"min_records": 2, "window_days": 90})
                lst = lst.model_copy(update={"criteria": criteria})
            s = s.model_copy(update={"items": items, "lists": [lst]})
        out.append(s)
    return out


SLOW = pytest.mark.slow  # seconds each; suining-2010 (the quickest, well under one) stays in the inner loop


def _schemes(court: str) -> list[Scheme]:
    """The schemes of a parity run: shipped, a fast court list (``fast``, ``window``), or the
    shipped ones with Rongcheng's and Honest Shanghai's items decaying at half-lives from 30 days to
    two years (``decay``), so decay steps fall between snapshots and move grades (and tier rules
    on sums of points) on their exact days."""
    if court in ("fast", "window"):
        return _fast_court(court == "window")
    out = list(shipped_registry().schemes.values())
    if court == "decay":
        lives = (None, 30, 90, 365, 730)
        out = [
            s.model_copy(
                update={
                    "items": [
                        i.model_copy(update={"half_life_days": lives[k % len(lives)]})
                        for k, i in enumerate(s.items)
                    ]
                }
            )
            if s.id in ("rongcheng", "honest-shanghai")
            else s
            for s in out
        ]
    return out


@pytest.mark.parametrize(
    "scheme,due_process,court",
    [
        pytest.param("rongcheng", True, "shipped", marks=SLOW),
        pytest.param("rongcheng", False, "shipped", marks=SLOW),
        ("suining-2010", True, "shipped"),
        pytest.param("rongcheng", True, "fast", marks=SLOW),
        pytest.param("rongcheng", True, "window", marks=SLOW),
        pytest.param("sesame", True, "shipped", marks=SLOW),
        pytest.param("rongcheng", True, "decay", marks=SLOW),
        pytest.param("honest-shanghai", True, "decay", marks=SLOW),
        ("enterprise-credit", True, "shipped"),
    ],
)
def test_simulated_state_equals_live_rules(scheme: str, due_process: bool, court: str) -> None:
    pop = synthesize(PERSONS, seed=7)
    settings = Settings(scheme=scheme, due_process=due_process, error_rate=0.0, restore_propensity=0.0)
    sim = Simulation(
        _schemes(court),
        settings,
        pop,
        seed=7,
        months=MONTHS,
        trace=np.arange(pop.n),
    )
    sim.run()
    trace = sim.trace
    assert trace is not None
    world = sim.world
    active = np.stack(trace.active)  # steps x subjects x lists
    # a sample: every subject ever on a list (and the organisations they represent), then others
    ever = np.flatnonzero(active.any(axis=(0, 2)))
    rng = np.random.default_rng(0)
    others = rng.choice(np.setdiff1d(np.arange(pop.n), ever), size=150, replace=False)
    if world.scheme.enrolment is not None:  # an opt-in scheme: some who joined, some who did not
        others = np.r_[others, np.flatnonzero(sim.joins)[:100]]
    reps = {int(o): int(pop.representative[o - pop.n_persons]) for o in range(pop.n_persons, pop.n)}
    sample = sorted({*ever.tolist()[:250], *others.tolist(), *(reps[o] for o in ever if o in reps)})
    assert len(ever) >= 20, "too few listings to compare"

    city = generate_city(residents=pop.n_persons, organisations=pop.n_orgs, seed=7)
    code = [s.code for s in city.subjects]
    kind = [s.kind for s in city.subjects]
    by_agent: dict[int, list[ledger.Record]] = {}
    for a, it, day, seq in trace.records:
        on = dt.date.fromordinal(day)
        by_agent.setdefault(a, []).append(
            ledger.Record(
                record_id=f"r{seq}",
                subject=code[a],
                subject_kind="person" if kind[a] == "person" else "organisation",
                item=world.items[it],
                source="sim",
                source_record_id=str(seq),
                occurred_on=on,
                reported_at=dt.datetime.combine(on, dt.time()),
                seq=seq + 1,
            )
        )
    represents: dict[int, list[int]] = {}
    for o, p in reps.items():
        represents.setdefault(p, []).append(o)
    measures = list(world.registry.measures().values())
    checked = 0
    for t in range(MONTHS):
        at = dt.datetime.combine(dt.date.fromordinal(int(sim.days[t])), dt.time(23, 59, 59))
        for a in sample:
            recs = ledger.effective(by_agent.get(a, []), at)
            represented = {code[o]: ledger.effective(by_agent.get(o, []), at) for o in represents.get(a, [])}
            scores = scores_for(code[a], kind[a], recs, [world.scheme], at)  # who is rated, who joined
            assert (world.scheme.id in scores) == bool(trace.scored[t][a]), (t, a)
            if world.scheme.id in scores:
                assert scores[world.scheme.id].score == trace.scores[t][a], (t, a)
            entries = entries_for(code[a], recs, world.registry, at, represented=represented)
            on = {e.qualified_id for e in entries if e.active_on(at.date())}
            mine = {lid for j, lid in enumerate(world.list_ids) if trace.active[t][a, j]}
            assert on == mine, (t, a, on, mine)
            for m, measure in enumerate(measures):
                d = decide(
                    subject=code[a],
                    subject_kind=kind[a],  # type: ignore[arg-type]
                    measure=measure,
                    entries=entries,
                    scores=scores,
                    at=at,
                )
                applicable = d.reasons[0].basis != "not-applicable"
                applied = applicable and (d.allowed if measure.kind == "reward" else not d.allowed)
                assert applied == trace.applied[t][a, m], (t, a, measure.id)
            checked += 1
    assert checked == MONTHS * len(sample)
