"""Lists by grade, one definition, three evaluations: ``lists.entries_for`` one subject at a time,
``engines.gradelists`` on DuckDB and the same on Spark (the session's one ``spark`` fixture) must
give the same entries, field for field, on a small synthetic city.

Besides the shipped lists by grade (Rongcheng's honour roll and D list on the points model, the
enterprise red rating on the tier model), two variants put lists on scores that move a lot: a
points scheme whose items decay (so the history has decay steps) with a maximum and close grade
thresholds, and a tier scheme with decaying items and rules on sums of points. Hand-made histories
give entries that expire while the grade still meets the list, end on a change of grade before
their planned end (one after it leaves them expired), recover inside the notice period (never
listed), are pending at the time asked, and are withdrawn between the two times."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from socialcredit import synth
from socialcredit.dueprocess.suspension import apply_suspensions
from socialcredit.engines import gradelists
from socialcredit.engines.base import Engine
from socialcredit.engines.duck import DuckDBEngine
from socialcredit.engines.export import export_ledger
from socialcredit.engines.listing import population_listing, refused, relational_lists
from socialcredit.lists import entries_for
from socialcredit.schemes import shipped_registry
from socialcredit.schemes.loader import Registry
from socialcredit.schemes.model import Scheme
from socialcredit.service import System
from socialcredit.store import Store
from socialcredit.subjects import SubjectRow
from tests.conftest import Clock, org, person
from tests.support.engines import (
    AS_OF,
    COL,
    END,
    MID,
    NOW,
    City,
    corrections,
    entry_row,
    factor_variant,
    ledger_records,
    list_rows,
    objections_at,
    records_by_subject,
    row_builder,
    tier_variant,
)

# a city, its lists by grade walked subject by subject in Python, then on DuckDB and on Spark
pytestmark = pytest.mark.slow

SHIPPED = shipped_registry()


def _with_lists(data: dict[str, Any], lists: list[dict[str, Any]]) -> Scheme:
    template = SHIPPED.scheme("rongcheng").lists[1].model_dump()
    data["lists"] = [{**template, **lst} for lst in lists]
    return Scheme.model_validate(data)


def _points_variant() -> Scheme:
    """rongcheng with decaying items, a maximum, close thresholds and short list periods, so the
    synthetic city's ordinary records move subjects on and off both lists."""
    data = SHIPPED.scheme("rongcheng").model_dump()
    for k, item in enumerate(data["items"]):
        item["half_life_days"] = (None, 30, 180, 400)[k % 4]
    data["id"] = "rongcheng-decay"
    data["model"]["maximum"] = 1040
    data["model"]["grades"] = [
        {"grade": g, "min_score": m} for g, m in (("AAA", 1015), ("AA", 1008), ("A", 985), ("B", 970),
                                                  ("C", 950), ("D", 0))
    ]  # fmt: skip
    return _with_lists(
        data,
        [
            {"id": "high", "title": "AA or better", "kind": "red", "period_days": 90,
             "criteria": {"grade_at_least": "AA"}, "notice": {"required": True, "days": 5}},
            {"id": "low", "title": "C or worse", "period_days": 120,
             "criteria": {"grade_at_most": "C"}, "notice": {"required": True, "days": 10}},
            # the base grade (A) meets it: an entry opens on a subject's first record, whatever it is
            {"id": "plain", "title": "A or worse", "period_days": 200,
             "criteria": {"grade_at_most": "A"}, "notice": {"required": False, "days": 0}},
        ],
    )  # fmt: skip


def _tier_variant_listed() -> Scheme:
    """The tier variant of tests/test_engines_models.py (decay, rules on sums of points and
    windows) with a list at each end."""
    data = tier_variant().model_dump()
    data["id"] = "honest-shanghai-listed"
    return _with_lists(
        data,
        [
            {"id": "bad", "title": "rated bad", "period_days": 90,
             "criteria": {"grade_at_most": "bad"}, "notice": {"required": True, "days": 10}},
            {"id": "very-good", "title": "rated very good", "kind": "red", "period_days": 60,
             "criteria": {"grade_at_least": "very-good"}, "notice": {"required": False, "days": 0}},
            # the default tier meets it: an entry opens only when the tier first moves
            {"id": "not-bad", "title": "rated good or better", "kind": "red", "period_days": 100,
             "criteria": {"grade_at_least": "good"}, "notice": {"required": True, "days": 10}},
        ],
    )  # fmt: skip


def _factor_variant_listed() -> Scheme:
    """The factor variant of tests/test_engines_models.py (sesame scoring everyone, decaying items)
    with a list at each end: the score is a map of sums, in floating point, on every change day."""
    data = factor_variant().model_dump()
    data["id"], data["measures"] = "sesame-listed", []  # its measures name the shipped scheme
    return _with_lists(
        data,
        [
            {"id": "fair-or-worse", "title": "rated fair or worse", "period_days": 90,
             "criteria": {"grade_at_most": "fair"}, "notice": {"required": True, "days": 5}},
            {"id": "excellent", "title": "rated excellent", "kind": "red", "period_days": 60,
             "criteria": {"grade_at_least": "excellent"}, "notice": {"required": False, "days": 0}},
        ],
    )  # fmt: skip


VARIANTS = [_points_variant(), _tier_variant_listed(), _factor_variant_listed()]
SCHEMES = [SHIPPED.scheme("rongcheng"), SHIPPED.scheme("enterprise-credit"), *VARIANTS]
GRADED = [(s, lst) for s, lst in relational_lists(SCHEMES) if gradelists.by_grade(lst)]
Entry = tuple[Any, ...]
HAND_PERSONS = [person(n) for n in range(900, 906)]
HAND_ORGS = [org(n) for n in range(9000, 9003)]


def _histories(persons: list[str], orgs: list[str]) -> list[dict[str, Any]]:
    """Hand-made histories under the shipped lists by grade (see the module docstring)."""
    rows: list[dict[str, Any]] = []
    add = row_builder(rows, "grade")

    fraud, refuses = "court.fraud-conviction", "court.dishonest.able-but-refuses"
    p, o = persons, orgs
    for k in range(4):  # 600 points (C) for three persons
        for who in p[:3]:
            add(who, fraud, f"2023-0{k + 1}-10", f"2023-0{k + 1}-11T09:00:00")
    # D from 2024-01-01 until 2025-12-31: expired at MID (still D), still expired at END (the
    # change of grade comes after the planned end and does not reach back)
    add(p[0], refuses, "2024-01-01", "2024-01-01T10:00:00")
    # D for a week before the record leaves retention: recovered inside the notice, never listed;
    # then D again from 2026-03-01, active at END
    add(p[1], refuses, "2023-01-10", "2025-01-02T10:00:00")
    add(p[1], refuses, "2026-03-01", "2026-03-02T10:00:00")
    # D three days before END: noticed, pending
    add(p[2], refuses, "2026-10-28", "2026-10-28T10:00:00")
    # AAA from 2023-06-01: expired while AAA; a change long after its planned end leaves it expired
    add(p[3], "honour.model-worker", "2023-06-01", "2023-06-01T10:00:00")
    add(p[3], "traffic.minor", "2025-03-01", "2025-03-02T10:00:00")
    # AAA, withdrawn after MID: listed at MID, never at END
    gone = add(p[4], "honour.model-worker", "2025-01-01", "2025-01-01T10:00:00")
    add(p[4], "honour.model-worker", "2025-01-01", "2026-01-10T10:00:00", action="withdraw",
        corrects_source_record_id=gone["source_record_id"])  # fmt: skip
    # the enterprise rating: red for the 730-day window of a serious violation
    add(o[0], "food.safety-violation", "2024-02-01", "2024-02-03T10:00:00")
    # red for four days, reported late: recovered inside the notice
    add(o[1], "customs.violation", "2023-01-10", "2025-01-05T10:00:00")
    # red at END, and a person's serious record (persons are not rated)
    add(o[2], "labour.wage-arrears", "2026-05-01", "2026-05-02T10:00:00")
    add(p[5], "court.dishonest.evades-enforcement", "2026-05-01", "2026-05-02T10:00:00")
    return rows


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    root = tmp_path_factory.mktemp("grades-city")
    store = Store(f"sqlite:///{root / 'city.db'}")
    clock = Clock(NOW)
    system = System(store, SHIPPED, clock=clock)
    c = synth.generate_city(residents=200, organisations=30, seed=41, registry=system.registry)
    system.register(c.subjects)
    rows = list(synth.generate_records(c, registry=system.registry, seed=41))
    res = system.ingest(enumerate(rows, start=1), origin="test city", principal=system.operator())
    assert res.quarantined == 0, res.quarantine
    records = [r for page in store.iter_records() for r in page]
    # the hand-made histories are of subjects of their own, so no synthetic record moves them
    system.register([SubjectRow(c, "person", name=f"Hand {n}") for n, c in enumerate(HAND_PERSONS)])
    system.register([SubjectRow(c, "organisation", name=f"Hand {n} Ltd") for n, c in enumerate(HAND_ORGS)])
    fixes = corrections(records, rng_seed=9, count=30) + _histories(HAND_PERSONS, HAND_ORGS)
    res = system.ingest(enumerate(fixes, start=1), origin="fixes", principal=system.operator())
    assert res.quarantined == 0, res.quarantine
    records = [r for page in store.iter_records() for r in page]
    # objections to lists by grade: open at END (an active D entry, a red rating), and one
    # rejected before END (a pending D entry): each suspends its filer's entries on that list
    op = system.operator()
    p, o, d = HAND_PERSONS, HAND_ORGS, "rongcheng/d-grade"
    clock.now = dt.datetime(2026, 3, 20, 9)
    system.file_objection(principal=op, subject=p[1], list_id=d, statement="the arrears were paid")
    clock.now = dt.datetime(2026, 6, 1, 9)
    system.file_objection(principal=op, subject=o[2], list_id="enterprise-credit/red-rated", statement="paid")
    clock.now = dt.datetime(2026, 10, 29, 9)
    rejected = system.file_objection(principal=op, subject=p[2], list_id=d, statement="not me")
    clock.now = dt.datetime(2026, 10, 30, 9)
    system.decide_objection(principal=op, objection_id=rejected.id, upheld=False, reason="it is")
    clock.now = NOW
    export_ledger(store, root / "export")
    subjects = [
        (s["code"], s["kind"]) for s in pq.read_table(root / "export" / "subjects.parquet").to_pylist()
    ]
    yield City(root / "export", system, records, subjects, store.representatives())
    store.close()


def core_entries(city: City, as_of: dt.datetime) -> list[Entry]:
    """The reference: ``lists.entries_for`` one subject at a time (its effective records), each
    scheme in a registry of its own (the variants share the shipped catalogue's item codes), then
    ``apply_suspensions`` with the subject's objections at ``as_of``."""
    objections = objections_at(city.system.store, as_of)
    by_subject = records_by_subject(city, as_of)
    wanted = {f"{s.id}/{lst.id}" for s, lst in GRADED}
    out = []
    for scheme in SCHEMES:
        registry = Registry.of([scheme])
        for code, _kind in city.subjects:
            found = entries_for(code, by_subject.get(code, []), registry, as_of)
            for e in apply_suspensions(found, objections.get(code, []), registry):
                if e.qualified_id in wanted:
                    out.append(entry_row(e, {}))
    return sorted(out, key=repr)


def engine_entries(engine: Engine, city: City, as_of: dt.datetime) -> list[Entry]:
    expr = gradelists.population_grade_listing(
        ledger_records(engine, city),
        engine.subjects(city.directory),
        engine.table(gradelists.item_table(SCHEMES), "grade_items"),
        GRADED,
        as_of,
        objections=engine.objections(city.directory),
    )
    return list_rows(engine, expr)


@pytest.fixture(scope="module")
def entries(city: City) -> dict[dt.datetime, list[Entry]]:
    return {at: core_entries(city, at) for at in AS_OF}


def test_every_list_by_grade_is_derived() -> None:
    """Every list by grade of a points or tier model is relational: nothing shipped is refused."""
    assert {f"{s.id}/{lst.id}" for s, lst in GRADED} == {
        "rongcheng/honour-roll", "rongcheng/d-grade", "enterprise-credit/red-rated",
        "rongcheng-decay/high", "rongcheng-decay/low", "rongcheng-decay/plain",
        "honest-shanghai-listed/bad", "honest-shanghai-listed/very-good", "honest-shanghai-listed/not-bad",
        "sesame-listed/fair-or-worse", "sesame-listed/excellent",
    }  # fmt: skip
    assert refused(list(SHIPPED.schemes.values())) == {}
    rongcheng = SHIPPED.scheme("rongcheng")
    engine = DuckDBEngine()
    t = engine.table(gradelists.item_table([]), "nothing")
    with pytest.raises(ValueError, match="rongcheng/d-grade: a list by grade: gradelists"):
        population_listing(t, t, [(rongcheng, rongcheng.lists[1])], END, calendar=t, objections=t)
    court = SHIPPED.scheme("court-dishonest-debtors")
    with pytest.raises(ValueError, match="not a list by grade"):
        gradelists.population_grade_listing(t, t, t, [(court, court.lists[0])], END, objections=t)
    engine.close()


def test_a_list_by_grade_on_contacts_is_refused() -> None:
    """A factor model's list by grade is derived, unless its relationships factor counts: no
    export holds contacts' scores, so the list is named as refused, not guessed."""
    data = _factor_variant_listed().model_dump()
    for f in data["model"]["factors"]:
        if f["source"] == "contacts":
            f["enabled"] = True
    scheme = Scheme.model_validate({**data, "id": "sesame-contacts"})
    assert set(refused([scheme])) == {"sesame-contacts/fair-or-worse", "sesame-contacts/excellent"}
    assert "relationships factor" in refused([scheme])["sesame-contacts/excellent"]
    assert relational_lists([scheme]) == [] and not gradelists.derivable(scheme)
    assert refused([_factor_variant_listed()]) == {}


def test_the_lists_by_grade_are_exercised(entries: dict[dt.datetime, list[Entry]]) -> None:
    """Every list has entries; between them every status, both ends (a change of grade before
    the planned end, expiry, and none ending after its planned end), a recovery inside the notice
    period, and the lists differ between the two times."""
    end = entries[END]
    for s, lst in GRADED:
        assert any(e[0] == f"{s.id}/{lst.id}" for e in end), f"{s.id}/{lst.id} has no entry"
    assert {e[3] for e in end} == {"pending", "active", "removed", "expired"}
    assert any(e[9] == "grade changed" and e[8] < e[7] for e in end), "ended before its planned end"
    assert not any(e[8] is not None and e[8] > e[7] for e in end), "no entry ends after its planned end"
    assert any(e[9] == "expired" and e[COL["grade"]] is not None for e in end), "expired while still meeting"
    assert entries[MID] != [e for e in end if e[5] <= MID.date()]
    reasons = Counter(e[9] for e in end)
    assert reasons["grade changed"] > 5 and reasons["expired"] > 5, reasons
    suspended = {(e[0], e[1]) for e in end if e[COL["suspended_by"]] is not None}
    red = "enterprise-credit/red-rated"
    assert suspended == {("rongcheng/d-grade", HAND_PERSONS[1]), (red, HAND_ORGS[2])}
    assert not any(e[COL["suspended_by"]] for e in entries[MID]), "nothing filed by MID"


def test_the_hand_made_histories(entries: dict[dt.datetime, list[Entry]]) -> None:
    """The reference itself on the hand-made subjects, so the cases the engines are held to are
    the ones the module docstring names: a D week and four red days recovered inside the notice
    (no entry), an entry expired at MID that a later change of grade leaves expired at END (the
    same answer about the same days, whenever asked), one pending."""

    def of(who: str, lst: str, at: dt.datetime) -> list[tuple[Any, ...]]:
        return [(e[3], e[5], e[8], e[9], e[COL["grade"]]) for e in entries[at] if e[1] == who and e[0] == lst]

    p, o, d, red = HAND_PERSONS, HAND_ORGS, "rongcheng/d-grade", "enterprise-credit/red-rated"
    day = dt.date
    assert of(p[0], d, MID) == [("expired", day(2024, 1, 11), None, "expired", "D")]
    # the same entry asked about at END: a change of grade after its planned end leaves it expired
    assert of(p[0], d, END) == [("expired", day(2024, 1, 11), None, "expired", None)]
    assert of(p[1], d, END) == [("active", day(2026, 3, 12), None, None, "D")]  # not the January week
    assert of(p[2], d, END) == [("pending", day(2026, 11, 7), None, None, "D")]
    honour = "rongcheng/honour-roll"
    assert of(p[3], honour, END) == [("expired", day(2023, 6, 1), None, "expired", None)]
    assert of(p[4], honour, MID) == [("active", day(2025, 1, 1), None, None, "AAA")]
    assert of(p[4], honour, END) == []
    # red until 2026-01-31, past the entry's 365 days: expired, not removed
    assert of(o[0], red, END) == [("expired", day(2024, 2, 13), None, "expired", None)]
    assert of(o[1], red, END) == []
    assert of(o[2], red, END) == [("active", day(2026, 5, 12), None, None, "red")]
    assert of(p[5], red, END) == []


@pytest.mark.parametrize("at", AS_OF, ids=["mid", "end"])
def test_duckdb_grade_entries_match_core(
    city: City, entries: dict[dt.datetime, list[Entry]], at: dt.datetime
) -> None:
    engine = DuckDBEngine()
    got = engine_entries(engine, city, at)
    want = entries[at]
    assert got == want, [e for e in got if e not in want][:3] + [None] + [e for e in want if e not in got][:3]
    engine.close()


def test_spark_grade_entries_match_core(
    spark: Any, city: City, entries: dict[dt.datetime, list[Entry]]
) -> None:
    from socialcredit.engines.spark import SparkEngine

    got = engine_entries(SparkEngine(spark), city, END)
    want = entries[END]
    assert got == want, [e for e in got if e not in want][:3] + [None] + [e for e in want if e not in got][:3]


def _decay_cases() -> pa.Table:
    """Records of every size of points from -100 to 100 under half-lives from a day to years,
    counting ten years from day 0 (and some first counted late, reported after they occurred)."""
    rows = []
    for points in range(-100, 101):
        for half_life in (1, 3, 7, 30, 90, 180, 365, 400, 730, 1000):
            for start in (0, 45):
                if points:
                    rows.append((len(rows), points, half_life, start))
    seq, points, half_life, start = (list(c) for c in zip(*rows, strict=True))
    n = len(rows)
    return pa.table(
        {"seq": seq, "subject": ["x"] * n, "subject_no": [0] * n, "item": ["i"] * n, "points": points,
         "half_life": half_life, "occ": [0] * n, "start": start, "end": [3650] * n},
        schema=pa.schema([("seq", pa.int64()), ("subject", pa.string()), ("subject_no", pa.int64()),
                          ("item", pa.string()), ("points", pa.int64()), ("half_life", pa.int64()),
                          ("occ", pa.int64()), ("start", pa.int64()), ("end", pa.int64())]),
    )  # fmt: skip


@pytest.mark.parametrize("name", ["duckdb", "spark"])
def test_decay_steps_are_the_per_subject_bisection(request: pytest.FixtureRequest, name: str) -> None:
    """Every day a decaying record's whole points step, as ``scoring.points._decay_steps`` finds
    them by bisection, and no other: over every size of points and a range of half-lives, on each
    engine (the logarithm that predicts a step is each engine's own)."""
    from socialcredit.scoring.points import _decay_steps

    if name == "spark":
        from socialcredit.engines.spark import SparkEngine

        engine: Engine = SparkEngine(request.getfixturevalue("spark"))
    else:
        engine = DuckDBEngine()
    cases = _decay_cases()
    last = 3000  # before the records stop counting: the steps up to the time asked
    got = {
        (r["seq"], r["age"])
        for r in engine.to_arrow(gradelists._step_ages(engine.table(cases, "decay"), last)).to_pylist()
    }
    day0 = dt.date(2000, 1, 1)
    want = set()
    for r in cases.to_pylist():
        start = day0 + dt.timedelta(days=r["start"])
        steps = _decay_steps(r["points"], r["half_life"], day0, start, day0 + dt.timedelta(days=last))
        want |= {(r["seq"], (d - day0).days) for d, _ in steps[1:]}
    assert len(want) > 10_000
    assert got == want, (sorted(got - want)[:5], sorted(want - got)[:5])
