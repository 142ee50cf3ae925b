"""The building blocks of the engine tests (one definition evaluated per subject, on DuckDB and on
Spark): the times a city is scored at, hand-made superseding records, variants of the shipped tier
and factor schemes, the city the tier, factor and list tests share, and list entries as rows of
the relational list schema."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from socialcredit import ledger
from socialcredit.dueprocess import restoration
from socialcredit.dueprocess.cases import CaseEvent, Deadlines, Objection, fold_objection
from socialcredit.engines.base import Engine, records_for
from socialcredit.engines.listing import LIST_SCHEMA
from socialcredit.ledger import Record
from socialcredit.lists import ListEntry
from socialcredit.schemes import shipped_registry
from socialcredit.schemes.model import Scheme
from socialcredit.service import System
from socialcredit.store import Store

NOW = dt.datetime(2026, 11, 2, 10, 0, 0)
END = dt.datetime(2026, 10, 31, 23, 59, 59)
MID = dt.datetime(2025, 6, 30, 12, 0, 0)
LATE_CORRECTIONS = dt.datetime(2026, 3, 1, 9, 0, 0)  # after MID, before END
AS_OF = (MID, END)

Key = tuple[str, str]  # subject, scheme


VOID = frozenset(restoration.unrestorable(shipped_registry().schemes.values()))
"""Items whose restoration ends nothing (judicial records: national restoration measures)."""


def corrections(records: list[Record], rng_seed: int = 3, count: int = 60) -> list[dict[str, Any]]:
    """Hand-made superseding records of every kind, some reported before MID, some after."""
    import random

    registry = shipped_registry()
    rng = random.Random(rng_seed)
    early = [r for r in records if r.reported_at < MID - dt.timedelta(days=30) and r.occurred_on.year >= 2024]
    scored = {i.code for s in registry.scored() for i in s.items if i.points}
    early = [r for r in early if r.item in scored]
    picks = rng.sample(early, count)
    persons = sorted({r.subject for r in records if r.subject_kind == "person"})
    rows: list[dict[str, Any]] = []
    n = 0

    def row(
        base: Record, action: str, corrects: str | dict[str, Any], when: dt.datetime, **change: Any
    ) -> dict[str, Any]:
        """A superseding row of ``base``, naming a stored record by its id or a row made here by
        its reference (its id is the store's to give: decision 0080)."""
        nonlocal n
        n += 1
        item = change.get("item", base.item)
        source = (
            base.source
            if base.source in registry.sources_by_item[item]
            else sorted(registry.sources_by_item[item])[0]
        )
        out = {
            "subject": change.get("subject", base.subject),
            "item": item,
            "source": source,
            "source_record_id": f"fix-{n:06d}",
            "occurred_on": change.get("occurred_on", base.occurred_on).isoformat(),
            "reported_at": when.isoformat(),
            "action": action,
        }
        if isinstance(corrects, dict):
            out["corrects_source_record_id"] = corrects["source_record_id"]
        else:
            out["corrects"] = corrects
        rows.append(out)
        return out

    for k, r in enumerate(picks):
        when = (MID - dt.timedelta(days=10)) if k % 2 == 0 else LATE_CORRECTIONS
        kind = k % 6
        if kind == 0:  # withdrawn: it was wrong
            row(r, "withdraw", r.record_id, when)
        elif kind == 1:  # corrected to a graver item of the same subject
            graver = [
                i for i in registry.scheme("rongcheng").items if r.subject_kind in i.subjects and i.points < 0
            ]
            row(r, "correct", r.record_id, when, item=min(graver, key=lambda i: (i.points, i.code)).code)
        elif kind == 2:  # moved to another person (the agency got the subject wrong)
            if r.subject_kind == "person":
                row(r, "correct", r.record_id, when, subject=persons[(k * 37) % len(persons)])
            else:
                row(r, "withdraw", r.record_id, when)
        elif kind == 3:  # corrected date (older: may stop counting), then the correction corrected
            first = row(r, "correct", r.record_id, when, occurred_on=r.occurred_on - dt.timedelta(days=700))
            row(r, "correct", first, when + dt.timedelta(days=20))
        elif kind == 4:  # a correction later withdrawn: nothing stands
            first = row(r, "correct", r.record_id, MID - dt.timedelta(days=20))
            row(r, "withdraw", first, when)
        else:  # restoration: right, but its effect ends from now on
            row(r, "restore", r.record_id, when)
    # a restoration granted before the rule of a court's record: it must end nothing (the national
    # restoration measures do not end a judicial listing), on every evaluator
    judicial = [r for r in early if r.item in VOID and r not in picks]
    if judicial:
        row(judicial[0], "restore", judicial[0].record_id, MID - dt.timedelta(days=5))
    return rows


def variant(scheme: Scheme, change: dict[str, Any]) -> Scheme:
    data = scheme.model_dump()
    data.update(change)
    return Scheme.model_validate(data)


def tier_variant() -> Scheme:
    """honest-shanghai scoring everyone (no enrolment: the shipped one rates only those who
    applied) with decaying items and rules on sums of points (which no shipped tier scheme uses),
    so those paths of the definition are held to the core on every subject."""
    base = shipped_registry().scheme("honest-shanghai")
    data = base.model_dump()
    for k, item in enumerate(data["items"]):
        item["half_life_days"] = (None, 90, 365, 30)[k % 4]
    rules = data["model"]["rules"]
    rules.insert(
        0,
        {
            "tier": "bad",
            "title": "heavy administrative deductions",
            "all_of": [{"of": {"areas": ["administrative"]}, "points_at_most": -25, "within_days": 400}],
        },
    )
    rules.append(
        {
            "tier": "very-good",
            "any_of": [
                {"of": {"polarity": "positive"}, "points_at_least": 12, "within_days": 500},
                {"of": {"items": ["charity.donation"]}, "at_least": 2, "at_most": 3},
            ],
        }
    )
    return variant(
        base,
        {"id": "honest-shanghai-variant", "enrolment": None, "model": data["model"], "items": data["items"]},
    )


def factor_variant() -> Scheme:
    """sesame scoring everyone (no enrolment) with decay on most items: the floating-point paths
    of the map are exercised on every person, not only the enrolled ones."""
    base = shipped_registry().scheme("sesame")
    data = base.model_dump()
    for k, item in enumerate(data["items"]):
        item["half_life_days"] = (None, 60, 200, 7)[k % 4]
    return variant(base, {"id": "sesame-open", "enrolment": None, "items": data["items"]})


@dataclass
class City:
    directory: Path
    system: System
    records: list[Record]
    subjects: list[tuple[str, str]]
    representatives: dict[str, str]  # organisation -> person


def row_builder(rows: list[dict[str, Any]], prefix: str) -> Callable[..., dict[str, Any]]:
    """``add(subject, item, occurred, reported, **fields)``: appends a hand-made ingest row to
    ``rows`` (from the item's first shipped source, numbered ``prefix-00000`` on) and returns it."""
    registry = shipped_registry()

    def add(subject: str, item: str, occurred: str, reported: str, **kw: Any) -> dict[str, Any]:
        row = {
            "subject": subject,
            "item": item,
            "source": sorted(registry.sources_by_item[item])[0],
            "source_record_id": f"{prefix}-{len(rows):05d}",
            "occurred_on": occurred,
            "reported_at": reported,
            **kw,
        }
        rows.append(row)
        return row

    return add


def ledger_records(engine: Engine, city: City) -> Any:
    """The export's records as ``rescore`` reads them (restorations the rule voids end nothing)."""
    return records_for(engine, city.directory, shipped_registry().schemes.values())


def records_by_subject(city: City, as_of: dt.datetime) -> dict[str, list[Record]]:
    out: dict[str, list[Record]] = defaultdict(list)
    for r in ledger.effective(city.records, as_of, (), VOID):
        out[r.subject].append(r)
    return out


Entry = tuple[Any, ...]
COL = {name: i for i, name in enumerate(LIST_SCHEMA.names)}
"""Where each field of :data:`LIST_SCHEMA` sits in an :data:`Entry`."""
HOLIDAYS = frozenset(
    dt.date(y, m, d) for y in range(2022, 2028) for m in range(1, 13) for d in (1, 2, 3, 15, 16)
)
"""Dense on purpose: most removal deadlines (3 working days) cross one."""


def entry_row(e: ListEntry, items: dict[str, str]) -> Entry:
    """A ``ListEntry`` as a row of ``LIST_SCHEMA``: an item list's entry names the record that
    opened it (``items`` maps record ids to items) and every ground, a list by grade's the grade
    its ground names (none once it ended on a change of grade: ``grade reached``)."""
    first = e.grounds[0]
    ids: list[str] | None
    if first.startswith("grade "):  # a record id never does
        record, item, grade = None, None, (None if first == "grade reached" else first.removeprefix("grade "))
        ids = None
    else:
        record, item, grade, ids = first, items[first], None, list(e.grounds)
    until = e.ended_on or e.planned_end
    return (e.qualified_id, e.subject, e.via, e.status, e.noticed_on, e.since, until, e.planned_end,
            e.ended_on, e.end_reason, record, item, len(e.grounds), ids, grade, e.removal_due,
            e.suspended_by)  # fmt: skip


def objections_at(store: Store, as_of: dt.datetime) -> dict[str, list[Objection]]:
    """Each subject's objections as they stood at ``as_of`` (the events known by then)."""
    by_case: dict[str, list[CaseEvent]] = defaultdict(list)
    for e in store.case_events(case_kind="objection"):
        if e.at <= as_of:
            by_case[e.case_id].append(e)
    out: dict[str, list[Objection]] = defaultdict(list)
    for evs in by_case.values():
        o = fold_objection(evs, Deadlines())
        out[o.subject].append(o)
    return out


def list_rows(engine: Engine, expr: Any) -> list[Entry]:
    """The rows of a list expression, checked to be in :data:`LIST_SCHEMA`, in a stable order."""
    table = engine.to_arrow(expr)
    assert table.schema.names == LIST_SCHEMA.names
    return sorted((tuple(r.values()) for r in table.to_pylist()), key=repr)
