"""A change of a list's rules that leaves earlier listings as they were (issue 16, point 1: "The
corrected court rules state whether listings that ended under the old model are re-evaluated (a
correction of a modelling error) or stay ended. The choice is recorded and shown to the subjects
concerned"; decision 0051).

A town lists a subject for a red light. Version 1 (from 2020): one red light lists for 365 days,
each further one adds 30 (at most 730), paying the fine removes the listing. Version 2 (from 1
January 2025, ``stay-ended``): two red lights within a year list for 180 days. An entry made under
version 1 keeps the period version 1 set (the listing decision fixed it, SPC provisions Art. 2: "2
years from the listing decision"); grounds reported from 1 January 2025 (a day in China) are
judged by version 2 only. Every evaluator walks the same segments: per subject, DuckDB and Spark
agree entry for entry on random histories, and through the store on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import random
from contextlib import closing
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from fastapi.testclient import TestClient

from socialcredit import ledger
from socialcredit.api.app import create_app
from socialcredit.engines import relational
from socialcredit.engines.base import Engine, rescore
from socialcredit.engines.duck import DuckDBEngine
from socialcredit.engines.export import export_ledger
from socialcredit.engines.listing import REPRESENTATIVE_SCHEMA, population_listing, working_calendar
from socialcredit.engines.suspending import OBJECTION_SCHEMA
from socialcredit.ledger import Record
from socialcredit.lists import ListEntry, entries_for
from socialcredit.rules import days
from socialcredit.schemes import shipped_registry
from socialcredit.schemes.loader import Registry, SchemeError, parse_scheme, shipped_previous
from socialcredit.schemes.segments import list_segments, segmented
from socialcredit.service import System
from socialcredit.service.decisions import Question
from tests.conftest import person
from tests.support.cli import run
from tests.support.engines import entry_row, list_rows
from tests.support.portal import client_for

TOWN = "town-lists"
LIST = f"{TOWN}/red-light-list"
RED, PAID = "town.red-light", "town.fine-paid"
MEASURE = "town-no-licence-renewal"
CHANGE = dt.date(2025, 1, 1)
AS_OF = dt.datetime(2026, 6, 30, 4, 0)
P = person(511)

V1_LIST = """    criteria: {by: items, items: [town.red-light]}
    period_days: 365
    extension_days: 30
    max_period_days: 730
    removal: {on_items: [town.fine-paid], within_working_days: 3}
    notice: {required: true, days: 10}"""
V2_LIST = """    criteria: {by: items, items: [town.red-light], min_records: 2, window_days: 365}
    period_days: 180
    removal: {on_items: [town.fine-paid], within_working_days: 3}
    notice: {required: true, days: 5}"""
STAY = """revision:
  replaces: "1"
  earlier_listings: stay-ended
  reason: The town's 2025 measures list only repeated red lights, for 180 days.
"""


def town(version: str, effective: str, body: str, revision: str = "") -> str:
    return f"""id: {TOWN}
title: Town lists
jurisdiction: Town
version: "{version}"
effective_from: {effective}
{revision}legal_basis: Town Measures on Red-Light Listing ({version})
items:
  - code: {RED}
    title: Running a red light
    category: traffic-safety
    area: administrative
    polarity: negative
    legal_basis: Road Traffic Safety Law of the PRC, Art. 90
    sources: [traffic-police]
  - code: {PAID}
    title: Fine paid
    category: traffic-safety
    area: administrative
    polarity: positive
    legal_basis: Road Traffic Safety Law of the PRC, Art. 90
    sources: [traffic-police]
lists:
  - id: red-light-list
    title: Red-light list
    kind: black
{body}
    legal_basis: Town Measures on Red-Light Listing, Art. 3
measures:
  - id: {MEASURE}
    title: No licence renewal
    kind: punishment
    implemented_by: [town-office]
    trigger: {{lists: [{LIST}]}}
    applies_to: [person]
    legal_basis: Town Measures on Red-Light Listing, Art. 5
"""


V1 = town("1", "2020-01-01", V1_LIST)
V2 = town("2", "2025-01-01", V2_LIST, STAY)


def registry(*texts: str) -> Registry:
    shipped = shipped_registry()
    mine = [parse_scheme(t, f"town v{n + 1}") for n, t in enumerate(texts)]
    return Registry.of([*shipped.schemes.values(), *mine], previous=shipped_previous())


REGISTRY = registry(V1, V2)


def rec(n: int, item: str, reported: str, subject: str = P, occurred: str | None = None) -> Record:
    """A record ``reported`` at that UTC moment (occurred that day in China unless told)."""
    at = dt.datetime.fromisoformat(reported)
    on = dt.date.fromisoformat(occurred) if occurred else days.day_of(at)
    return Record(
        f"{subject[-4:]}-{n}", subject, "person", item, "traffic-police", f"{subject}-{n}", on, at, seq=n
    )


def entries(*records: Record, as_of: dt.datetime = AS_OF, subject: str = P) -> list[ListEntry]:
    found = entries_for(subject, list(records), REGISTRY.at(days.day_of(as_of)), as_of)
    return [e for e in found if e.qualified_id == LIST]


def test_an_entry_made_under_the_old_version_keeps_its_period() -> None:
    # version 1 set 365 days from the listing taking effect (10 days' notice); version 2's 180
    # days do not reach back, asked before or after the change
    [before] = entries(rec(1, RED, "2024-06-03T02:00"), as_of=dt.datetime(2024, 12, 30))
    [after] = entries(rec(1, RED, "2024-06-03T02:00"))
    assert before.since == after.since == dt.date(2024, 6, 13)
    assert before.planned_end == after.planned_end == dt.date(2025, 6, 13)
    assert before.revised is None  # before the change there is nothing to tell
    assert after.revised is not None and "made under version 1" in after.revised
    assert "stay as that version set them" in after.revised and "only repeated red lights" in after.revised


def test_from_the_change_on_grounds_are_judged_by_the_new_version() -> None:
    # one red light from 2025 lists no one (version 2 wants two within a year) ...
    assert entries(rec(1, RED, "2025-03-03T02:00")) == []
    # ... two do, for 180 days after 5 days' notice, and the entry says nothing of version 1
    [e] = entries(rec(1, RED, "2025-03-03T02:00"), rec(2, RED, "2025-04-01T02:00"))
    assert (e.since, e.planned_end, e.grounds, e.revised) == (
        dt.date(2025, 4, 6), dt.date(2025, 10, 3), (f"{P[-4:]}-1", f"{P[-4:]}-2"), None
    )  # fmt: skip
    # a red light of 2024 does not count towards version 2's two: the new rules do not reach back
    assert [x.since for x in entries(rec(1, RED, "2024-01-02T02:00"), rec(2, RED, "2025-03-03T02:00"))] == [
        dt.date(2024, 1, 12)
    ]


def test_the_change_falls_on_a_day_in_china() -> None:
    # 16:30 UTC on 31 December 2024 is 1 January 2025 in China: version 2's day, one red light
    assert entries(rec(1, RED, "2024-12-31T16:30")) == []
    [old] = entries(rec(1, RED, "2024-12-31T15:30"))  # 23:30 in China: version 1's
    assert old.planned_end == dt.date(2026, 1, 10)


def test_the_old_version_removal_and_extension_still_apply_to_its_entries() -> None:
    # version 1's own rules run its entry to its end: a fine paid in 2025 removes it, within 3
    # working days of the payment; further red lights from 2025 are version 2's, not an extension
    [paid] = entries(rec(1, RED, "2024-06-03T02:00"), rec(2, PAID, "2025-02-03T02:00"))
    assert (paid.status, paid.ended_on, paid.removal_due) == (
        "removed",
        dt.date(2025, 2, 3),
        dt.date(2025, 2, 6),
    )
    old, new = entries(
        rec(1, RED, "2024-06-03T02:00"), rec(2, RED, "2025-02-03T02:00"), rec(3, RED, "2025-03-03T02:00")
    )
    assert old.planned_end == dt.date(2025, 6, 13) and len(old.grounds) == 1
    assert new.since == dt.date(2025, 3, 8) and len(new.grounds) == 2


def test_only_a_changed_list_is_cut_in_segments() -> None:
    found = list_segments(REGISTRY, REGISTRY.schemes[TOWN], "red-light-list")
    assert [(s.version.version, s.start, s.end) for s in found] == [("1", None, CHANGE), ("2", CHANGE, None)]
    assert LIST in segmented(REGISTRY) and "court-dishonest-debtors/dishonest-debtors" not in segmented(
        REGISTRY
    )
    same = registry(V1, town("2", "2025-01-01", V1_LIST, STAY))
    assert segmented(same) == {}  # the same rules: walked whole, as before
    # before the change only version 1 is in force: one segment
    assert segmented(REGISTRY.at(dt.date(2024, 12, 31))) == {}


def test_a_stay_ended_version_that_could_not_be_walked_is_refused_by_name() -> None:
    dropped = town("2", "2025-01-01", V2_LIST, STAY).replace("id: red-light-list", "id: other-list")
    with pytest.raises(SchemeError, match="drops list red-light-list of version 1"):
        registry(V1, dropped)
    with pytest.raises(
        SchemeError, match="keeps listings that ended under version 1 .stay-ended., which is not loaded"
    ):
        registry(V2)
    wrong = town("3", "2025-01-01", V2_LIST, STAY)  # says it replaces 1; the one before is 2
    with pytest.raises(SchemeError, match="stay-ended replaces the version in force until it"):
        registry(V1, town("2", "2023-01-01", V1_LIST), wrong)


# ----------------------------------------------------------------------------- every evaluator


def _history(rng: random.Random, subject: str) -> list[Record]:
    out = []
    for n in range(rng.randint(1, 7)):
        day = dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(0, 800))
        late = rng.choice([0, 0, 0, 20])  # some reported weeks after they occurred
        at = days.start_of(day + dt.timedelta(days=late)) + dt.timedelta(hours=rng.choice([1, 10, 23]))
        item = RED if rng.random() < 0.75 else PAID
        out.append(
            Record(
                f"{subject[-4:]}-{n}",
                subject,
                "person",
                item,
                "traffic-police",
                f"{subject}-{n}",
                day,
                at,
                seq=n,
            )
        )
    return out


def _table(records: list[Record]) -> pa.Table:
    return pa.Table.from_pylist(
        [{"seq": k, "record_id": r.record_id, "subject": r.subject, "item": r.item,
          "occurred_on": r.occurred_on, "reported_at": r.reported_at, "action": "report",
          "subject_no": k, "details": ledger.canonical_details(r.details)} for k, r in enumerate(records, 1)],
        schema=relational.RECORD_SCHEMA,
    )  # fmt: skip


def _population_rows(engine: Engine, records: list[Record], as_of: dt.datetime) -> list[Any]:
    in_force = REGISTRY.at(days.day_of(as_of))
    scheme = in_force.schemes[TOWN]
    lists = [(scheme, scheme.lists[0])]
    expr = population_listing(
        engine.table(_table(records), "records"),
        engine.table(pa.Table.from_pylist([], schema=REPRESENTATIVE_SCHEMA), "representatives"),
        lists,
        as_of,
        calendar=engine.table(working_calendar(frozenset(), as_of, lists), "calendar"),
        objections=engine.table(pa.Table.from_pylist([], schema=OBJECTION_SCHEMA), "objections"),
        segments=segmented(in_force),
    )
    return list_rows(engine, expr)


def _per_subject_rows(histories: dict[str, list[Record]], as_of: dt.datetime) -> list[Any]:
    items = {r.record_id: r.item for h in histories.values() for r in h}
    rows = [entry_row(e, items) for s, h in histories.items() for e in entries(*h, as_of=as_of, subject=s)]
    return sorted(rows, key=repr)


@pytest.mark.parametrize("name", ["duckdb", pytest.param("spark", marks=pytest.mark.slow)])
def test_every_evaluator_walks_the_same_segments(request: pytest.FixtureRequest, name: str) -> None:
    rng = random.Random(51)
    histories = {s: _history(rng, s) for s in (person(600 + k) for k in range(60))}
    every = [r for h in histories.values() for r in h]
    engine: Engine
    if name == "spark":
        from socialcredit.engines.spark import SparkEngine

        engine = SparkEngine(request.getfixturevalue("spark"))
    else:
        engine = DuckDBEngine()
    try:
        for as_of in (dt.datetime(2024, 12, 31, 4), AS_OF):
            want = _per_subject_rows(histories, as_of)
            assert len(want) > 20
            assert _population_rows(engine, every, as_of) == want
    finally:
        engine.close()


# ----------------------------------------------------------------------------- the service


def _row(n: int, item: str, occurred: str) -> tuple[int, dict[str, Any]]:
    return n, {"subject": P, "item": item, "source": "traffic-police", "source_record_id": f"t-{n}",
               "occurred_on": occurred, "reported_at": f"{occurred}T02:00:00"}  # fmt: skip


def test_the_choice_is_shown_to_the_subject_concerned(system: System, tmp_path: Path) -> None:
    """On SQLite and PostgreSQL: the API's subject view and the portal's subject page tell the
    subject that their entry was made under version 1 and why it stands; the rescore agrees."""
    s = System(system.store, REGISTRY, clock=system.clock)
    rows = [_row(1, RED, "2024-06-03"), _row(2, RED, "2025-03-03"), _row(3, RED, "2025-04-01")]
    assert s.ingest(rows, origin="test", principal=s.operator()).accepted == 3
    mine = {"Authorization": f"Bearer {s.create_key('subject', P).token}"}
    app = create_app(s)
    with closing(TestClient(app)) as client:
        view = client.get(f"/subjects/{P}", headers=mine, params={"as_of": "2025-05-01"})
        assert view.status_code == 200, view.text
        listed = [e for e in view.json()["lists"] if e["list_id"] == LIST]
        assert [(e["since"], e["planned_end"]) for e in listed] == [
            ("2024-06-13", "2025-06-13"),
            ("2025-04-06", "2025-10-03"),
        ]
        assert "made under version 1" in (listed[0]["revised"] or "") and listed[1]["revised"] is None
    page = client_for(app, mine["Authorization"].removeprefix("Bearer ")).get(
        f"/portal/subjects/{P}?at=2025-05-01"
    )
    assert "made under version 1 of these rules" in page.text
    # the relational rescore, as `socialcredit rescore` runs it, gives the same two entries
    at = days.end_of(dt.date(2025, 5, 1))
    export_ledger(s.store, tmp_path / "export")
    in_force = s.registry.at(days.day_of(at))
    engine = DuckDBEngine()
    try:
        out = tmp_path / "scores.parquet"
        rescore(
            engine,
            tmp_path / "export",
            [],
            at,
            out,
            list_schemes=[in_force.schemes[TOWN]],
            lists_out=tmp_path / "l.parquet",
            segments=segmented(in_force),
        )
    finally:
        engine.close()
    got = sorted(
        (r["since"], r["planned_end"])
        for r in pq.read_table(tmp_path / "l.parquet").to_pylist()
        if r["list"] == LIST
    )
    assert got == [(dt.date(2024, 6, 13), dt.date(2025, 6, 13)), (dt.date(2025, 4, 6), dt.date(2025, 10, 3))]


NOTE_ZH = "依本规则第 1 版作出；第 2 版自 2025-01-01 起修改了规则"
NOTE_EN = "made under version 1 of these rules; version 2 changed them from 2025-01-01"


def test_the_note_is_in_the_readers_language(system: System, env: Path) -> None:
    """Issue 16: the choice is "shown to the subjects concerned", and issue 18: in their language
    (decision 0053). The note on an entry made under version 1 is worded in Chinese in the API
    (``Accept-Language: zh-CN``), on the portal (a Chinese reader's page) and by ``score --lang zh-CN``;
    the revision's reason is the scheme's own words (an operator's scheme has no Chinese for it)."""
    s = System(system.store, REGISTRY, clock=system.clock)
    rows = [_row(1, RED, "2024-06-03"), _row(2, RED, "2025-03-03")]
    assert s.ingest(rows, origin="test", principal=s.operator()).accepted == 2
    token = s.create_key("subject", P).token
    app = create_app(s)
    with closing(TestClient(app)) as client:
        for lang, note in (("zh-CN", NOTE_ZH), ("en", NOTE_EN)):
            view = client.get(
                f"/subjects/{P}",
                headers={"Authorization": f"Bearer {token}", "Accept-Language": lang},
                params={"as_of": "2025-05-01"},
            )
            [entry] = [e for e in view.json()["lists"] if e["list_id"] == LIST]
            assert (entry["revised"] or "").startswith(note), (lang, entry["revised"])
            assert "only repeated red lights" in entry["revised"]
    chinese = client_for(app, token, "zh-CN").get(f"/portal/subjects/{P}?at=2025-05-01").text
    assert NOTE_ZH in chinese and NOTE_EN not in chinese
    assert NOTE_EN in client_for(app, token).get(f"/portal/subjects/{P}?at=2025-05-01").text
    # the command line, on the same records through the operator's scheme files
    folder = env / "home" / "schemes"
    folder.mkdir(parents=True)
    (folder / "town-1.yaml").write_text(V1, encoding="utf-8")
    (folder / "town-2.yaml").write_text(V2, encoding="utf-8")
    data = env / "rows.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for _, r in rows), encoding="utf-8")
    assert run("ingest", str(data)).exit_code == 0
    zh = run("--lang", "zh-CN", "score", P, "--at", "2025-05-01")
    assert zh.exit_code == 0, zh.output
    assert NOTE_ZH in " ".join(zh.output.split()) and "made under version" not in zh.output
    en = run("--lang", "en", "score", P, "--at", "2025-05-01")
    assert NOTE_EN in " ".join(en.output.split())


def test_a_decision_is_reproduced_with_the_version_whose_listings_stand(system: System) -> None:
    """A receipt names version 2 by its hash; reproduced after the file changed, version 1's
    rules are read again for the entry made under it (``scheme_versions`` keeps both)."""
    s = System(system.store, REGISTRY, clock=system.clock)
    assert s.ingest([_row(1, RED, "2024-06-03")], origin="test", principal=s.operator()).accepted == 1
    at = days.end_of(dt.date(2025, 5, 1))
    d = s.check(Question(P, MEASURE, s.operator(), purpose="test", at=at))
    assert d.answer == "deny" and d.receipt is not None  # listed under version 1 until 2025-06-13
    edited = registry(V1, V2.replace("title: Town lists", "title: Town red-light lists"))
    later = System(system.store, edited, clock=system.clock)
    r = later.reproduce(d.receipt.decision_id, later.operator())
    assert r.again.answer == "deny"
