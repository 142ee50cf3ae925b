"""The simulator against theory, by seed, and from the command line.

Theory: with feedback, contacts, errors and heterogeneity off, every person is the same Markov
chain, so the share of persons in each state at month T is known exactly. Two chains are checked on
a scheme built for the purpose (30-day steps, so windows and periods are whole numbers of steps):

- grades: a record of ``theory.minor`` (-10 points) counts for 3 steps, so a score is
  ``100 - 10 * N`` with N ~ Poisson(3 mu): grade A (N = 0), B (N = 1), C (N >= 2);
- list membership: a ground listed for 4 steps is the chain off -> on1 -> on2 -> on3 -> on4 ->
  (on1 if another ground, else off), whose distribution after T steps from "all off" is
  ``e_off P^T``, computed with numpy.

Tolerance: persons are independent, so a simulated share has standard deviation
sqrt(pi (1 - pi) / N); each share must lie within 4.5 of them (a false alarm about once in
150,000 runs per comparison).
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from socialcredit.cli import app
from socialcredit.schemes.loader import parse_scheme, shipped_registry
from socialcredit.settings import get_settings
from socialcredit.sim.engine import Simulation
from socialcredit.sim.population import synthesize
from socialcredit.sim.scenario import Settings, parse_vs
from tests.support.english import english_lines

THEORY = """
id: theory
title: A scheme for checking the simulator against theory
jurisdiction: nowhere
model:
  base: 100
  grades:
    - {grade: A, min_score: 100}
    - {grade: B, min_score: 85}
    - {grade: C, min_score: 0}
items:
  - {code: theory.minor, title: Minor, area: social, polarity: negative, points: -10, counts_for_days: 90,
     sources: [s], subjects: [person], base_rate_per_year: 2.0, legal_basis: none}
  - {code: theory.ground, title: Ground, area: judicial, polarity: negative, points: 0, counts_for_days: 30,
     sources: [s], subjects: [person], base_rate_per_year: 1.5, legal_basis: none}
lists:
  - id: listed
    title: Listed
    kind: black
    criteria: {items: [theory.ground]}
    period_days: 120
    notice: {required: false, days: 0}
"""
PERSONS = 100_000
STEP = 30
MONTHS = 40


def _close(simulated: float, exact: float, n: int) -> None:
    sd = math.sqrt(max(exact * (1 - exact), 1e-12) / n)
    assert abs(simulated - exact) <= 4.5 * sd, (simulated, exact, sd)


def test_grades_and_list_membership_match_the_markov_chains() -> None:
    scheme = parse_scheme(THEORY)
    settings = Settings(
        scheme="theory",
        due_process=False,
        feedback=False,
        heterogeneity=False,
        error_rate=0.0,
        restore_propensity=0,
    )
    pop = synthesize(PERSONS, seed=3, heterogeneity=False, contacts=0)
    sim = Simulation([scheme], settings, pop, seed=3, months=MONTHS, step=STEP)
    result = sim.run()
    last = result["steps"][-1]
    mu_minor = 2.0 * STEP / 365.25
    mu_ground = 1.5 * STEP / 365.25
    # grades: N ~ Poisson(3 mu)
    lam = 3 * mu_minor
    # Poisson's P(N = 0), P(N = 1) and P(N >= 2), written out: scipy.stats cost each test process
    # about a second to import for these three numbers (decision 0099)
    exact_grades = [math.exp(-lam), lam * math.exp(-lam), 1 - (1 + lam) * math.exp(-lam)]
    for simulated, exact in zip(last["grades"], exact_grades, strict=True):
        _close(simulated / PERSONS, exact, PERSONS)
    # list membership: off, on1..on4
    p = 1 - math.exp(-mu_ground)
    k = 4
    m = np.zeros((k + 1, k + 1))
    m[0, 0], m[0, 1] = 1 - p, p
    for j in range(1, k):
        m[j, j + 1] = 1.0
    m[k, 1], m[k, 0] = p, 1 - p
    start = np.zeros(k + 1)
    start[0] = 1.0
    at_t = start @ np.linalg.matrix_power(m, MONTHS)
    # the stationary distribution, for the record: the chain has mixed by month 40
    w, v = np.linalg.eig(m.T)
    pi = np.real(v[:, np.argmin(abs(w - 1))])
    pi = pi / pi.sum()
    assert abs(at_t[0] - pi[0]) < 1e-3
    _close(last["list_sizes"][0] / PERSONS, 1 - at_t[0], PERSONS)
    # and at every month after the chain has mixed, against the stationary share
    shares = [s["list_sizes"][0] / PERSONS for s in result["steps"][20:]]
    assert abs(float(np.mean(shares)) - (1 - pi[0])) < 4.5 * math.sqrt(pi[0] * (1 - pi[0]) / PERSONS)


def _run(seed: int, **kw: object) -> dict[str, object]:
    pop = synthesize(3000, seed=seed)
    settings = Settings(black_market=0.05, relationships=0.2, **kw)  # type: ignore[arg-type]
    return Simulation(list(shipped_registry().schemes.values()), settings, pop, seed=seed, months=18).run()


def test_runs_are_reproducible_by_seed() -> None:
    a, b, c = _run(5), _run(5), _run(6)
    assert json.dumps(a, sort_keys=True, default=float) == json.dumps(b, sort_keys=True, default=float)
    assert json.dumps(a, sort_keys=True, default=float) != json.dumps(c, sort_keys=True, default=float)


def test_due_process_objections_correct_wrong_records() -> None:
    on = _run(9, error_rate=0.05)
    off = _run(9, error_rate=0.05, due_process=False)
    filed = sum(s["objections"]["filed"] for s in on["steps"])  # type: ignore[index, union-attr]
    corrected = sum(s["objections"]["corrected"] for s in on["steps"])  # type: ignore[index, union-attr]
    assert filed > 0 and 0 < corrected <= filed
    assert sum(s["objections"]["filed"] for s in off["steps"]) == 0  # type: ignore[index, union-attr]


def test_black_market_is_caught_by_the_anomaly_check_not_by_source_accuracy() -> None:
    from socialcredit.sim.report import totals

    t = totals(_run(4))  # type: ignore[arg-type]
    bm = t["black_market"]
    assert bm["buyers"] > 0 and bm["mean_score_inflation_at_end"] > 20
    assert bm["caught_by_anomaly_check"] and not bm["caught_by_source_accuracy"]


def test_vs_syntax() -> None:
    base = Settings()
    assert parse_vs("due-process=off", base) == Settings(due_process=False)
    assert parse_vs("suining-2010,black-market=0.1", base) == Settings(
        scheme="suining-2010", black_market=0.1
    )
    assert parse_vs("sesame,withdrawal=0.05", base) == Settings(scheme="sesame", withdrawal=0.05)
    assert "withdrawal 0.05/month" in Settings(scheme="sesame", withdrawal=0.05).label()
    for bad in ("", "colour=red", "due-process=maybe", "error-rate=2", "rongcheng"):
        with pytest.raises(ValueError):
            parse_vs(bad, base)


def test_simulate_command_writes_the_report(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIALCREDIT_HOME", str(tmp_path / "home"))
    out = tmp_path / "report"
    args = ["simulate", "--population", "2000", "--years", "1", "--seed", "2", "--vs", "due-process=off"]
    result = CliRunner().invoke(app, [*args, "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "report.json").read_text())
    assert [s["label"] for s in doc["summary"]] == ["rongcheng, due process on", "rongcheng, due process off"]
    assert len(doc["arms"][0]["steps"]) == 12
    html = (out / "report.html").read_text()
    for svg in ("mean_score.svg", "punished.svg", "spiral.svg", "grades.svg"):
        assert (out / svg).stat().st_size > 1000 and svg in html
    bad = CliRunner().invoke(app, ["simulate", "--scheme", "court-dishonest-debtors", "--out", str(out)])
    assert bad.exit_code == 2 and "no scoring model" in bad.output


def test_simulate_speaks_the_readers_language(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 18: every CLI message in the language of its users. ``simulate``'s summary lines
    (and a refusal's hint) read in Chinese under ``--lang zh-CN``, with no English sentence left;
    the figures are the same in both."""
    monkeypatch.setenv("SOCIALCREDIT_HOME", str(tmp_path / "home"))
    args = ["simulate", "--population", "300", "--years", "1", "--seed", "3"]
    zh = CliRunner().invoke(app, ["--lang", "zh-CN", *args, "--out", str(tmp_path / "zh")])
    en = CliRunner().invoke(app, ["--lang", "en", *args, "--out", str(tmp_path / "en")])
    assert zh.exit_code == en.exit_code == 0, zh.output
    assert "平均分" in zh.stdout and "报告" in zh.stdout and english_lines(zh.stdout) == [], zh.stdout
    assert "mean score" in en.stdout and "mean score" not in zh.stdout
    numbers = re.compile(r"\d[\d,.]*")
    [zh_line] = [line for line in zh.stdout.splitlines() if "平均分" in line]
    [en_line] = [line for line in en.stdout.splitlines() if "mean score" in line]
    assert numbers.findall(zh_line) == numbers.findall(en_line)  # the same figures, worded


def test_simulate_runs_a_city_scheme_that_decays_and_the_factor_scheme(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The enterprise rating (organisations only) runs, and a city's own scheme file with a decaying
    item is simulated with its decay (issue 15: the
    simulator once ignored half_life_days silently), and so is Sesame's factor model, scoring only
    the share of persons who joined it."""
    home = tmp_path / "home"
    (home / "schemes").mkdir(parents=True)
    data = json.loads(shipped_registry().scheme("suining-2010").model_dump_json())
    data["id"], data["items"][0]["half_life_days"] = "suining-decay", 180
    (home / "schemes" / "suining-decay.yaml").write_text(json.dumps(data))  # JSON is YAML
    monkeypatch.setenv("SOCIALCREDIT_HOME", str(home))
    get_settings.cache_clear()  # the settings are read once per process
    try:
        for scheme, extra in (
            ("enterprise-credit", []),
            ("suining-decay", []),
            ("sesame", ["--vs", "enrolment=0.9"]),
        ):
            out = tmp_path / scheme
            args = ["simulate", "--scheme", scheme, "--population", "2000", "--years", "1", *extra]
            result = CliRunner().invoke(app, [*args, "--out", str(out), "--json"])
            assert result.exit_code == 0, result.output
            doc = json.loads((out / "report.json").read_text())
            assert doc["arms"][0]["scheme"] == scheme
        scored = [arm["steps"][-1]["scored_persons"] for arm in doc["arms"]]
        assert 0.4 * 2000 < scored[0] < 0.6 * 2000 < 0.8 * 2000 < scored[1]  # 50 % joined, then 90 %
    finally:
        get_settings.cache_clear()


def test_bench_runs(capsys: pytest.CaptureFixture[str]) -> None:
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "bench" / "simulate.py"
    spec = importlib.util.spec_from_file_location("bench_simulate", path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = mod.main(["--persons", "2000", "--months", "3", "--quiet"])
    assert out["months"] == 3 and out["run_seconds"] >= 0
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1])["persons"] == 2000


def test_objection_spans_are_the_live_rules() -> None:
    """The simulator's open spans of an objection equal ``open_spans`` of the live rule, folded
    from the same events, on every path: upheld, rejected, appealed and upheld or rejected."""
    import datetime as dt

    from socialcredit.dueprocess.cases import CaseEvent
    from socialcredit.dueprocess.suspension import open_spans
    from socialcredit.sim.suspension import objection_spans

    rng = np.random.default_rng(11)
    n = 400
    filed = 740_000 + rng.integers(0, 300, n)
    decided = filed + rng.integers(1, 16, n)
    upheld = rng.random(n) < 0.5
    appealed = ~upheld & (rng.random(n) < 0.6)
    appeal_filed = decided + rng.integers(1, 11, n)
    appeal_decided = appeal_filed + rng.integers(1, 16, n)
    appeal_upheld = appealed & (rng.random(n) < 0.5)
    corrected = np.where(upheld, decided, appeal_decided) + rng.integers(1, 6, n)
    which, start, end = objection_spans(
        filed, decided, upheld, appealed, appeal_filed, appeal_decided, appeal_upheld, corrected
    )

    def event(kind: str, day: np.int64, **payload: object) -> CaseEvent:
        at = dt.datetime.combine(dt.date.fromordinal(int(day)), dt.time(9))
        return CaseEvent("o", "objection", kind, at, "s", None, "subject", payload)

    paths = set()
    for k in range(n):
        events = [event("filed", filed[k], statement="not mine", record_ids=["r"])]
        events.append(event("decided", decided[k], upheld=bool(upheld[k])))
        if appealed[k]:
            events.append(event("appealed", appeal_filed[k], statement="still not mine"))
            events.append(event("appeal_decided", appeal_decided[k], upheld=bool(appeal_upheld[k])))
        if upheld[k] or appeal_upheld[k]:
            events.append(event("corrected", corrected[k], records=["w"]))
        paths.add(tuple(e.kind for e in events) + (bool(upheld[k] or appeal_upheld[k]),))
        live = [(a.date().toordinal(), b.date().toordinal() if b else None) for a, b in open_spans(events)]
        mine = [(int(a), int(b)) for a, b in zip(start[which == k], end[which == k], strict=True)]
        assert mine == live, (k, events)
    assert len(paths) == 4  # upheld; rejected; appealed and upheld; appealed and rejected


def test_a_suspending_list_stops_its_measures_while_an_objection_is_open() -> None:
    """The same population under the court's list as shipped (measures stay during an objection)
    and under a variant that suspends them: the same listings month by month (suspension does
    not unlist), fewer measures and fewer wrongly punished person-days with suspension. Its
    grounds are 20 times as frequent as shipped, so that wrong listings objected to are not
    left to chance in a small run."""
    from socialcredit.schemes.model import Scheme

    def court(during: str) -> list[Scheme]:
        out = []
        for s in shipped_registry().schemes.values():
            if s.id == "court-dishonest-debtors":
                grounds = set(s.lists[0].qualifying_items)
                items = [
                    i.model_copy(update={"base_rate_per_year": i.base_rate_per_year * 20})
                    if i.code in grounds
                    else i
                    for i in s.items
                ]
                lists = [x.model_copy(update={"during_objection": during}) for x in s.lists]
                s = s.model_copy(update={"items": items, "lists": lists})
            out.append(s)
        return out

    pop = synthesize(3000, seed=3)
    # feedback off: suspension does not move anyone's life, so both runs draw the same records
    settings = Settings(feedback=False, error_rate=0.05, object_propensity=1.0, restore_propensity=0.0)
    stay = Simulation(court("stay"), settings, pop, seed=3, months=18).run()
    suspend = Simulation(court("suspend"), settings, pop, seed=3, months=18).run()
    for a, b in zip(stay["steps"], suspend["steps"], strict=True):
        assert a["list_sizes"] == b["list_sizes"] and a["objections"] == b["objections"]
        assert all(x >= y for x, y in zip(a["measures_applied"], b["measures_applied"], strict=True))
        assert a["list_suspended"] == [0] * len(a["list_sizes"])
    suspended = sum(s["suspended_entry_days"] for s in suspend["steps"])
    assert suspended > 0 and sum(s["suspended_entry_days"] for s in stay["steps"]) == 0
    wrong_stay = sum(s["wrongly_punished_person_days"] for s in stay["steps"])
    wrong_suspend = sum(s["wrongly_punished_person_days"] for s in suspend["steps"])
    assert wrong_suspend < wrong_stay
