"""One definition, three evaluations, for the tier and factor models and for list membership: the
core's per-subject answer (``scoring.scores_for``, ``lists.entries_for``), the relational
definitions on DuckDB, and the same definitions on Spark (local mode, a real JVM) must agree for
every subject, on a small synthetic city with corrections, withdrawals, restorations, opt-in
enrolments and hand-made listing histories (extensions, expiries, fulfilment, representatives).

The city is small (about 300 residents) because two cores are shared: each Spark job costs
seconds, so Spark runs each definition once, DuckDB at two times."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from socialcredit import synth
from socialcredit.dueprocess.calendar import add_working_days
from socialcredit.dueprocess.suspension import apply_suspensions
from socialcredit.engines import gradelists, relational
from socialcredit.engines.base import Engine
from socialcredit.engines.duck import DuckDBEngine
from socialcredit.engines.export import export_ledger
from socialcredit.engines.listing import (
    population_listing,
    refused,
    relational_lists,
    working_calendar,
)
from socialcredit.ledger import Record
from socialcredit.lists import entries_for
from socialcredit.schemes import shipped_registry
from socialcredit.schemes.model import FactorModel, ListDef, Scheme, TierModel
from socialcredit.scoring import scores_for
from socialcredit.service import System
from socialcredit.store import Store
from tests.conftest import Clock
from tests.support.engines import (
    AS_OF,
    COL,
    END,
    HOLIDAYS,
    MID,
    NOW,
    City,
    Entry,
    Key,
    corrections,
    entry_row,
    factor_variant,
    ledger_records,
    list_rows,
    objections_at,
    records_by_subject,
    row_builder,
    tier_variant,
    variant,
)

# a city scored and listed in Python, then on DuckDB and on Spark, and rescored on each
pytestmark = pytest.mark.slow


def _tier_opt_in() -> Scheme:
    """honest-shanghai rating only those who applied, by Sesame's enrolment item: the opt-in
    mechanism on a tier model."""
    sesame = shipped_registry().scheme("sesame")
    assert sesame.enrolment is not None
    base = shipped_registry().scheme("honest-shanghai")
    items = [*base.model_dump()["items"], sesame.item_index[sesame.enrolment.item].model_dump()]
    return variant(
        base, {"id": "honest-shanghai-opt-in", "enrolment": sesame.enrolment.model_dump(), "items": items}
    )


SHIPPED = [s for s in shipped_registry().scored() if isinstance(s.model, TierModel | FactorModel)]
TIERS = [s for s in SHIPPED if isinstance(s.model, TierModel)] + [tier_variant(), _tier_opt_in()]
FACTORS = [s for s in SHIPPED if isinstance(s.model, FactorModel)] + [factor_variant()]


def _histories(persons: list[str], orgs: list[str]) -> list[dict[str, Any]]:
    """Hand-made listing and enrolment histories: further grounds, expiry on the boundary day,
    fulfilment, re-listing, a listing withdrawn after MID, the court's periods by ground, its
    extension decisions (once, of a fixed period only, not after it ended), its early removal, a
    removal reported late, a day boundary in China, enrolments withdrawn and moved."""
    rows: list[dict[str, Any]] = []
    add = row_builder(rows, "hist")

    def ref(row: dict[str, Any]) -> str:
        """A row made here, named by its agency's reference (its id is the store's: decision 0080)."""
        return str(row["source_record_id"])

    refuse, evade = "court.dishonest.able-but-refuses", "court.dishonest.evades-enforcement"
    paid, settled = "court.fulfilment.performed", "court.fulfilment.settlement-performed"
    p = persons
    # extended four times, the last capped by max_period_days
    add(p[0], refuse, "2023-03-01", "2023-03-02T10:00:00")
    add(p[0], evade, "2024-01-05", "2024-01-10T10:00:00")
    add(p[0], refuse, "2025-11-20", "2025-12-01T10:00:00")
    add(p[0], evade, "2026-01-20", "2026-02-01T10:00:00")
    add(p[0], refuse, "2026-02-20", "2026-03-01T10:00:00")  # a fourth extension: capped at 1825 days
    # fulfilled, then listed again
    add(p[1], refuse, "2023-05-01", "2023-05-01T15:00:00")
    add(p[1], paid, "2024-02-01", "2024-02-01T09:00:00")
    add(p[1], refuse, "2024-06-01", "2024-06-03T09:00:00")
    # expired, then listed again (a new entry, not an extension)
    add(p[2], refuse, "2022-01-10", "2022-01-10T11:00:00")
    add(p[2], evade, "2024-03-01", "2024-03-01T11:00:00")
    # listed before MID, withdrawn after MID: listed at MID, never at END
    first = add(p[3], refuse, "2024-09-01", "2024-09-02T08:00:00")
    add(
        p[3],
        refuse,
        first["occurred_on"],
        "2026-01-15T08:00:00",
        action="withdraw",
        corrects_source_record_id=ref(first),
    )
    # fulfilment with nothing open, then a listing; a listing on the very day its predecessor ends
    add(p[4], settled, "2023-01-01", "2023-01-02T09:00:00")
    add(p[4], refuse, "2023-01-05", "2023-01-05T09:00:00")
    add(p[4], refuse, "2025-01-04", "2025-01-04T09:00:00")  # planned end 2025-01-04 + 365 extension?
    add(p[5], refuse, "2023-02-01", "2023-02-01T09:00:00")
    add(p[5], refuse, "2025-02-01", "2025-02-01T08:00:00")  # the day the first entry ends: a new one
    # listing and fulfilment reported the same day: ledger order decides
    add(p[6], refuse, "2024-04-01", "2024-04-02T09:00:00")
    add(p[6], paid, "2024-04-02", "2024-04-02T09:00:00")
    add(p[6], refuse, "2024-04-02", "2024-04-02T17:00:00")
    # corrected to another person after MID
    moved = add(p[7], evade, "2024-10-01", "2024-10-01T12:00:00")
    add(
        p[8],
        evade,
        "2024-10-01",
        "2026-02-01T12:00:00",
        action="correct",
        corrects_source_record_id=ref(moved),
    )
    # organisations: the court's list and the enterprise list, both through their representatives
    o = orgs
    add(o[0], refuse, "2024-02-01", "2024-02-01T10:00:00")
    add(o[0], "food.safety-violation", "2024-03-01", "2024-03-05T10:00:00")
    add(o[0], "food.safety-violation", "2024-08-01", "2024-08-05T10:00:00")
    add(o[1], "customs.violation", "2023-01-10", "2023-01-12T10:00:00")
    add(o[1], "customs.violation", "2026-10-25", "2026-10-25T10:00:00")  # noticed, not yet in effect
    add(o[1], paid, "2025-03-01", "2025-03-01T10:00:00")  # removes nothing on this list
    add(o[2], evade, "2025-06-01", "2025-06-01T10:00:00")
    add(o[2], "court.fulfilment.creditor-request", "2025-09-01", "2025-09-01T10:00:00")  # Art. 10: not (3)
    add(o[2], "court.decision.early-removal", "2025-10-01", "2025-10-09T10:00:00")  # Art. 2: early
    # the court's list by its provisions (scheme version 2): a decision on 29 February, reported
    # at 17:00 UTC (1 March in China), extended once by 3 years and a second time in vain; a
    # ground (1) listing removed by Art. 10(4) reported late; an extension of a listing on
    # ground (1), which has no period to extend; an extension after the period ended
    extend = "court.decision.extension"
    add(p[18], "court.dishonest.breaks-spending-restriction", "2024-02-29", "2024-02-29T17:00:00")
    add(p[18], extend, "2025-01-10", "2025-01-13T09:00:00", details={"extension_years": 3})
    add(p[18], extend, "2025-02-10", "2025-02-13T09:00:00", details={"extension_years": 1})
    add(p[19], refuse, "2023-06-01", "2023-06-01T09:00:00")
    add(p[19], extend, "2023-07-01", "2023-07-03T09:00:00", details={"extension_years": 2})
    add(p[19], "court.removal.no-assets-found", "2025-04-03", "2025-05-20T09:00:00")  # 31 days late
    add(p[19], "court.dishonest.refuses-settlement", "2023-09-01", "2023-09-04T09:00:00")  # not ended
    add(p[19], "court.removal.enforcement-ended", "2025-06-02", "2025-06-03T09:00:00")  # by Art. 10(7)
    add(p[19], extend, "2025-09-10", "2025-09-11T09:00:00", details={"extension_years": 1})  # ended
    # enrolment: withdrawn, moved to another person, and given twice
    for k in range(9, 14):
        add(p[k], "identity.verified", "2024-01-01", "2024-01-02T10:00:00")
    gone = add(p[14], "identity.verified", "2024-02-01", "2024-02-01T10:00:00")
    add(
        p[14],
        "identity.verified",
        "2024-02-01",
        "2025-01-01T10:00:00",
        action="withdraw",
        corrects_source_record_id=ref(gone),
    )
    late = add(p[15], "identity.verified", "2025-03-01", "2025-03-01T10:00:00")
    add(
        p[16],
        "identity.verified",
        "2025-03-01",
        "2026-01-01T10:00:00",
        action="correct",
        corrects_source_record_id=ref(late),
    )
    add(p[17], "identity.verified", "2025-06-30", "2025-06-30T12:00:00")  # reported at MID exactly
    return rows


def _object(system: System, clock: Clock, persons: list[str], orgs: list[str], records: list[Record]) -> None:
    """Objections over the hand-made histories, filed in time order (their filing order is the
    cases chain's): to a record that extends an organisation's entry on the enterprise list (open
    at MID and at END: its entry and its representative's are suspended), to that list itself
    earlier (rejected, appealed, the appeal rejected after MID: open at MID only, and named at MID
    as the first filed), to a record of the court's list (which keeps its measures: suspends
    nothing), and to a noticed entry not yet in effect (open at END)."""
    op = system.operator()
    rid = {(r.subject, r.reported_at): r.record_id for r in records}
    o, p = orgs, persons
    serious = "enterprise-credit/serious-violators"

    def at(moment: str) -> None:
        clock.now = dt.datetime.fromisoformat(moment)

    at("2024-01-01T09:00:00")
    system.file_objection(principal=op, subject=p[0], record_id=rid[(p[0], dt.datetime(2023, 3, 2, 10))],
                          statement="the debt was paid")  # fmt: skip
    at("2024-08-20T09:00:00")
    early = system.file_objection(principal=op, subject=o[0], list_id=serious, statement="not us")
    at("2024-09-01T09:00:00")
    system.file_objection(principal=op, subject=o[0], record_id=rid[(o[0], dt.datetime(2024, 8, 5, 10))],
                          statement="the inspection was of another shop")  # fmt: skip
    at("2024-09-10T09:00:00")
    system.decide_objection(principal=op, objection_id=early.id, upheld=False, reason="verified")
    at("2024-09-15T09:00:00")
    system.appeal(principal=op, objection_id=early.id, statement="new evidence")
    at("2025-07-01T09:00:00")
    system.decide_appeal(
        principal=system.operator("li.na"), objection_id=early.id, upheld=False, reason="still verified"
    )
    at("2026-10-26T09:00:00")
    system.file_objection(principal=op, subject=o[1], list_id=serious, statement="the fine was annulled")


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    root = tmp_path_factory.mktemp("models-city")
    store = Store(f"sqlite:///{root / 'city.db'}")
    clock = Clock(NOW)
    system = System(store, shipped_registry(), clock=clock)
    c = synth.generate_city(residents=300, organisations=30, seed=23, registry=system.registry)
    system.register(c.subjects)
    rows = list(synth.generate_records(c, registry=system.registry, seed=23))
    res = system.ingest(enumerate(rows, start=1), origin="test city", principal=system.operator())
    assert res.quarantined == 0, res.quarantine
    records = [r for page in store.iter_records() for r in page]
    persons = sorted(s.code for s in c.subjects if s.kind == "person")
    orgs = sorted(s.code for s in c.subjects if s.kind == "organisation")
    fixes = corrections(records, rng_seed=5, count=40) + _histories(persons[-20:], orgs[:3])
    res = system.ingest(enumerate(fixes, start=1), origin="fixes", principal=system.operator())
    assert res.quarantined == 0, res.quarantine
    records = [r for page in store.iter_records() for r in page]
    _object(system, clock, persons[-20:], orgs[:3], records)
    clock.now = NOW
    export_ledger(store, root / "export")
    subjects = [
        (s["code"], s["kind"]) for s in pq.read_table(root / "export" / "subjects.parquet").to_pylist()
    ]
    yield City(root / "export", system, records, subjects, store.representatives())
    store.close()


def core_scores(city: City, schemes: list[Scheme], as_of: dt.datetime) -> dict[Key, tuple[int, str]]:
    """The reference: ``ledger.effective`` then ``scores_for`` (who is rated, who joined), one
    subject at a time."""
    by_subject = records_by_subject(city, as_of)
    return {
        (code, sid): (s.score, s.grade)
        for code, kind in city.subjects
        for sid, s in scores_for(code, kind, by_subject.get(code, []), schemes, as_of).items()
    }


@pytest.fixture(scope="module")
def reference(city: City) -> dict[dt.datetime, dict[Key, tuple[int, str]]]:
    return {at: core_scores(city, [*TIERS, *FACTORS], at) for at in AS_OF}


def engine_scores(engine: Engine, city: City, as_of: dt.datetime) -> dict[Key, tuple[int, str]]:
    records, subjects = ledger_records(engine, city), engine.subjects(city.directory)
    schemes = [*TIERS, *FACTORS]  # every kind in one definition and one scan
    items, ids = engine.items(schemes), engine.scheme_ids(schemes)
    out: dict[Key, tuple[int, str]] = {}
    for expr in (relational.population_scores(records, subjects, items, ids, schemes, as_of),):
        table = engine.to_arrow(expr)
        assert table.schema.names == relational.SCORE_SCHEMA.names
        rows = table.to_pylist()
        got = {(r["subject"], r["scheme"]): (int(r["score"]), str(r["grade"])) for r in rows}
        assert len(got) == len(rows), "one row per subject and scheme"
        out.update(got)
    return out


def assert_same(name: str, got: dict[Any, Any], want: dict[Any, Any]) -> None:
    missing, extra = sorted(want.keys() - got.keys())[:5], sorted(got.keys() - want.keys())[:5]
    assert not missing and not extra, f"{name}: missing {missing}, extra {extra}"
    wrong = [(k, got[k], want[k]) for k in want if got[k] != want[k]]
    assert not wrong, f"{name}: {len(wrong)} differ from the core, e.g. {wrong[:5]}"


def test_the_city_exercises_the_models(city: City, reference: dict[dt.datetime, Any]) -> None:
    """Not trivial: every tier of each tier scheme is reached, factor scores spread over several
    grades, the opt-in scheme scores some persons and not others, and enrolment changes between
    the two times."""
    kinds = dict(city.subjects)
    for at in AS_OF:
        ref = reference[at]
        for s in TIERS:
            tiers = Counter(g for (_c, sid), (_v, g) in ref.items() if sid == s.id)
            assert len(tiers) >= 3, (s.id, tiers)
        for s in FACTORS:
            grades = Counter(g for (_c, sid), (_v, g) in ref.items() if sid == s.id)
            assert len(grades) >= 3, (s.id, grades)
        sesame = {c for c, sid in ref if sid == "sesame"}
        persons = {c for c, k in kinds.items() if k == "person"}
        assert 10 < len(sesame) < len(persons) // 2
        assert all(kinds[c] == "organisation" for c, sid in ref if sid == "enterprise-credit")
    assert {c for c, sid in reference[MID] if sid == "sesame"} != {
        c for c, sid in reference[END] if sid == "sesame"
    }


def test_core_matches_the_service_view(city: City, reference: dict[dt.datetime, Any]) -> None:
    """The reference is what the service answers for one subject (a sample, shipped schemes)."""
    shipped = {s.id for s in SHIPPED}
    for at in (END,):
        for code, _kind in city.subjects[::9]:
            view = city.system.view(code, at)
            got = {(code, sid): (s.score, s.grade) for sid, s in view.scores.items() if sid in shipped}
            want = {k: v for k, v in reference[at].items() if k[0] == code and k[1] in shipped}
            assert got == want, code


@pytest.mark.parametrize("at", AS_OF, ids=["mid", "end"])
def test_duckdb_tiers_and_factors_match_core(
    city: City, reference: dict[dt.datetime, Any], at: dt.datetime
) -> None:
    engine = DuckDBEngine()
    assert_same("duckdb", engine_scores(engine, city, at), reference[at])
    engine.close()


def test_spark_tiers_and_factors_match_core(
    spark: Any, city: City, reference: dict[dt.datetime, Any]
) -> None:
    from socialcredit.engines.spark import SparkEngine

    assert_same("spark", engine_scores(SparkEngine(spark), city, END), reference[END])


def test_a_counting_relationships_factor_is_refused() -> None:
    """The relationships factor reads contacts' scores, which no export holds: refused by name."""
    base = shipped_registry().scheme("sesame")
    data = base.model_dump()
    for f in data["model"]["factors"]:
        if f["source"] == "contacts":
            f["enabled"] = True
    scheme = Scheme.model_validate({**data, "id": "sesame-contacts"})
    engine = DuckDBEngine()
    t = engine.table(relational.item_table([]), "nothing")
    with pytest.raises(
        ValueError, match=r"sesame-contacts: factor relationships sets Factor.source .*contacts"
    ):
        relational.population_scores(t, t, t, t, [scheme], END)
    engine.close()


# ---------------------------------------------------------------------------------- list entries

REGISTRY = shipped_registry()
ALL_LISTS = relational_lists(list(REGISTRY.schemes.values()))
LISTS = [(s, lst) for s, lst in ALL_LISTS if not gradelists.by_grade(lst)]  # item lists


def core_entries(city: City, as_of: dt.datetime, lists: list[tuple[Scheme, ListDef]] = LISTS) -> list[Entry]:
    """The reference: ``lists.entries_for`` one subject at a time, each person with the effective
    records of the organisations it represents, then ``apply_suspensions`` with the objections of
    the subject and of those organisations; only ``lists`` (default: the item lists)."""
    objections = objections_at(city.system.store, as_of)
    by_subject = records_by_subject(city, as_of)
    items = {r.record_id: r.item for recs in by_subject.values() for r in recs}
    orgs_of: dict[str, list[str]] = defaultdict(list)
    for org, person in city.representatives.items():
        orgs_of[person].append(org)
    wanted = {f"{s.id}/{lst.id}" for s, lst in lists}
    out = []
    for code, _kind in city.subjects:
        represented = {o: by_subject.get(o, []) for o in orgs_of.get(code, [])}
        found = entries_for(
            code, by_subject.get(code, []), REGISTRY, as_of, represented=represented, holidays=HOLIDAYS
        )
        theirs = [o for who in (code, *represented) for o in objections.get(who, [])]
        for e in apply_suspensions(found, theirs, REGISTRY):
            if e.qualified_id in wanted:
                out.append(entry_row(e, items))
    return sorted(out, key=repr)


def engine_entries(engine: Engine, city: City, as_of: dt.datetime) -> list[Entry]:
    calendar = engine.table(working_calendar(HOLIDAYS, as_of, LISTS), "calendar")
    expr = population_listing(
        ledger_records(engine, city),
        engine.representatives(city.directory),
        LISTS,
        as_of,
        calendar=calendar,
        objections=engine.objections(city.directory),
    )
    return list_rows(engine, expr)


@pytest.fixture(scope="module")
def entries(city: City) -> dict[dt.datetime, list[Entry]]:
    return {at: core_entries(city, at) for at in AS_OF}


def test_the_lists_are_exercised(entries: dict[dt.datetime, list[Entry]]) -> None:
    """Both item lists have entries of every status and end, extended ones, and representatives'."""
    for at in AS_OF:
        got = entries[at]
        assert {e[0] for e in got} == {
            "court-dishonest-debtors/dishonest-debtors",
            "enterprise-credit/serious-violators",
        }
        assert any(e[2] is not None for e in got), "a representative's entry"
        assert any(e[12] > 1 for e in got), "an extended entry"
    statuses = Counter(e[3] for e in entries[END])
    assert {"pending", "active", "removed", "expired"} <= set(statuses), statuses
    assert any((e[9] or "").startswith("fulfilled") for e in entries[END])
    court = "court-dishonest-debtors/dishonest-debtors"  # Art. 10: within 3 working days
    due = [
        (e[COL["planned_end"]] - dt.timedelta(days=1), e[COL["removal_due"]])
        for e in entries[END]
        if e[COL["removal_due"]] is not None and e[0] == court and e[COL["status"]] == "expired"
    ]
    assert due and all(
        e[COL["removal_due"]] is None for e in entries[END] if e[COL["status"]] in ("active", "pending")
    ), "a deadline only once ended or expired"
    assert any(d != add_working_days(last, 3) for last, d in due), "a removal deadline across a holiday"
    assert any(e[COL["planned_end"]] is None for e in entries[END] if e[0] == court), "no fixed period"
    assert any(e[COL["ended_on"]] > e[COL["removal_due"]] for e in entries[END] if e[COL["ended_on"]]), (
        "a removal reported late"
    )
    assert entries[MID] != [e for e in entries[END] if e[5] <= MID.date()]


def test_objections_suspend_entries(city: City, entries: dict[dt.datetime, list[Entry]]) -> None:
    """The objections of ``_object`` suspend what the rule says, at each time: the enterprise
    list's entries of the organisation and of its representative (named by the first filed open
    objection), never the court's list, and nothing once the objection is closed."""
    serious, court = "enterprise-credit/serious-violators", "court-dishonest-debtors/dishonest-debtors"
    cases = {o.statement: o.id for os in objections_at(city.system.store, END).values() for o in os}
    for at, first in ((MID, cases["not us"]), (END, cases["the inspection was of another shop"])):
        hit = [e for e in entries[at] if e[COL["suspended_by"]] is not None]
        assert hit and {e[0] for e in hit} == {serious}, at
        assert any(e[2] is not None for e in hit), "a representative's entry, through the organisation"
        assert first in {e[COL["suspended_by"]] for e in hit}
        assert not any(e[COL["suspended_by"]] for e in entries[at] if e[0] == court), "the court's list stays"
    annulled = cases["the fine was annulled"]
    assert annulled in {e[COL["suspended_by"]] for e in entries[END]} and annulled not in {
        e[COL["suspended_by"]] for e in entries[MID]
    }


def test_every_shipped_list_is_relational() -> None:
    """Nothing shipped is refused: item lists here, lists by grade in tests/test_engines_grades.py."""
    assert refused(list(REGISTRY.schemes.values())) == {}
    assert {f"{s.id}/{lst.id}" for s, lst in ALL_LISTS} - {f"{s.id}/{lst.id}" for s, lst in LISTS} == {
        "rongcheng/honour-roll", "rongcheng/d-grade", "enterprise-credit/red-rated"
    }  # fmt: skip


@pytest.mark.parametrize("at", AS_OF, ids=["mid", "end"])
def test_duckdb_list_entries_match_core(
    city: City, entries: dict[dt.datetime, list[Entry]], at: dt.datetime
) -> None:
    engine = DuckDBEngine()
    got = engine_entries(engine, city, at)
    assert got == entries[at], (
        [e for e in got if e not in entries[at]][:3] + [None] + [e for e in entries[at] if e not in got][:3]
    )
    engine.close()


def test_spark_list_entries_match_core(
    spark: Any, city: City, entries: dict[dt.datetime, list[Entry]]
) -> None:
    from socialcredit.engines.spark import SparkEngine

    assert engine_entries(SparkEngine(spark), city, END) == entries[END]


@pytest.mark.parametrize("name", ["duckdb", "spark"])
def test_rescore_writes_every_model_and_list(
    request: pytest.FixtureRequest,
    city: City,
    reference: dict[dt.datetime, Any],
    entries: dict[dt.datetime, list[Entry]],
    tmp_path: Path,
    name: str,
) -> None:
    """The rescore job (what `socialcredit rescore` and spark-submit run) writes the tier and
    factor scores beside the points scores in one file, and every list entry beside them, each
    equal to the core's answer, and tallies what it wrote."""
    from socialcredit.engines.base import rescore

    if name == "spark":
        from socialcredit.engines.spark import SparkEngine

        engine: Engine = SparkEngine(request.getfixturevalue("spark"))
    else:
        engine = DuckDBEngine()
    points = REGISTRY.scheme("rongcheng")
    out = tmp_path / "scores.parquet"
    result = rescore(engine, city.directory, [points, *TIERS, *FACTORS], END, out,
                     list_schemes=list(REGISTRY.schemes.values()), holidays=HOLIDAYS)  # fmt: skip
    engine.close() if name == "duckdb" else None
    written = pq.read_table(out).to_pylist()
    got = {(r["subject"], r["scheme"]): (r["score"], r["grade"]) for r in written}
    assert len(got) == len(written)
    assert_same(f"{name} rescore", {k: v for k, v in got.items() if k[1] != points.id}, reference[END])
    assert sum(1 for k in got if k[1] == points.id) == len(city.subjects)
    assert result.skipped == {} and set(result.grades) == {points.id, *(s.id for s in [*TIERS, *FACTORS])}
    for s in [*TIERS, *FACTORS]:
        want = Counter(g for (c, sid), (_v, g) in reference[END].items() if sid == s.id)
        assert sum((Counter(d) for d in result.grades[s.id].values()), Counter()) == want, s.id
    assert result.lists_output is not None
    listed = sorted((tuple(r.values()) for r in pq.read_table(result.lists_output).to_pylist()), key=repr)
    every = core_entries(city, END, ALL_LISTS)  # item lists and lists by grade
    assert {e[0] for e in every} > {e[0] for e in entries[END]}, "the city puts someone on a list by grade"
    assert listed == every
    tally: dict[str, Counter[str]] = defaultdict(Counter)
    for e in every:
        tally[e[0]][e[3]] += 1
    assert result.lists == {k: dict(v) for k, v in tally.items()}
    held = Counter(
        e[0] for e in every if e[COL["suspended_by"]] is not None and e[3] in ("active", "pending")
    )
    assert result.suspended == dict(held) and held, "the open objections' entries, counted"
    assert result.lists_refused == {}


@pytest.mark.parametrize("n", [0, 1, 3, 10])
def test_removal_deadlines_are_the_cores_working_days(n: int) -> None:
    """The calendar join (``listing._removal_due``) against ``add_working_days`` for every day of
    three years as the day a deadline counts from, with the dense holidays, ``n`` working days."""
    from socialcredit.engines import listing

    court = REGISTRY.scheme("court-dishonest-debtors")
    lst = court.lists[0].model_copy(
        update={"removal": court.lists[0].removal.model_copy(update={"within_working_days": n})}
    )
    first = dt.date(2024, 1, 1)
    days = [first + dt.timedelta(days=k) for k in range(3 * 366)]
    engine = DuckDBEngine()
    numbers = [(d - listing.EPOCH).days for d in days] + [None]
    start = engine.table(pa.table({"due_from": pa.array(numbers, pa.int64())}), "due_from")
    calendar = engine.table(listing.working_calendar(HOLIDAYS, END, [(court, lst)]), "calendar")
    got = engine.to_arrow(listing._removal_due(start, n, calendar)).to_pylist()
    engine.close()
    want = {(d - listing.EPOCH).days: (add_working_days(d, n, HOLIDAYS) - listing.EPOCH).days for d in days}
    assert {r["due_from"]: r["removal_due"] for r in got if r["due_from"] is not None} == want
    assert [r["removal_due"] for r in got if r["due_from"] is None] == [None]
