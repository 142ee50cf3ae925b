"""Versions of a scheme in force over time (issue 16, point 1: "Scheme files carry a version and an
effective date, and a rule change applies from that date. The corrected court rules state whether
listings that ended under the old model are re-evaluated (a correction of a modelling error) or
stay ended"; decision 0038). A town scheme costs 10 points a red light from 2020 (version 1) and
50 from 2025 (version 2): every evaluator answers for a day under the version in force that day.
Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from contextlib import closing
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from socialcredit.api.app import create_app
from socialcredit.engines.base import Engine, rescore
from socialcredit.engines.duck import DuckDBEngine
from socialcredit.engines.export import export_ledger
from socialcredit.rules import days
from socialcredit.schemes import shipped_registry
from socialcredit.schemes.loader import Registry, SchemeError, shipped_previous
from socialcredit.scoring.dispatch import timeline_over
from socialcredit.service import Question, System
from tests.conftest import person
from tests.support.cli import jrun, run
from tests.support.portal import client_for
from tests.support.versions import CORRECTION, MEASURE, RED_LIGHT, TOWN, V1, V2, parsed, town, write

P = person(381)
BEFORE, AFTER = days.end_of(dt.date(2024, 12, 31)), days.end_of(dt.date(2025, 1, 2))
EARLY = days.end_of(dt.date(2019, 12, 31))


def registry(*texts: str) -> Registry:
    shipped = shipped_registry()
    return Registry.of([*shipped.schemes.values(), *parsed(*texts)], previous=shipped_previous())


def with_town(system: System, *texts: str) -> System:
    out = System(system.store, registry(*texts), clock=system.clock)
    rows = [(1, {"subject": P, **RED_LIGHT})]
    assert out.ingest(rows, origin="test", principal=out.operator()).accepted == 1
    return out


def town_score(system: System, at: dt.datetime) -> int | None:
    s = system.view(P, as_of=at).scores.get(TOWN)
    return None if s is None else s.score


def test_a_rule_change_applies_from_its_effective_date(system: System) -> None:
    # "a rule change applies from that date": version 1 until 31 December 2024, version 2 after
    s = with_town(system, V1, V2)
    assert town_score(s, BEFORE) == 990
    assert town_score(s, AFTER) == 950
    assert s.view(P, as_of=BEFORE).versions[TOWN] == "1"
    assert s.view(P, as_of=AFTER).versions[TOWN] == "2"
    op = s.operator()
    assert s.check(Question(P, MEASURE, op, purpose="test", at=BEFORE)).allowed
    after = s.check(Question(P, MEASURE, op, purpose="test", at=AFTER))
    assert not after.allowed and after.reasons[0].basis == "grade"
    # the receipt names the version that gave the answer, and reproduces it
    v1, v2 = parsed(V1, V2)
    assert s.check(Question(P, MEASURE, op, purpose="t", at=BEFORE)).receipt.schemes[TOWN] == v1.content_hash  # type: ignore[union-attr]
    assert after.receipt is not None and after.receipt.schemes[TOWN] == v2.content_hash


def test_before_its_first_version_a_scheme_is_not_in_force(system: System) -> None:
    s = with_town(system, V1, V2)
    view = s.view(P, as_of=EARLY)
    assert TOWN not in view.scores and view.not_in_force == {TOWN: dt.date(2020, 1, 1)}
    d = s.check(Question(P, MEASURE, s.operator(), purpose="test", at=EARLY))
    assert d.allowed and d.reasons[0].basis == "not-in-force"
    assert "not yet in force on 2019-12-31" in d.reasons[0].text and "2020-01-01" in d.reasons[0].text


def test_a_correction_applies_back_in_time(system: System) -> None:
    # "re-evaluated (a correction of a modelling error)": the corrected rules always applied
    s = with_town(system, V1, CORRECTION)
    assert town_score(s, BEFORE) == 950
    assert town_score(s, AFTER) == 950
    assert town_score(s, EARLY) is None  # from version 1's day, which it corrects
    rows = {r.version: r for r in s.registry.version_rows(TOWN, dt.date(2024, 6, 1))}
    assert rows["1"].status == "replaced" and rows["2"].status == "in force"
    assert rows["2"].applies_from == dt.date(2020, 1, 1)


def test_the_score_history_takes_each_day_from_its_own_version(system: System) -> None:
    s = with_town(system, V1, V2)
    records = s.view(P, as_of=AFTER).records
    history = timeline_over(P, records, s.registry.versions(TOWN), AFTER)
    assert history == [
        (dt.date(2020, 1, 1), 1000, "A"),
        (dt.date(2024, 6, 1), 990, "A"),
        (dt.date(2025, 1, 1), 950, "D"),
    ]
    for day, value, _ in history:
        assert town_score(s, days.end_of(day)) == value


@pytest.mark.parametrize("name", ["duckdb", pytest.param("spark", marks=pytest.mark.slow)])
def test_the_rescore_agrees_as_of_each_date(
    request: pytest.FixtureRequest, system: System, tmp_path: Path, name: str
) -> None:
    s = with_town(system, V1, V2)
    export_ledger(s.store, tmp_path / "export")
    for at in (EARLY, BEFORE, AFTER):
        in_force = s.registry.at(days.day_of(at))  # what the CLI and spark-submit pass (0038)
        out = tmp_path / f"scores-{name}-{at:%Y%m%d}"
        engine: Engine
        if name == "spark":
            from socialcredit.engines.spark import SparkEngine

            engine = SparkEngine(request.getfixturevalue("spark"))
        else:
            engine = DuckDBEngine()
            out = out.with_suffix(".parquet")
        try:
            rescore(engine, tmp_path / "export", in_force.scored(), at, out, list_schemes=[])
        finally:
            engine.close()
        got = {r["subject"]: r["score"] for r in pq.read_table(out).to_pylist() if r["scheme"] == TOWN}
        assert got.get(P) == town_score(s, at)


def test_versions_need_effective_dates_of_their_own(env: Path) -> None:
    write(env / "home", v2=V2, v3=town("3", "2025-01-01", -20))
    result = run("schemes")
    assert result.exit_code == 2
    assert "versions 2" in result.output and "both effective from 2025-01-01" in result.output
    assert "v2.yaml" in result.output and "v3.yaml" in result.output


def test_one_version_twice_is_refused_naming_both_files(env: Path) -> None:
    write(env / "home", a=V1, b=town("1", "2021-01-01", -10))
    result = run("schemes")
    assert result.exit_code == 2 and "version 1 is loaded twice" in result.output
    assert "a.yaml" in result.output and "b.yaml" in result.output


def test_a_version_with_lint_errors_is_never_in_force(env: Path) -> None:
    # issue 16, point 4: "A scheme with lint errors is never in force"; every version is linted
    bad = V2.replace("category: traffic-safety", "category: petitioning")
    write(env / "home", v1=V1, v2=bad)
    result = run("score", P, "--at", "2024-12-31")
    assert result.exit_code != 0 and "v2.yaml" in result.output


def test_score_at_uses_the_version_in_force_that_day(env: Path) -> None:
    write(env / "home", v1=V1, v2=V2)
    rows = env / "rows.jsonl"
    row = {"subject": P, **RED_LIGHT}
    rows.write_text(json.dumps(row) + "\n", encoding="utf-8")
    assert run("ingest", str(rows)).exit_code == 0
    before, after = jrun("score", P, "--at", "2024-12-31"), jrun("score", P, "--at", "2025-01-02")
    assert {s["scheme"]: s["score"] for s in before["scores"]}[TOWN] == 990
    assert {s["scheme"]: s["score"] for s in after["scores"]}[TOWN] == 950
    assert before["versions"][TOWN] == "1" and after["versions"][TOWN] == "2"  # the version that answered
    shown = {v["id"]: v for v in jrun("schemes")["data"]}[TOWN]
    assert [(v["version"], v["effective_from"], v["status"]) for v in shown["versions"]] == [
        ("1", "2020-01-01", "earlier"),
        ("2", "2025-01-01", "in force"),
    ]


def test_a_list_changed_without_a_revision_is_refused() -> None:
    # stay-ended is not supported (decision 0038): a list's new rules are a correction
    court = shipped_registry().scheme("court-dishonest-debtors")
    later = court.model_copy(update={"version": "3", "effective_from": dt.date(2027, 1, 1), "revision": None})
    changed = later.model_copy(update={"lists": [later.lists[0].model_copy(update={"title": "Changed"})]})
    with pytest.raises(SchemeError, match="changes its lists from version 2 .* without a revision"):
        Registry.of([court, changed], previous=shipped_previous())
    kept = Registry.of([court, later], previous=shipped_previous())
    assert [v.version for _, v in kept.versions(court.id)] == ["2", "3"]


def test_the_versions_are_shown_in_the_api(system: System) -> None:
    s = with_town(system, V1, V2)
    with closing(TestClient(create_app(s))) as client:
        listed = {x["id"]: x for x in client.get("/schemes").json()["data"]}
        shown = listed[TOWN]
        assert shown["in_force"] == "2" and shown["version"] == "2"  # the test clock: November 2026
        assert [(v["version"], v["applies_from"], v["status"]) for v in shown["versions"]] == [
            ("1", "2020-01-01", "earlier"),
            ("2", "2025-01-01", "in force"),
        ]
        court = listed["court-dishonest-debtors"]["versions"]
        assert [(v["version"], v["status"]) for v in court] == [("2", "in force"), ("1", "replaced")]
        one = client.get(f"/schemes/{TOWN}").json()
        assert one["version"] == "2" and len(one["versions"]) == 2


def test_a_simulation_spanning_a_change_of_version_runs_each_month_under_its_version(env: Path) -> None:
    # issue 16: "a rule change applies from that date"; each month is scored under the version in
    # force on its first day, and the report says which (decision 0064)
    write(env / "home", v1=V1, v2=town("2", "2025-06-01", -50))
    out = env / "sim"
    result = run("simulate", "--scheme", TOWN, "--population", "100", "--years", "1", "--out", str(out))
    assert result.exit_code == 0, result.output
    doc = json.loads((out / "report.json").read_text(encoding="utf-8"))
    [arm] = doc["arms"]
    assert [s["in_force"][TOWN] for s in arm["steps"]] == ["1"] * 5 + ["2"] * 7  # June is month 5
    assert [(v["month"], v["from"], v["in_force"][TOWN]) for v in doc["summary"][0]["versions"]] == [
        (0, "2025-01-01", "1"),
        (5, "2025-06-01", "2"),
    ]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Versions in force" in page and f"{TOWN} 2" in page


def test_a_change_of_what_is_simulated_is_refused_by_name(env: Path) -> None:
    # the simulator carries a run across a change of rules; a version that adds an item changes
    # what is simulated (the population's behaviour is drawn over the first version's items)
    extra = town("2", "2025-06-01", -50).replace(
        "model:",
        """  - code: town.speeding
    title: Speeding
    category: traffic-safety
    area: administrative
    polarity: negative
    points: -5
    legal_basis: Road Traffic Safety Law of the PRC, Art. 90
    sources: [traffic-police]
model:""",
    )
    write(env / "home", v1=V1, v2=extra)
    result = run(
        "simulate", "--scheme", TOWN, "--population", "100", "--years", "1", "--out", str(env / "sim")
    )
    assert result.exit_code == 2
    assert "town-pilot 1 -> 2 on 2025-06-01" in result.output and "changes the items" in result.output


def test_the_portal_shows_each_version_and_which_is_in_force(system: System) -> None:
    s = with_town(system, V1, V2)
    with closing(TestClient(create_app(s))) as client:
        page = client.get(f"/portal/schemes/{TOWN}?lang=en").text
        assert "Versions" in page and "version 1" in page and "version 2" in page
        shown = page[page.index("Versions") :]
        assert shown.index("2020-01-01") < shown.index("2025-01-01") < shown.index("in force</strong>")
        court = client.get("/portal/schemes/court-dishonest-debtors?lang=en").text
        assert "replaced by a correction" in court


def test_the_subject_page_names_the_version_that_answered(system: System) -> None:
    # issue 16, point 1 and decision 0038: "A subject's answers name the version of each scheme
    # that gave them", on the portal as in the API's ``versions`` and ``score --json``
    s = with_town(system, V1, V2)
    app = create_app(s)
    c = client_for(app, s.create_key("subject", P).token)
    now = c.get(f"/portal/subjects/{P}").text
    assert "Answered by version 2 of this scheme, in force from 2025-01-01." in now
    then = c.get(f"/portal/subjects/{P}?at=2024-12-31").text
    assert "Answered by version 1 of this scheme, in force from 2020-01-01." in then
    zh = client_for(app, s.create_key("subject", P).token, lang="zh-CN").get(f"/portal/subjects/{P}").text
    shown = zh[zh.index(f'data-testid="version-{TOWN}"') :]
    assert "2025-01-01" in shown[:200] and "Answered" not in shown[:200]
