"""Safeguards at load (issue 16, point 4): a scheme with lint errors is never in force.

``serve``, ``score``, ``check``, ``ingest``, ``rescore`` (and ``demo``, and the API app) refuse to
start with it, naming the file, the item and the rule; ``simulate`` runs it only with
``--research-only`` and stamps its report; the relationships factor counts only in simulation.
The operator's own categories are read from ``$SOCIALCREDIT_HOME/categories.yaml``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from socialcredit.api import create_app
from socialcredit.cli import app
from socialcredit.inforce import refuse_failing
from socialcredit.schemes import Registry, Scheme, shipped_registry, shipped_vocabulary
from socialcredit.schemes.categories import extend
from socialcredit.schemes.safeguards import RESEARCH_ONLY, SafeguardsFailed
from socialcredit.service import System
from socialcredit.settings import get_settings
from socialcredit.store import Store
from tests.conftest import person
from tests.support.schemes import HERITAGE

P = person(41)
runner = CliRunner()

PETITIONS = {
    "id": "jiangsu-pilot",
    "title": "A county pilot that deducted points for petitioning",
    "jurisdiction": "a county in Jiangsu",
    "legal_basis": "the county's measures (as reported)",
    "model": {"grades": [{"grade": "A", "min_score": 900}, {"grade": "D", "min_score": 0}]},
    "items": [
        {
            "code": "traffic.red-light",
            "title": "Running a red light",
            "category": "traffic-safety",
            "area": "administrative",
            "polarity": "negative",
            "points": -50,
            "legal_basis": "Road Traffic Safety Law of the PRC, Art. 38 and 90",
            "sources": ["traffic-police"],
            "subjects": ["person"],
            "base_rate_per_year": 0.05,
        },
        {
            "code": "conduct.visits-to-higher-authorities",
            "title": "Visits to higher authorities",
            "category": "public-services",
            "description": "越级上访",
            "area": "social",
            "polarity": "negative",
            "points": -50,
            "legal_basis": "the county's measures (as reported)",
            "sources": ["public-security"],
            "subjects": ["person"],
            "base_rate_per_year": 0.01,
        },
    ],
}
"""The issue's finding: a scheme with petitioning items, in innocent words but for its Chinese."""

WHERE = "items.conduct.visits-to-higher-authorities"


def sesame_friends() -> dict[str, Any]:
    """The issue's other finding: a Sesame copy with the friends' factor at weight 25."""
    data = shipped_registry().scheme("sesame").model_dump(mode="json")
    for f in data["model"]["factors"]:
        if f["source"] == "contacts":
            f["enabled"], f["weight"] = True, 25
    return {**data, "id": "sesame-friends", "measures": []}


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An installation with the embedded database; refusals come before it is opened."""
    h = tmp_path / "home"
    (h / "schemes").mkdir(parents=True)
    monkeypatch.setenv("SOCIALCREDIT_HOME", str(h))
    monkeypatch.delenv("SOCIALCREDIT_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield h
    get_settings.cache_clear()


def put(home: Path, data: dict[str, Any]) -> Path:
    path = home / "schemes" / f"{data['id']}.yaml"
    path.write_text(json.dumps(data), encoding="utf-8")  # JSON is YAML
    return path


def records(tmp_path: Path) -> Path:
    f = tmp_path / "r.jsonl"
    row = {"subject": P, "item": "traffic.minor", "source": "traffic-police", "source_record_id": "t-1"}
    f.write_text(json.dumps({**row, "occurred_on": "2026-09-03"}) + "\n")
    return f


@pytest.mark.parametrize(
    "args",
    [
        ["serve"],
        ["score", P],
        ["check", P, "no-flights"],
        ["ingest", "RECORDS"],
        ["rescore"],
        ["demo", "--residents", "100", "--no-serve"],
        ["register", "RECORDS"],
    ],
    ids=lambda a: a[0],
)
def test_commands_refuse_to_start_naming_file_item_and_rule(home: Path, args: list[str]) -> None:
    path = put(home, PETITIONS)
    argv = [str(records(home)) if a == "RECORDS" else a for a in args]
    result = runner.invoke(app, argv)
    assert result.exit_code == 2, result.output
    err = " ".join(result.stderr.split())
    assert "fails the safeguards" in err
    assert f"{path}: {WHERE}: filed under Public services and transport" in err
    assert "Petitioning and complaints to authorities" in err and "[protected-activity]" in err
    assert "Traceback" not in result.output
    assert not (home / "socialcredit.db").exists()  # refused before the database was opened


def test_the_friends_factor_counts_only_in_simulation(home: Path) -> None:
    path = put(home, sesame_friends())
    result = runner.invoke(app, ["score", P])
    assert result.exit_code == 2
    err = " ".join(result.stderr.split())
    assert f"{path}: model.factors.relationships: factor relationships scores a subject" in err
    assert "weight 25" in err and "[relationships-factor]" in err and "simulate --relationships" in err


def test_an_item_without_a_category_is_refused_at_load(home: Path) -> None:
    data = json.loads(json.dumps(PETITIONS))
    data["items"] = data["items"][:1]
    del data["items"][0]["category"]
    path = put(home, data)
    result = runner.invoke(app, ["score", P])
    assert result.exit_code == 2
    assert f"{path}: items.traffic.red-light: the item declares no category" in " ".join(
        result.stderr.split()
    )


def test_lint_without_a_file_lists_every_finding_in_force(home: Path) -> None:
    path = put(home, PETITIONS)
    result = runner.invoke(app, ["lint", "--json"])
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    errors = [(f["file"], f["where"], f["rule"]) for f in body["findings"] if f["level"] == "error"]
    assert errors == [(str(path), WHERE, "protected-activity")]
    warned = {(f["file"], f["rule"]) for f in body["findings"] if f["level"] == "warning"}
    assert ("joint-memorandum-2016.yaml (shipped)", "third-party-measure") in warned
    path.unlink()
    assert runner.invoke(app, ["lint"]).exit_code == 0


def test_the_api_app_refuses_a_failing_registry(tmp_path: Path) -> None:
    bad = Scheme.model_validate(PETITIONS)
    registry = Registry.of([*shipped_registry().schemes.values(), bad], {bad.id: "county.yaml"})
    with pytest.raises(SafeguardsFailed) as exc:
        refuse_failing(registry)
    assert f"county.yaml: {WHERE}:" in str(exc.value) and "[protected-activity]" in str(exc.value)
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        with pytest.raises(SafeguardsFailed, match="county.yaml"):
            create_app(System(store, registry))
        create_app(System(store, shipped_registry()))  # the shipped set starts
    finally:
        store.close()


def test_the_service_layer_refuses_a_failing_registry(tmp_path: Path) -> None:
    """DOMAIN.md: "the scheme linter flags such items", and a scheme with a lint error is never
    in force: a system assembled in Python, not by the command line or the API app, refused to
    start as well; before, it ingested and scored a petitioning item. An operator's category is
    judged by the vocabulary given, as the command line gives its installation's."""
    bad = Scheme.model_validate(PETITIONS)
    registry = Registry.of([*shipped_registry().schemes.values(), bad], {bad.id: "county.yaml"})
    store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
    try:
        with pytest.raises(SafeguardsFailed, match="county.yaml") as exc:
            System(store, registry)
        assert f"county.yaml: {WHERE}:" in str(exc.value) and "[protected-activity]" in str(exc.value)
        own = Scheme.model_validate(heritage_scheme())
        mine = Registry.of([*shipped_registry().schemes.values(), own])
        with pytest.raises(SafeguardsFailed, match="unknown-category"):
            System(store, mine)
        System(store, mine, vocabulary=extend(shipped_vocabulary(), HERITAGE, "categories.yaml"))
    finally:
        store.close()


# --- the operator's categories, at load --------------------------------------------------------------


def heritage_scheme() -> dict[str, Any]:
    item = {
        "code": "heritage.damage",
        "title": "Administrative penalty for damaging a protected cultural relic",
        "category": "heritage-protection",
        "area": "administrative",
        "polarity": "negative",
        "points": -30,
        "legal_basis": "Law of the PRC on the Protection of Cultural Relics (2017), Art. 66",
        "sources": ["culture"],
    }
    return {**PETITIONS, "id": "heritage-city", "items": [PETITIONS["items"][0], item]}


def test_an_operators_category_puts_a_scheme_in_force(
    store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the operator's vocabulary the city's scheme is in force and records of its own
    category are ingested and scored; without it, the same scheme is refused."""
    h = tmp_path / "home"
    (h / "schemes").mkdir(parents=True)
    monkeypatch.setenv("SOCIALCREDIT_HOME", str(h))
    if store_url.startswith("postgresql"):
        monkeypatch.setenv("SOCIALCREDIT_DATABASE_URL", store_url)
    else:
        monkeypatch.delenv("SOCIALCREDIT_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    try:
        put(h, heritage_scheme())
        refused = runner.invoke(app, ["score", P])
        assert refused.exit_code == 2 and "[unknown-category]" in " ".join(refused.stderr.split())
        (h / "categories.yaml").write_text(HERITAGE, encoding="utf-8")
        f = tmp_path / "r.jsonl"
        row = {"subject": P, "item": "heritage.damage", "source": "culture", "source_record_id": "h-1"}
        f.write_text(json.dumps({**row, "occurred_on": "2026-09-03"}) + "\n")
        done = runner.invoke(app, ["ingest", str(f), "--json"])
        assert done.exit_code == 0, done.output
        assert json.loads(done.stdout)["accepted"] == 1
        scored = json.loads(runner.invoke(app, ["score", P, "--scheme", "heritage-city", "--json"]).stdout)
        assert scored["scores"][0]["score"] == 1000 - 30
    finally:
        get_settings.cache_clear()


def test_an_operator_file_redefining_a_never_scorable_category_stops_everything(home: Path) -> None:
    (home / "categories.yaml").write_text(HERITAGE.replace("heritage-protection", "religion-or-belief"))
    for args in (["score", P], ["lint"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, result.output
        assert (
            "category religion-or-belief: Religion or belief (宗教信仰) is never scorable and cannot be "
            in (" ".join(result.stderr.split()))
        )


# --- simulate: research only ---------------------------------------------------------------------------


def test_simulate_runs_a_failing_scheme_only_with_research_only_and_stamps_the_report(home: Path) -> None:
    path = put(home, PETITIONS)
    out = home / "report"
    argv = ["simulate", "--scheme", "jiangsu-pilot", "--population", "100", "--years", "1", "--out", str(out)]
    refused = runner.invoke(app, argv)
    assert refused.exit_code == 2
    err = " ".join(refused.stderr.split())
    assert f"{path}: {WHERE}:" in err and "--research-only" in err
    assert not out.exists()
    done = runner.invoke(app, [*argv, "--research-only", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["stamp"] == RESEARCH_ONLY
    doc = json.loads((out / "report.json").read_text())
    assert next(iter(doc)) == "stamp" and doc["stamp"] == RESEARCH_ONLY
    assert any(WHERE in b for b in doc["safeguard_breaches"])
    page = (out / "report.html").read_text()
    assert page.index(RESEARCH_ONLY) < page.index("<h1>") and WHERE in page
    # a failing scheme outside the simulated world plays no part: rongcheng runs unstamped
    plain = runner.invoke(app, [*argv[:2], "rongcheng", *argv[3:], "--json"])
    assert plain.exit_code == 0, plain.output
    assert json.loads(plain.stdout)["stamp"] is None
