"""One definition, three evaluations: the core's per-subject scoring, the relational definition on
DuckDB, and the same definition on Spark (local mode, a real JVM) must give every subject the same
score and grade under every scheme, on a synthetic city with corrections, withdrawals and
restorations, at several times."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from socialcredit import ledger, synth
from socialcredit.engines import relational
from socialcredit.engines.base import Engine, rescore
from socialcredit.engines.duck import DuckDBEngine
from socialcredit.engines.export import export_ledger
from socialcredit.ledger import Record
from socialcredit.rules import days
from socialcredit.schemes import shipped_registry
from socialcredit.schemes.model import PointsModel, Scheme
from socialcredit.scoring import scores_for
from socialcredit.scoring.points import score_points
from socialcredit.service import System
from socialcredit.store import Store
from tests.conftest import Clock
from tests.support.engines import AS_OF, END, MID, NOW, VOID, Key, corrections


def decayed(scheme: Scheme, half_lives: tuple[int | None, ...] = (None, 90, 365, 730, 1)) -> Scheme:
    """A copy of ``scheme`` (id ``<id>-decay``) whose items get half-lives in turn, including one
    day (points gone within a week) and none (full points while they count)."""
    data = scheme.model_dump()
    data["id"] = f"{scheme.id}-decay"
    for k, item in enumerate(data["items"]):
        item["half_life_days"] = half_lives[k % len(half_lives)]
    return Scheme.model_validate(data)


POINTS = [s for s in shipped_registry().scored() if isinstance(s.model, PointsModel)]
"""The points schemes (tests/test_engines_models.py holds the tier and factor models and lists)."""


def opt_in(scheme: Scheme) -> Scheme:
    """A copy of ``scheme`` (id ``<id>-opt-in``) that scores only those who joined, by Sesame's
    enrolment item (added to its catalogue)."""
    sesame = shipped_registry().scheme("sesame")
    assert sesame.enrolment is not None
    item = sesame.item_index[sesame.enrolment.item]
    data = scheme.model_dump()
    # no lists by grade: an opt-in score exists only for those who joined (decision 0022)
    data.update(id=f"{scheme.id}-opt-in", enrolment=sesame.enrolment.model_dump(), lists=[], measures=[])
    data["items"] = [*data["items"], item.model_dump()]
    return Scheme.model_validate(data)


SCHEMES = [
    *POINTS,
    decayed(shipped_registry().scheme("rongcheng")),
    opt_in(shipped_registry().scheme("rongcheng")),
]
"""Scored in every parity test: the shipped points schemes, a decaying variant and an opt-in one."""


@dataclass
class City:
    directory: Path
    system: System
    records: list[Record]
    subjects: list[tuple[str, str]]
    touched: set[str]  # subjects whose records were corrected, moved, withdrawn or restored


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[City]:
    root = tmp_path_factory.mktemp("city")
    store = Store(f"sqlite:///{root / 'city.db'}")
    system = System(store, shipped_registry(), clock=Clock(NOW))
    c = synth.generate_city(residents=2500, seed=11, registry=system.registry)
    system.register(c.subjects)
    rows = synth.generate_records(c, registry=system.registry, seed=11)
    res = system.ingest(enumerate(rows, start=1), origin="test city", principal=system.operator())
    assert res.quarantined == 0 and res.accepted > 15_000
    records = [r for page in store.iter_records() for r in page]
    fixes = corrections(records)
    res = system.ingest(enumerate(fixes, start=1), origin="fixes", principal=system.operator())
    assert res.quarantined == 0, res.quarantine
    assert res.accepted == len(fixes)
    records = [r for page in store.iter_records() for r in page]
    by_id = {r.record_id: r for r in records}
    touched = {r.subject for r in records if r.corrects} | {
        by_id[r.corrects].subject for r in records if r.corrects
    }
    out = export_ledger(store, root / "export")
    assert out.records == len(records)
    subjects = [
        (s["code"], s["kind"]) for s in pq.read_table(root / "export" / "subjects.parquet").to_pylist()
    ]
    yield City(root / "export", system, records, subjects, touched)
    store.close()


def core_scores(city: City, as_of: dt.datetime) -> dict[Key, tuple[int, str]]:
    """The reference: ``ledger.effective`` then ``scores_for`` (who joined an opt-in scheme), one
    subject at a time."""
    by_subject: dict[str, list[Record]] = defaultdict(list)
    for r in ledger.effective(city.records, as_of, (), VOID):
        by_subject[r.subject].append(r)
    out: dict[Key, tuple[int, str]] = {}
    for code, kind in city.subjects:
        for sid, s in scores_for(code, kind, by_subject.get(code, []), SCHEMES, as_of).items():
            out[(code, sid)] = (s.score, s.grade)
    return out


def engine_scores(engine: Engine, city: City, as_of: dt.datetime) -> dict[Key, tuple[int, str]]:
    table = engine.to_arrow(engine.population_scores(city.directory, SCHEMES, as_of))
    assert table.schema.names == relational.SCORE_SCHEMA.names
    rows = table.to_pylist()
    out = {(r["subject"], r["scheme"]): (int(r["score"]), str(r["grade"])) for r in rows}
    assert len(out) == len(rows), "one row per subject and scheme"
    return out


def assert_same(name: str, got: dict[Key, tuple[int, str]], want: dict[Key, tuple[int, str]]) -> None:
    assert got.keys() == want.keys()
    wrong = [(k, got[k], want[k]) for k in want if got[k] != want[k]]
    assert not wrong, f"{name}: {len(wrong)} subjects differ from the core, e.g. {wrong[:5]}"


@pytest.fixture(scope="module")
def reference(city: City) -> dict[dt.datetime, dict[Key, tuple[int, str]]]:
    return {at: core_scores(city, at) for at in AS_OF}


@pytest.mark.slow  # the city: generated, ingested, exported, scored in Python
def test_the_city_exercises_every_rule(city: City, reference: dict[dt.datetime, Any]) -> None:
    """The population is not trivial: several grades, and corrections that change scores."""
    actions = Counter(r.action for r in city.records)
    assert {"report", "correct", "withdraw", "restore"} <= set(actions)
    by_id = {r.record_id: r for r in city.records}
    void = [r for r in city.records if r.action == "restore" and by_id[r.corrects or ""].item in VOID]
    assert void, "a restoration of a judicial record, which must end nothing"
    for at in AS_OF:
        grades = Counter(g for (_s, scheme), (_v, g) in reference[at].items() if scheme == "rongcheng")
        assert len(grades) >= 4, grades
        joined = sum(1 for _s, scheme in reference[at] if scheme == "rongcheng-opt-in")
        assert 0 < joined < len(city.subjects) / 2, joined  # some joined the opt-in copy, most not
    # ignoring superseding records would give other scores for some touched subjects
    naive: dict[str, list[Record]] = defaultdict(list)
    for r in city.records:
        if r.action == "report" and r.reported_at <= END:
            naive[r.subject].append(r)
    scheme = city.system.registry.scheme("rongcheng")
    differ = [
        code
        for code in city.touched
        if score_points(code, naive[code], scheme, END).score != reference[END][(code, "rongcheng")][0]
    ]
    assert len(differ) >= 10


@pytest.mark.slow  # the city: generated, ingested, exported, scored in Python
def test_core_matches_the_service_view(city: City, reference: dict[dt.datetime, Any]) -> None:
    """The reference used below is what the service answers for one subject (checked on every
    subject touched by a correction, and a sample of the rest)."""
    sample = sorted(city.touched) + [c for c, _k in city.subjects[::97]]
    for at in AS_OF:
        for code in sample:
            view = city.system.view(code, at)
            assert view.scores
            for scheme_id, s in view.scores.items():
                if s.kind != "points":
                    continue  # tier and factor models are not relational (docs/decisions/0009)
                assert reference[at][(code, scheme_id)] == (s.score, s.grade), (code, scheme_id, at)


@pytest.mark.slow  # the city: generated, ingested, exported, scored in Python
@pytest.mark.parametrize("at", AS_OF, ids=["mid", "end"])
def test_duckdb_matches_core(city: City, reference: dict[dt.datetime, Any], at: dt.datetime) -> None:
    engine = DuckDBEngine()
    assert_same("duckdb", engine_scores(engine, city, at), reference[at])
    engine.close()


@pytest.mark.slow  # the city and a Spark session
def test_spark_matches_core(spark: Any, city: City, reference: dict[dt.datetime, Any]) -> None:
    """At MID (corrections reported later must not count yet); END is checked by the rescore test
    below, which reads back what Spark wrote (each Spark job costs seconds)."""
    from socialcredit.engines.spark import SparkEngine

    engine = SparkEngine(spark)
    assert_same("spark", engine_scores(engine, city, MID), reference[MID])


@pytest.mark.slow  # the city, rescored on each engine
@pytest.mark.parametrize("name", ["duckdb", "spark"])
def test_rescore_writes_scores_and_tallies(
    request: pytest.FixtureRequest, city: City, reference: dict[dt.datetime, Any], tmp_path: Path, name: str
) -> None:
    """The rescore job (what the CLI and spark-submit run) writes every score and reports the
    grade distribution of what it wrote; for persons it equals the service's population summary."""
    if name == "spark":
        from socialcredit.engines.spark import SparkEngine

        engine: Engine = SparkEngine(request.getfixturevalue("spark"))
    else:
        engine = DuckDBEngine()
    schemes = SCHEMES
    out = tmp_path / "scores.parquet"
    result = rescore(engine, city.directory, schemes, END, out)
    written = (
        pq.read_table(out)
        if out.is_file()
        else pa.concat_tables([pq.read_table(p) for p in sorted(out.glob("*.parquet"))])
    )
    got = {(r["subject"], r["scheme"]): (r["score"], r["grade"]) for r in written.to_pylist()}
    assert_same(f"{name} rescore", got, reference[END])
    assert result.subjects == len(city.subjects)
    assert result.records == len(city.records)
    kinds = dict(city.subjects)
    want = {
        s.id: dict(
            Counter(
                g
                for (code, sid), (_v, g) in reference[END].items()
                if sid == s.id and kinds[code] == "person"
            )
        )
        for s in schemes
    }
    assert {s: d.get("person", {}) for s, d in result.grades.items()} == want
    summary = city.system.population(as_of=END)
    shared = set(result.grades) & set(summary.grades)
    assert shared == {s.id for s in POINTS}  # tier and factor schemes: scored per subject only
    assert {s: result.grades[s].get("person", {}) for s in shared} == {s: summary.grades[s] for s in shared}
    assert json.loads((city.directory / "manifest.json").read_text())["chain_count"] == len(city.records)


@pytest.mark.slow  # a city of its own exported and rescored through the CLI
def test_cli_export_and_rescore(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`socialcredit export` then `socialcredit rescore --from` on the embedded default: the JSON
    names the engine, the counts and a grade distribution that agrees with `socialcredit score`;
    bad input exits 2 with one line."""
    from typer.testing import CliRunner

    from socialcredit.cli import app
    from socialcredit.settings import get_settings
    from tests.conftest import person

    monkeypatch.setenv("SOCIALCREDIT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("SOCIALCREDIT_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    runner = CliRunner()
    a, b = person(1), person(2)
    rows = [
        {"subject": a, "item": "traffic.drunk-driving", "source": "traffic-police", "source_record_id": "t-1",
         "occurred_on": "2026-01-05", "reported_at": "2026-01-06T09:00:00"},
        {"subject": a, "item": "court.fraud-conviction", "source": "court", "source_record_id": "c-1",
         "occurred_on": "2026-02-01", "reported_at": "2026-02-01T10:00:00"},
        {"subject": b, "item": "volunteer.service", "source": "volunteer-federation",
         "source_record_id": "v-1", "occurred_on": "2026-03-01", "reported_at": "2026-03-02T10:00:00"},
    ]  # fmt: skip
    f = tmp_path / "records.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    try:
        assert runner.invoke(app, ["ingest", str(f), "--json"]).exit_code == 0
        done = runner.invoke(app, ["export", str(tmp_path / "exp"), "--json"])
        assert done.exit_code == 0, done.output
        exported = json.loads(done.stdout)
        assert exported["records"] == 3 and exported["subjects"] == 2 and exported["years"] == [2026]
        assert sorted(p.name for p in (tmp_path / "exp" / "records").iterdir()) == ["occurred_year=2026"]
        res = runner.invoke(app, ["rescore", "--from", str(tmp_path / "exp"), "--at", "2026-06-30", "--json"])
        assert res.exit_code == 0, res.output
        data = json.loads(res.stdout)
        assert data["engine"] == "duckdb" and data["subjects"] == 2 and data["records"] == 3
        want: dict[str, Counter[str]] = defaultdict(Counter)
        for code in (a, b):
            scored = json.loads(runner.invoke(app, ["score", code, "--at", "2026-06-30", "--json"]).stdout)
            for s in scored["scores"]:
                want[s["scheme"]][s["grade"]] += 1
        # every model is rescored (an organisations-only or opt-in scheme may have no persons)
        assert {k: v["person"] for k, v in data["grades"].items() if "person" in v} == {
            k: dict(v) for k, v in want.items()
        }
        assert set(data["grades"]) == {s.id for s in shipped_registry().scored()} and data["skipped"] == {}
        assert Path(data["output"]).is_file() and Path(data["lists_output"]).is_file()
        assert data["lists"] == {}  # nobody is on an item list here
        assert data["lists_refused"] == {}  # lists by grade are relational too (nobody is on one here)
        old = tmp_path / "old-export"
        old.mkdir()
        (old / "manifest.json").write_text(json.dumps({"format": "socialcredit-ledger-export", "version": 1}))
        # without --from it exports first
        res = runner.invoke(app, ["rescore", "--at", "2026-06-30", "--json"])
        assert res.exit_code == 0, res.output
        assert json.loads(res.stdout)["grades"] == data["grades"]
        for bad, needle in (
            (["rescore", "--engine", "hadoop"], "--engine"),
            (["rescore", "--from", str(tmp_path)], "not a socialcredit export"),
            (["rescore", "--from", str(old)], "export the ledger again"),
            (["rescore", "--at", "yesterday"], "--at"),
            (["export", str(f)], "DIRECTORY"),
        ):
            r = runner.invoke(app, bad)
            assert r.exit_code == 2, (bad, r.output)
            assert needle in r.output and "Traceback" not in r.output
        # a record more: the next export appends it alone; --full rewrites everything
        more = {**rows[2], "source_record_id": "v-2", "reported_at": "2026-03-09T10:00:00"}
        f.write_text(json.dumps(more) + "\n")
        assert runner.invoke(app, ["ingest", str(f), "--json"]).exit_code == 0
        again = json.loads(runner.invoke(app, ["export", str(tmp_path / "exp"), "--json"]).stdout)
        assert (again["records"], again["appended"], again["generation"]) == (4, 1, 2)
        said = runner.invoke(app, ["export", str(tmp_path / "exp")]).output
        assert "appended the 0 records since the last export (generation 2)" in said, said
        full = json.loads(runner.invoke(app, ["export", str(tmp_path / "exp"), "--full", "--json"]).stdout)
        assert (full["records"], full["appended"], full["generation"]) == (4, 4, 1)
    finally:
        get_settings.cache_clear()


# ---------------------------------------------------------------------------------- time decay


@pytest.mark.slow  # the city: generated, ingested, exported, scored in Python
def test_decay_changes_scores_in_the_city(reference: dict[dt.datetime, dict[Key, tuple[int, str]]]) -> None:
    """The decaying variant is not the plain scheme under another name: most subjects with records
    score differently, and the parity tests above cover it on every engine."""
    end = reference[END]
    plain = {c: v for (c, s), v in end.items() if s == "rongcheng"}
    decay = {c: v for (c, s), v in end.items() if s == "rongcheng-decay"}
    assert plain.keys() == decay.keys()
    assert sum(plain[c][0] != decay[c][0] for c in plain) > len(plain) // 10


def test_decayed_points_rounding() -> None:
    from socialcredit.scoring.points import decayed_points

    assert [decayed_points(-50, a, 365) for a in (0, 364, 365, 730, 1095)] == [-50, -25, -25, -12, -6]
    assert decayed_points(-5, 100, 100) == -2  # -2.5 rounds half up
    assert decayed_points(5, 100, 100) == 3  # 2.5 rounds half up
    assert decayed_points(-1, 10_000, 1) == 0
    assert decayed_points(7, 10_000, None) == 7


def test_decay_timeline_matches_score_points_every_day() -> None:
    """The score history with decay (found by bisection on the exact formula) equals
    score_points on every single day, including days when points step down."""
    import random

    from socialcredit.scoring.points import score_timeline
    from tests.conftest import person

    scheme = decayed(shipped_registry().scheme("rongcheng"), (None, 30, 200, 1, 365))
    items = [i for i in scheme.items if i.points and "person" in i.subjects]
    rng = random.Random(5)
    start = dt.date(2024, 1, 1)
    until = dt.datetime(2026, 6, 30, 23, 59, 59)
    for n in range(12):
        code = person(n)
        recs = []
        for k in range(rng.randint(1, 6)):
            occurred = start + dt.timedelta(days=rng.randint(0, 700))
            reported = dt.datetime.combine(occurred, dt.time(9)) + dt.timedelta(days=rng.randint(0, 40))
            item = rng.choice(items)
            recs.append(
                Record(
                    record_id=f"r{n}-{k}", subject=code, subject_kind="person", item=item.code,
                    source=item.sources[0], source_record_id=f"{n}-{k}", occurred_on=occurred,
                    reported_at=reported, seq=n * 10 + k + 1,
                )
            )  # fmt: skip
        timeline = score_timeline(code, recs, scheme, until)
        value = scheme.model.base if scheme.model else 0
        changes = dict((d, v) for d, v, _g in timeline)
        day = start
        while day <= days.day_of(until):
            value = changes.get(day, value)
            at = days.end_of(day)  # the end of the day in China, where the days are counted
            assert score_points(code, recs, scheme, at).score == value, (code, day)
            day += dt.timedelta(days=1)


@pytest.mark.slow  # the city: generated, ingested, exported, scored in Python
def test_export_derives_supersession_and_numbers_as_defined(city: City) -> None:
    """The export's ``superseded_at`` is :func:`relational.with_supersession` of its own records
    (the earliest report of a record naming each one), and ``subject_no`` numbers
    ``subjects.parquet`` densely, with every record's number that of its subject."""
    import ibis

    records = pq.read_table(city.directory / "records")
    con = ibis.duckdb.connect()
    bare = con.create_table("r", records.drop(["superseded_at", "occurred_year"]))
    derived = con.to_pyarrow(relational.with_supersession(bare))
    want = dict(zip(derived["seq"].to_pylist(), derived["superseded_at"].to_pylist(), strict=True))
    got = dict(zip(records["seq"].to_pylist(), records["superseded_at"].to_pylist(), strict=True))
    assert got == want
    by_id = {r.record_id: r for r in city.records}
    firsts: dict[str, dt.datetime] = {}
    for r in city.records:  # the same, from the ledger's own records
        if r.corrects:
            firsts[r.corrects] = min(firsts.get(r.corrects, r.reported_at), r.reported_at)
    assert {by_id[rid].seq: at for rid, at in firsts.items()} == {
        k: v for k, v in got.items() if v is not None
    }
    subjects = pq.read_table(city.directory / "subjects.parquet").to_pydict()
    assert sorted(subjects["subject_no"]) == list(range(len(subjects["code"])))
    number = dict(zip(subjects["code"], subjects["subject_no"], strict=True))
    assert all(
        number[s] == n
        for s, n in zip(records["subject"].to_pylist(), records["subject_no"].to_pylist(), strict=True)
    )
