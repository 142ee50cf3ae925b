"""After an erasure, every evaluator answers as if the erased records had never been taken in
(issue 21 point 4), on SQLite and PostgreSQL.

Issue 21: "Scores, lists and decisions after erasure are those of the ledger without the erased
records at every time after the erasure, on every evaluator. Answers given before the erasure
stay reproducible only as a receipt: what was answered, without the erased content."

One synthetic city over eight years is taken into two installations: ``erased`` takes every
record and then runs retention (keys of records past retention plus archive are destroyed);
``without`` takes the same records less those erased. Per subject (views, decisions, the
materialised decision state), on DuckDB and on Spark, both must give the same answers at the
erasure and after it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from socialcredit import synth
from socialcredit.api.decisionmodels import ReproductionOut
from socialcredit.engines.base import Engine, rescore
from socialcredit.engines.duck import DuckDBEngine
from socialcredit.engines.export import export_ledger
from socialcredit.knowledge import Known
from socialcredit.schemes import shipped_registry
from socialcredit.service import Question, System
from socialcredit.service.statecodec import decode
from socialcredit.shredding import PSEUDONYM_CLASS, SYSTEM, Erasure
from socialcredit.store import Store, SubjectRow
from tests.conftest import Clock, org, person
from tests.support.dueprocess import feed, rec
from tests.support.prepared import Prepared

TIMES = (dt.timedelta(0), dt.timedelta(days=90), dt.timedelta(days=500))
"""When the two are compared: at the erasure and after it (before it they differ, as they must)."""


@dataclass
class Pair:
    erased: System
    without: System
    codes: list[str]
    gone: set[str]  # record ids erased
    touched: list[str]  # subjects with a record erased
    asked: dict[str, str]  # subject -> a decision id answered before the erasure


@dataclass(frozen=True)
class Built:
    """What building the pair found, beside its two databases."""

    codes: list[str]
    gone: set[str]
    touched: list[str]
    asked: dict[str, str]


def share_pseudonym_key(source: Store, target: Store) -> None:
    """Give ``target`` the pseudonym key of ``source`` (wrapped under the same master key), as one
    operator's two installations would share it: record ids are keyed by it (decision 0080), so
    the two ledgers then name the same record alike, and their views and decisions compare."""
    pair = (SYSTEM, PSEUDONYM_CLASS)
    source.sealing.vault.pseudonym_key()
    wrapped = source.sealing.vault.store.wrapped_keys([pair])[pair]
    target.sealing.vault.store.add_wrapped_keys([wrapped])
    assert target.sealing.vault.pseudonym_key() == source.sealing.vault.pseudonym_key()


def build_pair(urls: list[str]) -> Built:
    """The synthetic city taken into both installations, ``erased`` run through retention an
    hour after it answered a decision for each subject (the test's clock is moved the same)."""
    clock = Clock()
    erased = System(Store(urls[0]), shipped_registry(), clock=clock)
    without = System(Store(urls[1]), shipped_registry(), clock=clock)
    share_pseudonym_key(erased.store, without.store)
    try:
        city = synth.generate_city(residents=40, years=8, seed=21, registry=erased.registry)
        rows = list(synth.generate_records(city, registry=erased.registry, seed=21))
        for s in (erased, without):
            s.register(city.subjects)
        erased.ingest(enumerate(rows, start=1), origin="city", principal=erased.operator())
        codes = sorted(s.code for s in city.subjects)
        erased.build_decision_state()  # states computed before the erasure
        asked = {
            code: erased.check(
                Question(code, "no-flights", erased.operator(), purpose="test")
            ).receipt.decision_id  # type: ignore[union-attr]
            for code in codes
        }
        clock.advance(hours=1)
        report = erased.retention_run()
        ids = [erased.store.stored_record_id(r["source"], r["source_record_id"]) for r in rows]
        gone = {rid for rid in ids if erased.erasure_of(rid) is not None}
        assert report.erased_records == len(gone) > 0 and len(gone) < len(ids)
        kept = [r for r, rid in zip(rows, ids, strict=True) if rid not in gone]
        without.ingest(enumerate(kept, start=1), origin="city", principal=without.operator())
        touched = sorted({r["subject"] for r, rid in zip(rows, ids, strict=True) if rid in gone})
        return Built(codes, gone, touched, asked)
    finally:
        erased.store.close()
        without.store.close()


@pytest.fixture
def pair(store_url: str, other_url: str, clock: Clock, prepared: Prepared) -> Iterator[Pair]:
    """The pair in the test's own two databases: built once per test process and copied for
    each test (tests/support/prepared.py)."""
    built = prepared.copy("erasure-pair", [store_url, other_url], build_pair)
    clock.advance(hours=1)
    erased = System(Store(store_url), shipped_registry(), clock=clock)
    without = System(Store(other_url), shipped_registry(), clock=clock)
    try:
        yield Pair(erased, without, built.codes, set(built.gone), built.touched, dict(built.asked))
    finally:
        erased.store.close()
        without.store.close()


def _view(system: System, code: str, at: dt.datetime) -> tuple[Any, ...]:
    v = system.view(code, as_of=at)
    return (
        v.scores,
        v.entries,
        sorted(r.record_id for r in v.records),
        v.ended_entries,
        [dataclasses.replace(e, record=dataclasses.replace(e.record, seq=0)) for e in v.ended_records],
    )


def _decisions(system: System, code: str, at: dt.datetime) -> dict[str, Any]:
    """Every measure's decision for ``code`` from the ledger, the subject's view computed once
    (``recompute_every``): one view a subject where a measure at a time cost one a measure, most
    of this file's time in the inner loop (decision 0099). That it is what each measure's own
    ``recompute`` gives is checked here on a subject an erasure touched (``_one_by_one``), and in
    tests/test_decision_state.py on about one code in five of its city."""
    return system.decisions.recompute_every(code, at, Known(), system.registry)


def _one_by_one(system: System, code: str, at: dt.datetime) -> dict[str, Any]:
    """Each measure's decision recomputed alone, as a receipt's reproduction computes it."""
    return {
        m: system.decisions.recompute(code, m, at, Known(), system.registry)
        for m in system.registry.measures()
    }


def test_per_subject_views_and_decisions_equal_the_ledger_without_them(pair: Pair, clock: Clock) -> None:
    for offset in TIMES:
        at = clock.now + offset
        for code in pair.codes:
            assert _view(pair.erased, code, at) == _view(pair.without, code, at), (code, offset)
            if not offset:  # every measure recomputed: the costly half, at the erasure only
                assert _decisions(pair.erased, code, at) == _decisions(pair.without, code, at), code
    # a subject with records erased, each measure alone too (as a receipt is reproduced)
    code, at = pair.touched[0], clock.now
    assert (
        _one_by_one(pair.erased, code, at)
        == _decisions(pair.erased, code, at)
        == _one_by_one(pair.without, code, at)
    ), code


def test_the_decision_state_is_computed_again_without_them(pair: Pair, clock: Clock) -> None:
    """The states written before the erasure were emptied by it; written again, each equals the
    decisions of the ledger without the erased records, and a question is answered alike."""
    system = pair.erased
    for code in pair.touched:
        row = system.store.decision_state(code)
        assert row is not None and row.payload is None, code
    system.build_decision_state(everyone=False)
    for code in pair.codes:
        row = system.store.decision_state(code)
        assert row is not None and row.payload is not None and row.as_of is not None
        # a state untouched by the erasure still answers as computed before it (valid to midnight)
        assert row.as_of == clock.now or code not in pair.touched, code
        kept = {
            m: dataclasses.replace(d, at=clock.now)
            for m, d in decode(row.payload, code, row.as_of)[0].items()
        }
        assert kept == _decisions(pair.without, code, clock.now), code
        asked = [Question(code, "no-flights", s.operator(), purpose="test") for s in (system, pair.without)]
        a, b = system.check(asked[0]), pair.without.check(asked[1])
        assert dataclasses.replace(a, receipt=None) == dataclasses.replace(b, receipt=None), code


def test_a_decision_answered_before_the_erasure_is_reproduced_as_its_receipt(pair: Pair) -> None:
    system = pair.erased
    code = pair.touched[0]
    r = system.reproduce(pair.asked[code], system.operator())
    assert r.erased is not None and r.erased.rule == "retention" and not r.exact
    out = ReproductionOut.of(r)
    assert out.reproduced is None and out.erased_under == "retention"
    assert out.erased_on == r.erased.at.date() and out.answered.answer == r.answered["answer"]
    untouched = next(c for c in pair.codes if c not in pair.touched)
    same = system.reproduce(pair.asked[untouched], system.operator())
    assert same.erased is None and same.exact and ReproductionOut.of(same).reproduced is not None


def test_a_representative_s_decision_is_reproduced_as_its_receipt_after_the_organisation_s_erasure(
    system: System, clock: Clock
) -> None:
    """DOMAIN.md: "Organisations are listed together with the people responsible for them (legal
    representatives)". A person's answer rests on their organisation's records too, so an erasure
    of those leaves it reproducible only as its receipt (issue 21: "Answers given before the
    erasure stay reproducible only as a receipt"), as an erasure of the person's own records does;
    a person the organisation never named is untouched."""
    rep, other, company = person(61), person(62), org(61)
    system.register(
        [
            SubjectRow(rep, "person"),
            SubjectRow(other, "person"),
            SubjectRow(company, "organisation", legal_representative=rep),
        ]
    )
    details = {"case_number": "(2026) Lu 1082 Zhi 90", "court": "Rongcheng People's Court",
               "obligation": "pay 9,000 yuan", "performance": "none"}  # fmt: skip
    feed(
        system,
        rec(1, company, "court.dishonest.evades-enforcement", "court", "2026-10-06", details=details),
        rec(2, other, "traffic.minor", "traffic-police", "2026-10-07"),
    )
    ask = {
        code: system.check(Question(code, "no-flights", system.operator(), purpose="test"))
        for code in (rep, other)
    }
    assert ask[rep].answer == "deny"  # listed through the organisation
    clock.advance(hours=1)
    vault = system.store.sealing.vault
    pseudonym = vault.pseudonym(company)
    key = vault.store.wrapped_keys([(pseudonym, "2026")])[(pseudonym, "2026")]
    vault.erase([Erasure(pseudonym, "2026", key.key_id, clock.now, "on request")])
    r = system.reproduce(ask[rep].receipt.decision_id, system.operator())  # type: ignore[union-attr]
    assert r.erased is not None and r.erased.at == clock.now and not r.exact
    out = ReproductionOut.of(r)
    assert out.reproduced is None and out.erased_under == "on request" and out.answered.answer == "deny"
    same = system.reproduce(ask[other].receipt.decision_id, system.operator())  # type: ignore[union-attr]
    assert same.erased is None and same.exact


def _rescored(
    system: System, engine: Engine, directory: Path, at: dt.datetime
) -> tuple[list[Any], list[Any]]:
    export_ledger(system.store, directory / "export", clock=system.clock)
    scores, lists = directory / "scores.parquet", directory / "lists.parquet"
    rescore(
        engine,
        directory / "export",
        system.registry.scored(),
        at,
        scores,
        list_schemes=list(system.registry.schemes.values()),
        lists_out=lists,
    )
    score_rows = sorted(pq.read_table(scores).to_pylist(), key=lambda r: sorted(r.items()))
    lists_table = pq.read_table(lists)
    list_rows = sorted(lists_table.to_pylist(), key=lambda r: repr(sorted(r.items())))
    return score_rows, list_rows


def _same_on(engine: Engine, pair: Pair, clock: Clock, tmp_path: Path) -> None:
    for k, offset in enumerate(TIMES):
        at = clock.now + offset
        a = _rescored(pair.erased, engine, tmp_path / f"erased-{k}", at)
        b = _rescored(pair.without, engine, tmp_path / f"without-{k}", at)
        assert a[0] == b[0] and a[1] == b[1], offset
        assert a[0], "the city should have scores"


@pytest.mark.slow  # six exports and rescores: minutes on a shared machine
def test_duckdb_gives_the_ledger_without_them(pair: Pair, clock: Clock, tmp_path: Path) -> None:
    engine = DuckDBEngine()
    try:
        _same_on(engine, pair, clock, tmp_path)
    finally:
        engine.close()


@pytest.mark.slow
def test_spark_gives_the_ledger_without_them(pair: Pair, clock: Clock, tmp_path: Path, spark: Any) -> None:
    from socialcredit.engines.spark import SparkEngine

    _same_on(SparkEngine(spark), pair, clock, tmp_path)
