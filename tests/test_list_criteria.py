"""A kind of list criterion is one module behind one protocol, found through one registry
(``criteria/``, decision 0052): a toy criterion registered here, with no edit anywhere else, is read
from a scheme file, walked per subject, decides a measure, and is refused by name, list by list, by
the evaluators that have no population form of it, which still compute the rest of its scheme
(decision 0063)."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pyarrow.parquet as pq
import pytest
from pydantic import Field

from socialcredit import decisions
from socialcredit.criteria import ListCriterion, dispatch, registry
from socialcredit.engines import listing
from socialcredit.engines.base import rescore
from socialcredit.engines.duck import DuckDBEngine
from socialcredit.engines.export import export_ledger
from socialcredit.engines.fields import RELATIONAL
from socialcredit.entries import ListEntry, status_at
from socialcredit.ledger import Record
from socialcredit.lists import entries_for
from socialcredit.rules.days import day_of
from socialcredit.rules.fields import listed_by, scheme_fields
from socialcredit.schemes import SchemeError
from socialcredit.schemes.loader import Registry, parse_scheme
from socialcredit.schemes.model import ListCriteria, ListDef, Scheme
from socialcredit.scoring import scores_for
from socialcredit.service import System
from socialcredit.sim.engine import Simulation
from socialcredit.sim.fields import SIMULATOR
from socialcredit.sim.population import synthesize
from socialcredit.sim.scenario import Settings
from socialcredit.store import Store
from tests.conftest import Clock
from tests.support.records import P, r, red_light
from tests.support.schemes import item, scheme

SRC = Path(__file__).parents[1] / "src/socialcredit"


class RepeatCriteria(ListCriteria):
    """A toy: ``at_least`` records of ``item`` put a subject on the list."""

    by: Literal["repeat"] = "repeat"
    item: str
    at_least: int = Field(2, ge=1)


@dataclass(frozen=True)
class Repeat:
    """The toy's whole module: its class, its check and its walk."""

    by: str = "repeat"
    criteria: type[ListCriteria] = RepeatCriteria
    by_records: bool = True

    def check(self, scheme: Scheme, lst: ListDef) -> str | None:
        crit = lst.criteria
        assert isinstance(crit, RepeatCriteria)
        return None if scheme.item(crit.item) else f"list {lst.id}: no item {crit.item!r}"

    def rates(self, subject: str, scheme: Scheme) -> bool:
        return True

    def entries(
        self,
        subject: str,
        scheme: Scheme,
        lst: ListDef,
        records: Sequence[Record],
        as_of: dt.datetime,
        holidays: frozenset[dt.date],
    ) -> list[ListEntry]:
        crit = lst.criteria
        assert isinstance(crit, RepeatCriteria)
        mine = sorted(
            (x for x in records if x.item == crit.item and x.reported_at <= as_of),
            key=lambda x: x.reported_at,
        )
        if len(mine) < crit.at_least:
            return []
        opened = mine[crit.at_least - 1]
        since = day_of(opened.reported_at)
        end = since + dt.timedelta(days=lst.period_days or 0)
        return [
            ListEntry(
                scheme.id, lst.id, lst.title, lst.kind, subject, status_at(since, end, None, day_of(as_of)),
                since, since, end, None, None, tuple(x.record_id for x in mine[: crit.at_least]),
                lst.legal_basis,
            )
        ]  # fmt: skip


TOY: ListCriterion = Repeat()


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(dispatch, "CRITERIA", registry(*dispatch.CRITERIA.values(), TOY))


def _town() -> Scheme:
    return scheme(
        item(),
        lists=[
            {"id": "repeat", "title": "Repeat offenders", "kind": "black", "period_days": 365,
             "criteria": {"by": "repeat", "item": "traffic.red-light", "at_least": 2}, "legal_basis": "x"}
        ],
        measures=[
            {"id": "no-permit", "title": "No permit", "kind": "punishment", "implemented_by": ["town hall"],
             "trigger": {"lists": ["town/repeat"]}, "legal_basis": "x"}
        ],
    )  # fmt: skip


@pytest.mark.usefixtures("toy")
def test_a_toy_criterion_is_read_walked_and_decided_with_no_edit_elsewhere() -> None:
    town = _town()
    (lst,) = town.lists
    assert isinstance(lst.criteria, RepeatCriteria) and lst.criteria.at_least == 2
    assert Scheme.model_validate(town.model_dump(mode="json")) == town, "it dumps with its own fields"
    first, second = r("traffic.red-light", "2026-03-01"), r("traffic.red-light", "2026-05-01")
    registry_ = Registry.of([town])
    as_of = dt.datetime(2026, 6, 1)
    assert entries_for(P, [first], registry_, as_of) == []
    (entry,) = entries_for(P, [first, second], registry_, as_of)
    assert (entry.qualified_id, entry.since, entry.status) == ("town/repeat", dt.date(2026, 5, 1), "active")
    assert entry.grounds == (first.record_id, second.record_id)
    d = decisions.decide(
        subject=P, subject_kind="person", measure=town.measures[0], entries=[entry], scores={}, at=as_of
    )
    assert not d.allowed and "town/repeat" in str(d.reasons[0])
    # its own check refuses a scheme it cannot walk, at load
    data = town.model_dump(mode="json")
    data["lists"][0]["criteria"]["item"] = "no.such-item"
    with pytest.raises(ValueError, match="list repeat: no item 'no.such-item'"):
        Scheme.model_validate(data)
    # its fields are walked with every scheme model's, declared from its class
    assert {"RepeatCriteria.item", "RepeatCriteria.at_least"} <= set(scheme_fields())
    read, inert, _ = listed_by(frozenset({"items", "grade"}))
    assert "RepeatCriteria.item" in inert and "RepeatCriteria.item" not in read


REDS = {
    "id": "reds", "title": "Red-light runners", "kind": "black", "period_days": 365,
    "criteria": {"by": "items", "items": ["traffic.red-light"], "min_records": 3}, "legal_basis": "x",
}  # fmt: skip
"""A list by items beside the toy's: the engines and the simulator still derive it."""

WHY = "list repeat (by: repeat) sets ListCriteria.by (no population form of this kind of list criterion"


@pytest.mark.usefixtures("toy")
def test_evaluators_without_its_population_form_skip_that_list_by_name() -> None:
    town = _town()
    assert list(listing.refused([town])) == ["town/repeat"]
    assert listing.refused([town])["town/repeat"].startswith(WHY)
    for decl in (RELATIONAL, SIMULATOR):
        decl.check(town)  # the scheme is not refused: only its list is skipped
        assert list(decl.skipped(town)) == ["town/repeat"]
        assert decl.skipped(town)["town/repeat"].startswith(WHY)
        assert decl.reasons(town) == []


@pytest.mark.usefixtures("toy")
def test_the_engines_rescore_the_rest_of_a_scheme_with_a_list_they_have_no_form_of(tmp_path: Path) -> None:
    """Issue 15: "An engine with no form for a list's kind skips the whole scheme, not just the
    list." DuckDB's rescore now writes the scheme's scores and its list by items, and names the
    toy's list as refused with the field."""
    town = _town().model_copy(update={"lists": [*_town().lists, ListDef.model_validate(REDS)]})
    Scheme.model_validate(town.model_dump(mode="json"))
    at = dt.datetime(2026, 6, 1, 3)
    store = Store(f"sqlite:///{tmp_path / 'town.db'}")
    try:
        system = System(store, Registry.of([town]), clock=Clock(at))
        rows = [red_light(P, f"c-{k}", f"2026-0{k}-01") for k in (2, 3, 4)]
        res = system.ingest(enumerate(rows, start=1), origin="t", principal=system.operator())
        assert res.accepted == 3, res.quarantine
        (entry, _repeat) = sorted(system.view(P, at).entries, key=lambda e: e.list_id)
        assert entry.qualified_id == "town/reds" and entry.status == "active"
        records = [x for page in store.iter_records() for x in page]
        export_ledger(store, tmp_path / "export")
    finally:
        store.close()
    engine = DuckDBEngine()
    try:
        result = rescore(engine, tmp_path / "export", [town], at, tmp_path / "s.parquet")
    finally:
        engine.close()
    assert result.skipped == {}, "the scheme is rescored"
    want = scores_for(P, "person", records, [town], at)["town"]
    (row,) = pq.read_table(tmp_path / "s.parquet").to_pylist()
    assert (row["subject"], row["score"], row["grade"]) == (P, want.score, want.grade) == (P, 970, "A")
    assert list(result.lists_refused) == ["town/repeat"] and result.lists_refused["town/repeat"].startswith(
        WHY
    )
    assert result.lists == {"town/reds": {"active": 1}}


@pytest.mark.usefixtures("toy")
def test_the_simulator_runs_the_rest_of_a_scheme_with_a_list_it_has_no_form_of() -> None:
    town = _town().model_copy(update={"lists": [*_town().lists, ListDef.model_validate(REDS)]})
    settings = Settings(scheme="town", feedback=False)
    sim = Simulation([town], settings, synthesize(200, seed=3), seed=3, months=3)
    w = sim.world
    assert w.list_ids == ["town/reds"], "the list by items is simulated"
    assert set(w.skipped) == {"town/repeat", "no-permit"}
    assert w.skipped["town/repeat"].startswith(WHY)
    assert w.skipped["no-permit"].startswith("measure no-permit is triggered by list town/repeat, left out")
    assert [m.id for m in w.measures] == []
    steps = sim.run()["steps"]
    assert len(steps) == 3 and all(len(s["list_sizes"]) == 1 for s in steps)


def test_an_unregistered_criterion_is_refused_naming_the_kinds_there_are() -> None:
    data = scheme(item()).model_dump(mode="json")
    data["lists"] = [
        {"id": "repeat", "title": "Repeat offenders", "kind": "black", "period_days": 365,
         "criteria": {"by": "repeat", "item": "traffic.red-light"}, "legal_basis": "x"}
    ]  # fmt: skip
    there = r"lists.0.criteria: .*criteria by 'repeat': not a kind of list criteria \(by: 'items', 'grade'\)"
    with pytest.raises(SchemeError, match=there):
        parse_scheme(json.dumps(data), "town.yaml")


def test_no_module_dispatches_list_criteria_by_isinstance() -> None:
    """The registry is the one dispatch: the walks and the evaluators' forms are found by ``by``."""
    for path in (
        "lists.py",
        "engines/gradelists.py",
        "sim/world.py",
        "schemes/model.py",
        "schemes/loader.py",
    ):
        source = (SRC / path).read_text()
        assert not re.search(r"isinstance\([^)]*criteria[^)]*,\s*(Item|Grade)Criteria", source), path
