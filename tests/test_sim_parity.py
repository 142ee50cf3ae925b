"""The simulator's rules are the live rules for the court's list by its provisions: a few hundred
simulated subjects, their records (with the years an extension decision states) turned into real
ledger records, run month by month through ``scores_for``, ``entries_for`` and ``decide``, give the
same score, the same list membership and the same measures as the simulator's compiled state at
every snapshot, on court lists tuned so that listing, extension, early removal and expiry all
happen within the run.

The shipped schemes, their decaying variants and a run without due process are under the
contract (tests/test_contract.py), on random histories for every evaluator."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from socialcredit import ledger
from socialcredit.decisions import decide
from socialcredit.lists import ListEntry, entries_for
from socialcredit.rules import days
from socialcredit.schemes.loader import shipped_registry
from socialcredit.schemes.model import Scheme
from socialcredit.scoring import scores_for
from socialcredit.sim.compiled_lists import stated_years
from socialcredit.sim.engine import Simulation
from socialcredit.sim.population import synthesize
from socialcredit.sim.scenario import Settings
from socialcredit.synth import generate_city

PERSONS = 4000
MONTHS = 36


def _fast_court(window: bool = False, days: bool = False) -> list[Scheme]:
    """The shipped schemes with a court list that moves fast: its grounds, removal items and the
    court's decisions 40 times as frequent (extension decisions, which the shipped rates never
    draw, too) and 10 days' notice, so that listing, removal, expiry and extension all happen
    within a short run. By the court's provisions (scheme version 2: ground (1) with no fixed
    period, ended by Art. 10; grounds (2) to (6) for one calendar year instead of two, extended
    once by the court's decision, ended early by its decision); with ``days``, as version 1 wrote
    it (one period in days: 120, extended by 60 per further ground up to 240); with ``window``, a
    listing also needs two grounds within 90 days (``min_records``, ``window_days``)."""
    registry = shipped_registry()
    out = []
    for s in registry.schemes.values():
        if s.id == "court-dishonest-debtors":
            data = (registry.previous[s.id] if days else s).model_dump(exclude_unset=True)
            for item in data["items"]:
                item["base_rate_per_year"] = max(item.get("base_rate_per_year", 0.0), 0.002) * 40
            (lst,) = data["lists"]
            lst["notice"] = {"required": True, "days": 10}
            if days:
                lst.update(period_days=120, extension_days=60, max_period_days=240)
            else:
                lst["periods"][1]["years"] = 1
            if window:
                lst["criteria"].update(min_records=2, window_days=90)
            s = Scheme.model_validate(data)
        out.append(s)
    return out


SLOW = pytest.mark.slow  # seconds each


def _schemes(court: str) -> list[Scheme]:
    """The schemes of a parity run: a fast court list by the provisions (``fast``), with a window
    (``window``), or as version 1 wrote it (``days``)."""
    return _fast_court(court == "window", court == "days")


@pytest.mark.parametrize(
    "scheme,due_process,court",
    [
        pytest.param("rongcheng", True, "fast", marks=SLOW),
        pytest.param("rongcheng", True, "window", marks=SLOW),
        pytest.param("rongcheng", True, "days", marks=SLOW),
    ],
)
def test_simulated_state_equals_live_rules(scheme: str, due_process: bool, court: str) -> None:
    court_variant = court
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
    extensions = {i: t.extension for _s, lst in world.registry.lists() for t in lst.tracks
                  if t.extension is not None for i in t.extension.on_items}  # fmt: skip
    for a, it, day, seq in trace.records:
        on = dt.date.fromordinal(day)
        ext = extensions.get(world.items[it])
        stated = {} if ext is None else {ext.years_field: int(stated_years(ext, np.array([seq]))[0])}
        by_agent.setdefault(a, []).append(
            ledger.Record(
                record_id=f"r{seq}",
                subject=code[a],
                subject_kind="person" if kind[a] == "person" else "organisation",
                item=world.items[it],
                source="sim",
                source_record_id=str(seq),
                occurred_on=on,
                reported_at=days.start_of(on) + dt.timedelta(hours=9),  # in office hours in China
                details=stated,
                seq=seq + 1,
            )
        )
    represents: dict[int, list[int]] = {}
    for o, p in reps.items():
        represents.setdefault(p, []).append(o)
    measures = list(world.registry.measures().values())
    checked = 0
    seen: list[ListEntry] = []  # every entry of the sample at the last snapshot
    for t in range(MONTHS):
        at = days.end_of(dt.date.fromordinal(int(sim.days[t])))  # the day's last second in China
        for a in sample:
            recs = ledger.effective(by_agent.get(a, []), at)
            represented = {code[o]: ledger.effective(by_agent.get(o, []), at) for o in represents.get(a, [])}
            scores = scores_for(code[a], kind[a], recs, [world.scheme], at)  # who is rated, who joined
            assert (world.scheme.id in scores) == bool(trace.scored[t][a]), (t, a)
            if world.scheme.id in scores:
                assert scores[world.scheme.id].score == trace.scores[t][a], (t, a)
            entries = entries_for(code[a], recs, world.registry, at, represented=represented)
            if t == MONTHS - 1:
                seen.extend(entries)
            on = {e.qualified_id for e in entries if e.active_on(days.day_of(at))}
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
    court = [e for e in seen if e.scheme == "court-dishonest-debtors"]
    if court_variant in ("fast", "window"):  # the provisions' every path, in the run compared
        assert any(e.planned_end is None for e in court), "ground (1): no fixed period"
        assert any(e.extended_by for e in court), "extended once by the court's decision"
        assert any("court.decision.early-removal" in (e.end_reason or "") for e in court), "removed early"
        assert any(e.end_reason == "expired" for e in court), "a fixed period ended"


@pytest.mark.parametrize("rejoin", [0.0, 0.3], ids=["leave", "leave-and-rejoin"])
def test_simulated_withdrawals_end_the_score_as_the_live_rules_do(rejoin: float) -> None:
    """Members leave Sesame at the monthly rate ``withdrawal`` (issue 19, point 3), each by a
    ``sesame.left`` record, and with ``rejoin`` a share of those who left join again each month;
    at every month end whoever has a score, and what it is, equals the per-subject evaluator's
    answer from the same records (PIPL Art. 15: consent may be withdrawn; the scheme then has no
    score for them). A member who joins again starts afresh, as the scheme's own terms require
    (``scoring.dispatch.usable``; sesame.yaml: "a member's withdrawal stops the score at once and
    ends the scheme's use of every record known by then: no evaluator reads them again, and a
    member who joins again starts afresh"). The default rates, 0, draw no withdrawal and no
    return."""
    pop = synthesize(3000, seed=5)
    settings = Settings(
        scheme="sesame", error_rate=0.0, restore_propensity=0.0, withdrawal=0.1, rejoin=rejoin
    )
    registry = shipped_registry()
    sim = Simulation(list(registry.schemes.values()), settings, pop, seed=5, months=8, trace=np.arange(pop.n))
    sim.run()
    trace = sim.trace
    assert trace is not None
    world = sim.world
    left, joined_item = world.items.index("sesame.left"), world.items.index(world.scheme.enrolment.item)  # type: ignore[union-attr]
    leavers = sorted({a for a, it, _d, _s in trace.records if it == left})
    assert sim.left == sum(1 for _a, it, _d, _s in trace.records if it == left) and len(leavers) > 100
    back = sorted({a for a, it, day, _s in trace.records if it == joined_item and day > int(sim.days[0])})
    assert sim.rejoined == sum(
        1 for _a, it, d, _s in trace.records if it == joined_item and d > int(sim.days[0])
    )
    assert (sim.rejoined > 50) == (rejoin > 0) and (rejoin > 0 or not back)
    joined = int(sim.joins.sum())
    if not rejoin:  # members after the last month: those who joined, less a tenth a month from the second
        assert abs(int(trace.scored[-1].sum()) - joined * 0.9**7) < 5 * (joined * 0.25) ** 0.5
    city = generate_city(residents=pop.n_persons, organisations=pop.n_orgs, seed=5)
    code, kind = [s.code for s in city.subjects], [s.kind for s in city.subjects]
    sample = sorted({*leavers[:150], *back[:150], *np.flatnonzero(sim.joins)[:50].tolist()})
    by_agent: dict[int, list[ledger.Record]] = {}
    for a, it, day, seq in trace.records:
        if a in sample:
            on = dt.date.fromordinal(day)
            by_agent.setdefault(a, []).append(
                ledger.Record(
                    record_id=f"r{seq}",
                    subject=code[a],
                    subject_kind=kind[a],  # type: ignore[arg-type]
                    item=world.items[it],
                    source="sim",
                    source_record_id=str(seq),
                    occurred_on=on,
                    reported_at=days.start_of(on) + dt.timedelta(hours=9),
                    seq=seq + 1,
                )  # fmt: skip
            )
    for t in range(8):
        at = days.end_of(dt.date.fromordinal(int(sim.days[t])))
        for a in sample:
            scores = scores_for(
                code[a], kind[a], ledger.effective(by_agent.get(a, []), at), [world.scheme], at
            )
            assert ("sesame" in scores) == bool(trace.scored[t][a]), (t, a)
            if "sesame" in scores:
                assert scores["sesame"].score == trace.scores[t][a], (t, a)
    quiet = Simulation(list(registry.schemes.values()), Settings(scheme="sesame"), pop, seed=5, months=3)
    quiet.run()
    assert quiet.left == quiet.rejoined == 0
