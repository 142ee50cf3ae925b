"""Sealing in a helper process (service/sealing.py) changes where the work runs, nothing else:
the same chunks, rows, refusals and order as sealing here, and a ledger whose records, hashes
and positions are those a single process writes. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from socialcredit import synth
from socialcredit.ledger import Quarantined
from socialcredit.schemes import shipped_registry
from socialcredit.service import System, sealing
from socialcredit.store import Store
from socialcredit.store.sql import sqlite_stored_row
from tests.conftest import Clock

NOW = dt.datetime(2026, 11, 2, 10, 0, 0)


def rows(n: int) -> list[Any]:
    """A synthetic city's records with every kind of trouble mixed in: rows a parser already
    quarantined, invalid codes and dates, unknown items, and rows needing full validation."""
    registry = shipped_registry()
    city = synth.generate_city(residents=300, seed=5, registry=registry)
    out: list[Any] = list(enumerate(synth.generate_records(city, registry=registry, seed=5), start=1))[:n]
    for k in range(0, len(out), 37):
        number, raw = out[k]
        trouble = k % 4
        if trouble == 0:
            out[k] = Quarantined(number, {"line": "x"}, ("line: not valid JSON",))
        elif trouble == 1:
            out[k] = (number, {**raw, "subject": "12345"})
        elif trouble == 2:
            out[k] = (number, {**raw, "occurred_on": "2026-02-30"})
        else:
            out[k] = (number, {**raw, "item": "no.such-item"})
    return out


def test_the_helper_seals_exactly_what_this_process_does(monkeypatch: pytest.MonkeyPatch) -> None:
    pools: list[Any] = []
    real = sealing.ProcessPoolExecutor

    def spy(*a: Any, **k: Any) -> Any:
        pools.append(real(*a, **k))
        return pools[-1]

    monkeypatch.setattr(sealing, "ProcessPoolExecutor", spy)
    sealer = sealing.Sealer(shipped_registry(), NOW, None, sqlite_stored_row)
    batch = rows(2_400)
    chunks = [batch[i : i + 300] for i in range(0, len(batch), 300)]
    here = list(sealing.sealed_chunks(chunks, sealer, parallel_from=10**9))
    assert not pools
    helped = list(sealing.sealed_chunks(chunks, sealer, parallel_from=2))
    assert len(pools) == 1, "the second run sealed in a helper process"
    assert here == helped
    assert sum(len(c.quarantined) for c in here) > 40 and sum(len(c.rows) for c in here) > 2_000
    assert [c.submitted for c in here] == [len(c) for c in chunks]
    reasons = {r for c in here for q in c.quarantined for r in q.reasons}
    assert any("subject" in r for r in reasons) and any("item" in r for r in reasons)


def test_a_small_batch_starts_no_helper(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[Any] = []
    monkeypatch.setattr(sealing, "ProcessPoolExecutor", lambda *a, **k: started.append(a))
    sealer = sealing.Sealer(shipped_registry(), NOW, None, tuple)
    batch = rows(500)
    out = list(sealing.sealed_chunks([batch[:250], batch[250:]], sealer))
    assert not started and sum(c.submitted for c in out) == 500


def test_a_big_ingest_through_the_helper_writes_the_ledger_one_process_writes(
    store_url: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch = rows(3_000)
    got = {}
    for name, threshold in (("helped", 2), ("here", 10**9)):
        monkeypatch.setattr(sealing, "PARALLEL_FROM", threshold)
        url = store_url if name == "helped" else f"sqlite:///{tmp_path / 'here.db'}"
        store = Store(url)
        system = System(store, shipped_registry(), clock=Clock(NOW))
        result = system.ingest(batch, origin="big", principal=system.operator(), chunk_size=400)
        assert result.submitted == 3_000
        assert result.accepted + result.duplicate + result.quarantined == result.submitted
        records = [r for page in store.iter_records() for r in page]
        got[name] = (
            (result.accepted, result.duplicate, result.quarantined),
            [(r.seq, r.record_id, r.content_hash, r.claim_hash) for r in records],
        )
        assert store.verify_records() == []
        if name == "helped":  # the same file again: every row a duplicate or quarantined, as before
            again = system.ingest(batch, origin="again", principal=system.operator(), chunk_size=400)
            assert again.accepted == 0 and again.duplicate == result.accepted
        store.close()
    assert got["helped"] == got["here"]
    assert got["here"][0][2] > 40


def test_a_refused_row_quotes_what_was_submitted() -> None:
    sealer = sealing.Sealer(shipped_registry(), NOW, None, tuple)
    bad = {"subject": "12345", "item": "traffic.red-light", "source": "traffic-police",
           "source_record_id": "z", "occurred_on": "2026-01-01"}  # fmt: skip
    (chunk,) = sealing.sealed_chunks([[(7, bad)]], sealer)
    assert chunk.rows == [] and chunk.quarantined[0].row_number == 7 and chunk.quarantined[0].raw == bad
    assert any(r.startswith("subject") for r in chunk.quarantined[0].reasons)
