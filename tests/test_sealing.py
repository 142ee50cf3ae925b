"""Sealing in a helper process (service/sealing.py) changes where the work runs, nothing else:
the same chunks, rows, refusals and order as sealing here, and a ledger whose records, hashes
and positions are those a single process writes. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from socialcredit import ledger, synth
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
    helpers: list[Any] = []
    real = sealing.Helper

    def spy(*a: Any, **k: Any) -> Any:
        helpers.append(real(*a, **k))
        return helpers[-1]

    monkeypatch.setattr(sealing, "Helper", spy)
    sealer = sealing.Sealer(shipped_registry(), NOW, None, sqlite_stored_row)
    batch = rows(2_400)
    chunks = [batch[i : i + 300] for i in range(0, len(batch), 300)]
    here = list(sealing.sealed_chunks(chunks, sealer, parallel_from=10**9))
    assert not helpers
    helped = list(sealing.sealed_chunks(chunks, sealer, parallel_from=2))
    assert len(helpers) == 1, "the second run sealed in a helper process"
    assert helpers[0].proc.returncode == 0, "the helper ended cleanly when the batch did"
    assert here == helped
    assert sum(len(c.quarantined) for c in here) > 40 and sum(len(c.rows) for c in here) > 2_000
    assert [c.submitted for c in here] == [len(c) for c in chunks]
    reasons = {r for c in here for q in c.quarantined for r in q.reasons}
    assert any("subject" in r for r in reasons) and any("item" in r for r in reasons)


def test_a_helper_that_dies_leaves_its_chunks_to_be_sealed_here(monkeypatch: pytest.MonkeyPatch) -> None:
    """Killed after answering one chunk (an out-of-memory killer, an operator): the chunks it
    held and every later one are sealed here, and the batch comes out the same."""
    real = sealing.Helper
    killed: list[int] = []

    class Dying(real):  # type: ignore[misc, valid-type]
        def result(self) -> Any:
            if killed:
                return super().result()
            first = super().result()
            self.proc.kill()
            self.proc.wait()
            killed.append(self.proc.returncode)
            return first

    monkeypatch.setattr(sealing, "Helper", Dying)
    sealer = sealing.Sealer(shipped_registry(), NOW, None, sqlite_stored_row)
    batch = rows(2_400)
    chunks = [batch[i : i + 300] for i in range(0, len(batch), 300)]
    helped = list(sealing.sealed_chunks(chunks, sealer, parallel_from=2))
    assert killed == [-9]
    assert helped == list(sealing.sealed_chunks(chunks, sealer, parallel_from=10**9))


@pytest.mark.slow  # processes started and killed
def test_the_helper_ends_when_its_parent_is_killed(tmp_path: Path) -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT],
        stdout=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    assert parent.stdout is not None
    helper_pid = int(parent.stdout.readline())
    assert _running(helper_pid)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while _running(helper_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(helper_pid), "the helper outlived the process it sealed for"


PARENT = """
import datetime as dt, time
from socialcredit.schemes import shipped_registry
from socialcredit.service.sealing import Helper, Sealer
helper = Helper(Sealer(shipped_registry(), dt.datetime(2026, 11, 2), None, tuple))
helper.submit([])
helper.result()  # it has started and answered
print(helper.proc.pid, flush=True)
time.sleep(120)
"""


def _running(pid: int) -> bool:
    """Whether ``pid`` is a live process (not gone, not a zombie waiting to be reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.slow  # a script run in a process of its own
def test_a_script_without_a_main_guard_ingests_once(tmp_path: Path) -> None:
    """A user's script that ingests a big batch at module level, with no ``if __name__ ==
    "__main__"`` guard: the helper must not run the script again (a spawned multiprocessing
    child would: its body twice, a second batch opened, then a failure)."""
    script = tmp_path / "load.py"
    script.write_text(SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "sealing here" not in done.stderr, done.stderr  # the helper sealed, no fallback
    assert (tmp_path / "runs.txt").read_text() == "ran\n", "the script's body ran once"
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"batches": 1, "accepted": 1_000}


SCRIPT = """
import json
from socialcredit import ledger, synth
from socialcredit.schemes import shipped_registry
from socialcredit.service import System
from socialcredit.store import Store

with open("runs.txt", "a") as f:
    f.write("ran\\n")
registry = shipped_registry()
city = synth.generate_city(residents=300, seed=5, registry=registry)
rows = [r for r, _ in zip(synth.generate_records(city, registry=registry, seed=5), range(1_000))]
system = System(Store("sqlite:///ledger.db"), registry)
result = system.ingest(enumerate(rows, 1), origin="script", principal=system.operator(), chunk_size=100)
batches = sum(len(b) for b in system.store.batches_by_origin().values())
print(json.dumps({"batches": batches, "accepted": result.accepted}))
"""


def test_a_small_batch_starts_no_helper(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[Any] = []
    monkeypatch.setattr(sealing, "Helper", lambda *a, **k: started.append(a))
    sealer = sealing.Sealer(shipped_registry(), NOW, None, tuple)
    batch = rows(500)
    out = list(sealing.sealed_chunks([batch[:250], batch[250:]], sealer))
    assert not started and sum(c.submitted for c in out) == 500


@pytest.mark.slow  # thousands of rows through the helper process
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
        # each keyed by its own database's pseudonym key, the helper's too (decision 0080): named
        # here by their unkeyed ids, the same in both
        unkeyed = {r.record_id: ledger.record_id_for(r.source, r.source_record_id) for r in records}
        assert all(r.record_id == store.sealing.record_id(r.source, r.source_record_id) for r in records)
        records = [
            dataclasses.replace(
                r, record_id=unkeyed[r.record_id], corrects=unkeyed.get(r.corrects or "", r.corrects)
            )
            for r in records
        ]
        got[name] = (
            (result.accepted, result.duplicate, result.quarantined),
            # the records as opened: the stored hashes cover ciphertext under each database's own
            # keys and random nonces (decision 0046), so the same ledger is the same plain content
            [(r.seq, r.record_id, r.subject, ledger.content_hash(r), ledger.claim_hash(r)) for r in records],
        )
        assert store.verify_records() == []
        if name == "helped":  # the same file again: every row a duplicate or quarantined, as before
            again = system.ingest(batch, origin="again", principal=system.operator(), chunk_size=400)
            assert again.accepted == 0 and again.duplicate == result.accepted
        store.close()
    assert got["helped"] == got["here"]
    assert got["here"][0][2] > 40


def test_encryption_goes_to_the_process_with_room(monkeypatch: pytest.MonkeyPatch) -> None:
    """Decision 0105: the helper takes the share of each chunk's encryption that evens the two
    processes' CPU, moving half-way there per chunk, within [0, 1]."""
    clock = iter([0.0, 0.3, 0.6, 0.9, 1.2])  # this process: 300 ms a chunk of 10,000 records
    monkeypatch.setattr(sealing.time, "process_time", lambda: next(clock))
    assert 0 < sealing.FIRST_SHARE < 1  # the helper's encryption gets measured from the start
    monkeypatch.setattr(sealing, "FIRST_SHARE", 0.5)
    balance = sealing.Balance()
    assert balance.share == 0.5  # nothing known yet
    balance.handing(10_000, 0.0)  # the first chunk, encrypted here
    balance.answered(10_000, 5_000, sealing.Cost(cpu=0.25, sealing=0.05))  # h 20 µs, e 10 µs
    assert balance.share == sealing.FIRST_SHARE  # this process's cost not known yet
    balance.handing(10_000, 0.5)  # 30 µs a record with all 10 µs of encryption: m = 20 µs
    assert balance.share == pytest.approx((0.5 + 0.5) / 2)  # (m - h + e) / 2e = 0.5: even
    balance.answered(10_000, 5_000, sealing.Cost(cpu=0.30, sealing=0.05))  # the helper busier
    assert balance.share == pytest.approx((0.5 + 0.25) / 2)  # (20 - 25 + 10) / 20 = 0.25
    balance.answered(10_000, 5_000, sealing.Cost(cpu=0.55, sealing=0.05))  # far busier
    assert balance.share == pytest.approx((0.375 + 0.0) / 2)  # never below 0
    balance.handing(10_000, 0.5)  # this process: 30 µs with only half the encryption: m = 25
    assert balance.share == pytest.approx((0.1875 + 0.0) / 2)
    balance.answered(10_000, 5_000, sealing.Cost(cpu=0.10, sealing=0.05))  # h 5 µs
    assert balance.share == pytest.approx((0.09375 + 1.0) / 2)  # (25 - 5 + 10) / 20 > 1: 1


def test_a_refused_row_quotes_what_was_submitted() -> None:
    sealer = sealing.Sealer(shipped_registry(), NOW, None, tuple)
    bad = {"subject": "12345", "item": "traffic.red-light", "source": "traffic-police",
           "source_record_id": "z", "occurred_on": "2026-01-01"}  # fmt: skip
    (chunk,) = sealing.sealed_chunks([[(7, bad)]], sealer)
    assert chunk.rows == [] and chunk.quarantined[0].row_number == 7 and chunk.quarantined[0].raw == bad
    assert any(r.startswith("subject") for r in chunk.quarantined[0].reasons)


def _traffic(n: int, subject: str, occurred: str) -> tuple[int, dict[str, Any]]:
    return n, {"subject": subject, "item": "traffic.red-light", "source": "traffic-police",
               "source_record_id": f"h-{n}", "occurred_on": occurred, "evidence": f"camera {n}"}  # fmt: skip


@pytest.mark.parametrize("share", [pytest.param(1.0, marks=pytest.mark.slow), 0.5])  # 0.5: both halves
def test_the_helper_encrypts_and_a_destroyed_key_stays_unusable_at_once(
    store_url: str, clock: Clock, monkeypatch: pytest.MonkeyPatch, share: float
) -> None:
    """Decision 0069: the helper process encrypts the chunks it seals (issue 21 point 5: "Ingest
    stays within 15 % of its rate without encryption"), so the store encrypts only the first
    chunk (sealed here while the helper starts). What it stores is what the store would: records
    that open, a chain that verifies, a re-submission a duplicate. And it is not weaker: a key
    destroyed before a batch is destroyed for the helper too (it reads the key table afresh per
    batch, caching nothing across batches), so "an agency re-sending an erased record is told
    it was erased; it is not taken in again", and no key is made again for it. With a share
    (decision 0105) the helper encrypts each chunk's first half and the store the rest: the same
    rows, the pairs in both halves under one key, the erased rows of either half refused."""
    from socialcredit.shredding import Erasure
    from socialcredit.store.sealedrows import Sealing
    from tests.conftest import person

    monkeypatch.setattr(sealing, "PARALLEL_FROM", 2)
    monkeypatch.setattr(sealing, "FIRST_SHARE", share)  # however busy either is
    monkeypatch.setattr(sealing.Balance, "_rebalance", lambda self: None)
    here: list[int] = []
    real = Sealing.seal_chunk

    def counted(self: Sealing, chunk_rows: Any) -> Any:
        here.append(len(chunk_rows))
        return real(self, chunk_rows)

    monkeypatch.setattr(Sealing, "seal_chunk", counted)
    subjects = [person(400 + k) for k in range(60)]
    batch = [_traffic(n, subjects[n % 60], f"20{19 + n % 2}-05-0{1 + n % 9}") for n in range(1, 901)]
    store = Store(store_url)
    try:
        system = System(store, shipped_registry(), clock=clock)
        op = system.operator()
        assert system.ingest(batch, origin="t", principal=op, chunk_size=300).accepted == 900
        # the store encrypted the first chunk, and what the helper left of the others
        assert here == ([300] if share == 1.0 else [300, 150, 150])
        assert store.verify_records() == []
        opened = {r.source_record_id: r for page in store.iter_records() for r in page}
        assert len(opened) == 900 and opened["h-899"].subject == subjects[899 % 60]
        assert opened["h-899"].evidence == "camera 899"
        again = system.ingest(batch, origin="t", principal=op, chunk_size=300)
        assert (again.accepted, again.duplicate) == (0, 900)
        # one subject's 2019 key destroyed; the same rows and new ones of that subject and year
        vault = store.sealing.vault
        pair = (vault.pseudonym(subjects[1]), "2020")  # rows 1, 61, ... 841: 15 of 2020
        (w,) = vault.store.wrapped_keys([pair]).values()
        vault.erase([Erasure(*pair, w.key_id, clock.now, "retention")])
        fresh = [_traffic(n, subjects[1], "2020-06-01") for n in range(2001, 2601)]
        resent = system.ingest([*batch, *fresh], origin="t", principal=op, chunk_size=300)
        # the erased rows refused; the new ones of that subject and year under its next key
        assert (resent.accepted, resent.duplicate) == (600, 900 - 15)
        assert resent.quarantined == 15
        reasons = {r for q in resent.quarantine for r in q.reasons}
        assert all("was erased on" in r and "not taken in again" in r for r in reasons)
        assert vault.store.wrapped_keys([pair]) == {}, "no key was made again for the erased pair"
        assert (pair[0], "2020.1") in vault.store.wrapped_keys([(pair[0], "2020.1")])
    finally:
        store.close()
