"""No silent field, and one definition of every rule (issue 15).

Every evaluator (the per-subject walk, the relational engines, the simulator) declares every field
of every scheme model as read, refused or inert (``socialcredit.rules.fields``); each refusal is
made by the evaluator's real entry point with a message naming the field. The kernel's formulas
are the ones each evaluator computes with, so their doctests run here too."""

from __future__ import annotations

import ast
import datetime as dt
import doctest
import re
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from socialcredit.criteria import grade as grade_criterion
from socialcredit.engines import listing, relational
from socialcredit.engines import ops as engine_ops
from socialcredit.engines.duck import DuckDBEngine
from socialcredit.engines.fields import RELATIONAL
from socialcredit.ledger import Record
from socialcredit.rules import days, fields, kernel, ops
from socialcredit.rules.fields import (
    PER_SUBJECT,
    Declaration,
    ListRefusal,
    Refusal,
    SchemeRefused,
    scheme_fields,
)
from socialcredit.schemes import shipped_registry
from socialcredit.schemes.model import ListCriteria, Scheme
from socialcredit.scoring import points as points_model
from socialcredit.scoring import score, scores_for
from socialcredit.sim.engine import World
from socialcredit.sim.fields import SIMULATOR
from socialcredit.sim.scenario import Settings
from tests.conftest import person

EVALUATORS = [PER_SUBJECT, RELATIONAL, SIMULATOR]
END = dt.datetime(2026, 10, 31, 23, 0)


def _edit(name: str, change: Callable[[dict[str, Any]], None], new_id: str) -> Scheme:
    data = shipped_registry().scheme(name).model_dump()
    change(data)
    data["id"] = new_id
    return Scheme.model_validate(data)


def _half_life(data: dict[str, Any]) -> None:
    data["items"][0]["half_life_days"] = 365


def _contacts(data: dict[str, Any]) -> None:
    for f in data["model"]["factors"]:
        if f["source"] == "contacts":
            f["enabled"] = True


def _opt_in(data: dict[str, Any]) -> None:
    sesame = shipped_registry().scheme("sesame")
    assert sesame.enrolment is not None
    data["enrolment"] = sesame.enrolment.model_dump()
    data["items"].append(sesame.item_index[sesame.enrolment.item].model_dump())
    data["lists"], data["measures"] = [], []  # an opt-in scheme lists nobody by grade


def _unformed() -> Scheme:
    """Rongcheng with its lists by a kind of criterion no evaluator but the per-subject one has a
    form of (built past validation: no such kind is registered; ``tests/test_list_criteria.py``
    registers one)."""
    s = shipped_registry().scheme("rongcheng")
    toy = ListCriteria.model_construct(by="unformed")
    return s.model_copy(
        update={
            "id": "rongcheng-unformed",
            "lists": [x.model_copy(update={"criteria": toy}) for x in s.lists],
        }
    )


SAMPLES: dict[str, Callable[[], Scheme]] = {
    "ListCriteria.by": _unformed,
    "Item.half_life_days": lambda: _edit("rongcheng", _half_life, "rongcheng-decay"),
    "Scheme.enrolment": lambda: _edit("rongcheng", _opt_in, "rongcheng-opt-in"),
    "TierModel.kind": lambda: shipped_registry().scheme("honest-shanghai"),
    "FactorModel.kind": lambda: _edit("sesame", lambda d: d.update(enrolment=None), "sesame-open"),
    "Factor.source": lambda: _edit("sesame", _contacts, "sesame-contacts"),
}
"""For each refused field, a scheme that uses it (built from a shipped one)."""


def _simulate(scheme: Scheme) -> None:
    others = [s for s in shipped_registry().schemes.values() if s.model is None]
    World.of([scheme, *others], Settings(scheme=scheme.id))


def _rescore(scheme: Scheme) -> None:
    engine = DuckDBEngine()
    try:
        t = engine.table(relational.item_table([]), "nothing")
        relational.population_scores(t, t, t, t, [scheme], END)
    finally:
        engine.close()


def _per_subject(scheme: Scheme) -> None:
    score(person(1), [], scheme, END)


ENTRY: dict[str, Callable[[Scheme], None]] = {
    PER_SUBJECT.evaluator: _per_subject,
    RELATIONAL.evaluator: _rescore,
    SIMULATOR.evaluator: _simulate,
}
"""Each evaluator's real entry point for one scheme."""


@pytest.mark.parametrize("decl", EVALUATORS, ids=lambda d: d.evaluator.split(" (")[0])
def test_every_field_of_every_scheme_model_is_declared(decl: Declaration) -> None:
    every = scheme_fields()
    assert len(every) > 100 and "Item.half_life_days" in every
    declared = decl.declared()
    assert [f for f in every if f not in declared] == [], f"{decl.evaluator} leaves fields undeclared"
    assert [f for f in declared if f not in every] == [], "declared fields that no scheme model has"
    both = {f: how for f, how in declared.items() if "inert" in how and len(how) > 1}
    assert both == {}, "a field is inert, or it is read or refused, never both"


def test_the_walk_finds_fields_through_unions_and_lists() -> None:
    every = scheme_fields()
    for name in (
        "Condition.points_at_most",
        "Factor.map",
        "GradeCriteria.grade_at_most",
        "Trigger.score_below",
    ):
        assert name in every


REFUSALS = [(d, r) for d in EVALUATORS for r in d.refused]


@pytest.mark.parametrize(
    "decl,refusal", REFUSALS, ids=[f"{d.evaluator.split()[1]}-{r.field}" for d, r in REFUSALS]
)
def test_each_refusal_is_made_by_the_entry_point_naming_the_field(
    decl: Declaration, refusal: Refusal
) -> None:
    scheme = SAMPLES[refusal.field]()
    assert list(refusal.used(scheme)), "the sample uses the field"
    with pytest.raises(SchemeRefused, match=re.escape(refusal.field)) as caught:
        ENTRY[decl.evaluator](scheme)
    assert scheme.id in str(caught.value)


LIST_REFUSALS = [(d, r) for d in EVALUATORS for r in d.lists]


@pytest.mark.parametrize(
    "decl,refusal", LIST_REFUSALS, ids=[f"{d.evaluator.split()[1]}-{r.field}" for d, r in LIST_REFUSALS]
)
def test_a_list_refusal_skips_the_list_by_name_and_not_its_scheme(
    decl: Declaration, refusal: ListRefusal
) -> None:
    """A field of one list (a kind of criterion with no population form) skips that list, named
    with the field, at the evaluator's entry point; its scheme is still computed (decision 0063)."""
    scheme = SAMPLES[refusal.field]()
    skipped = decl.skipped(scheme)
    assert skipped and all(refusal.field in why for why in skipped.values())
    assert set(skipped) == {f"{scheme.id}/{lst.id}" for lst in scheme.lists}
    decl.check(scheme)  # not refused
    if decl is RELATIONAL:
        assert listing.refused([scheme]) == skipped
    if decl is SIMULATOR:
        others = [s for s in shipped_registry().schemes.values() if s.model is None]
        world = World.of([scheme, *others], Settings(scheme=scheme.id))
        assert set(skipped) <= set(world.skipped) and not set(skipped) & set(world.list_ids)


def test_every_shipped_scheme_the_simulator_can_run_is_not_refused() -> None:
    """Refusals are of what a scheme uses: the shipped points and factor schemes pass the
    simulator's."""
    for sid in ("rongcheng", "suining-2010", "sesame"):
        _simulate(shipped_registry().scheme(sid))


def test_the_half_life_drift_cannot_come_back() -> None:
    """Issue 15: "With a 365-day half-life on one Rongcheng item, `score` gives 950 and the
    simulator's model 900, silently." Now the point of service decays the record (-100 halved after
    a year), the relational engines agree (tests/test_engines.py, decaying variant), and the
    simulator reads the field: its schedule of the record's points is the kernel's at every age
    (and tests/test_sim_parity.py holds a decaying Rongcheng to the live rules month by month)."""
    code = "court.dishonest.able-but-refuses"
    scheme = _edit(
        "rongcheng",
        lambda d: next(i for i in d["items"] if i["code"] == code).update(half_life_days=365),
        "rongcheng-decay",
    )
    day = dt.date(2025, 10, 31)
    rec = Record(
        record_id="r1", seq=1, subject=person(1), item=code, source="court",
        subject_kind="person", source_record_id="c-1", occurred_on=day,
        reported_at=dt.datetime.combine(day, dt.time(12)),
    )  # fmt: skip
    at = dt.datetime.combine(day + dt.timedelta(days=365), dt.time(23))
    assert scores_for(person(1), "person", [rec], [scheme], at)["rongcheng-decay"].score == 950
    assert "Item.half_life_days" in SIMULATOR.read
    others = [s for s in shipped_registry().schemes.values() if s.model is None]
    world = World.of([scheme, *others], Settings(scheme=scheme.id))
    values = world.decay[world.items.index(code)]
    assert values[365] == -50 and values[0] == -100
    assert values.tolist() == [points_model.decayed_points(-100, a, 365) for a in range(len(values))]


@pytest.mark.parametrize(
    "module", [kernel, ops, fields, points_model, grade_criterion], ids=lambda m: m.__name__
)
def test_kernel_doctests(module: ModuleType) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def test_each_formula_gives_the_same_on_every_evaluator() -> None:
    """The kernel's formulas on plain Python, NumPy arrays and DuckDB give the same values on a
    grid of inputs: decay (including a half-life of one day), clamp, grade, the factor map, the end
    of a period in calendar years and the day of a moment in China."""
    np = pytest.importorskip("numpy")
    from socialcredit.sim.ops import NP

    ages = list(range(0, 800, 7))
    half_lives: list[int | None] = [None, 1, 30, 90, 365, 730]
    rong = shipped_registry().scheme("rongcheng")
    sesame = shipped_registry().scheme("sesame")
    assert rong.model is not None and sesame.model is not None
    factor = sesame.model.factors[0]  # type: ignore[union-attr]
    engine = DuckDBEngine()
    try:
        import ibis

        for h in half_lives:
            py = [kernel.decayed(-50, a, h, ops.PY) for a in ages]
            hv = np.full(len(ages), np.nan if h is None else float(h))
            assert np.asarray(kernel.decayed(np.full(len(ages), -50), np.array(ages), hv, NP)).tolist() == py
            t = ibis.memtable({"age": ages}).mutate(h=ibis.literal(h, type="int64"))
            expr = t.select(v=kernel.decayed(ibis.literal(-50, type="int64"), t.age, t.h, engine_ops.IBIS))
            assert engine.to_arrow(expr).column("v").to_pylist() == py
        scores = list(range(-100, 1400, 13))
        py_grades = [kernel.grade_index(s, rong.model.grades, ops.PY) for s in scores]
        assert np.asarray(kernel.grade_index(np.array(scores), rong.model.grades, NP)).tolist() == py_grades
        assert [kernel.clamp(s, 0, 1000, ops.PY) for s in scores] == np.asarray(
            kernel.clamp(np.array(scores), 0, 1000, NP)
        ).tolist()
        values = [float(v) for v in range(-200, 120, 3)]
        py_map = [kernel.mapped(v, factor, ops.PY) for v in values]
        assert np.asarray(kernel.mapped(np.array(values), factor, NP)).tolist() == py_map
        t = ibis.memtable({"v": values})
        assert (
            engine.to_arrow(t.select(m=kernel.mapped(t.v, factor, engine_ops.IBIS))).column("m").to_pylist()
            == py_map
        )
        # calendar years and days in China (each against the calendar: tests/test_court_list.py)
        origin = dt.date(1970, 1, 1).toordinal()
        day_nos = list(range(-7000, 40000, 97))
        for n in (0, 2, 5):
            py_end = [kernel.period_end(d, n, ops.PY, origin) for d in day_nos]
            assert np.asarray(kernel.period_end(np.array(day_nos), n, NP, origin)).tolist() == py_end
            t = ibis.memtable({"d": day_nos})
            expr = t.select(e=kernel.period_end(t.d, n, engine_ops.IBIS, origin))
            assert engine.to_arrow(expr).column("e").to_pylist() == py_end
        zone = days.china()
        secs = list(range(-600_000_000, 2_000_000_000, 7_777_777))
        py_days = [kernel.local_day(x, zone, ops.PY) for x in secs]
        assert np.asarray(kernel.local_day(np.array(secs), zone, NP)).tolist() == py_days
        t = ibis.memtable({"s": secs})
        expr = t.select(d=kernel.local_day(t.s, zone, engine_ops.IBIS))
        assert engine.to_arrow(expr).column("d").to_pylist() == py_days
    finally:
        engine.close()


def test_every_kind_of_model_has_its_population_form_in_its_core_module() -> None:
    """One registry, no per-kind code elsewhere: each kind the per-subject evaluator scores
    (scoring.dispatch.KINDS) carries its population form (feeds and ``score_of``), which gives the
    per-subject score of a subject without records on every shipped scheme of that kind; and no
    module of the engines or the simulator names a kind of model (they run the forms they find)."""
    from socialcredit.scoring.dispatch import KINDS, model_of

    seen = set()
    for scheme in shipped_registry().schemes.values():
        if scheme.model is None:
            continue
        model = model_of(scheme)
        feeds = model.feeds(scheme)
        assert feeds, scheme.id
        zero = model.score_of(scheme, [0] * len(feeds), ops.PY)
        assert zero == score(person(1), [], scheme, END).score == scheme.model.base, scheme.id
        seen.add(model.kind)
    assert seen == set(KINDS)
    src = Path(__file__).resolve().parents[1] / "src" / "socialcredit"
    classes = {"PointsModel", "TierModel", "FactorModel"}
    for path in [*(src / "engines").glob("*.py"), *(src / "sim").glob("*.py")]:
        names = {
            alias.name
            for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.ImportFrom)
            for alias in node.names
        }
        assert not names & classes, f"{path.name} names a kind of model: {names & classes}"
