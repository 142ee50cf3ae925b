"""The two-stage pipeline of chunk appends (store/pipeline.py, decision 0104): order, overlap, and
what an error or an early stop leaves written."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from socialcredit.store.pipeline import pipelined


def test_outcomes_come_in_order_and_each_write_sees_its_prepared_chunk() -> None:
    written: list[int] = []

    def write(p: int) -> int:
        written.append(p)
        return p * 10

    out = list(pipelined(range(6), lambda c: c + 100, write))
    assert out == [(c, (c + 100) * 10) for c in range(6)]
    assert written == [100 + c for c in range(6)]
    assert list(pipelined([], lambda c: c, write)) == []


def test_the_next_chunk_is_prepared_while_the_write_before_it_runs() -> None:
    # chunk 0's write waits until chunk 1's preparation has begun: without the overlap it would
    # time out (and the writes stay on one thread other than the caller's)
    preparing_1 = threading.Event()
    threads: set[int] = set()

    def prepare(c: int) -> int:
        if c == 1:
            preparing_1.set()
        return c

    def write(p: int) -> bool:
        threads.add(threading.get_ident())
        return preparing_1.wait(timeout=10) if p == 0 else True

    assert [ok for _, ok in pipelined(range(3), prepare, write)] == [True, True, True]
    assert len(threads) == 1 and threading.get_ident() not in threads


def test_a_failed_preparation_still_reports_the_write_in_flight_first() -> None:
    def prepare(c: int) -> int:
        if c == 2:
            raise ValueError("chunk 2 cannot be sealed")
        return c

    seen: list[int] = []
    with pytest.raises(ValueError, match="chunk 2"):
        for c, _ in pipelined(range(5), prepare, lambda p: p):
            seen.append(c)
    assert seen == [0, 1]  # chunk 1 was being written when chunk 2 failed: counted, not lost


def test_a_failed_write_stops_the_batch_there() -> None:
    prepared: list[int] = []

    def prepare(c: int) -> int:
        prepared.append(c)
        return c

    def write(p: int) -> int:
        if p == 1:
            raise OSError("disk full")
        return p

    seen: list[int] = []
    with pytest.raises(OSError, match="disk full"):
        for c, _ in pipelined(range(5), prepare, write):
            seen.append(c)
    assert seen == [0]
    assert prepared == [0, 1, 2]  # one chunk prepared ahead, never written


def test_a_caller_that_stops_leaves_no_write_it_was_not_told_of() -> None:
    written: list[int] = []

    def chunks() -> Iterator[int]:
        yield from range(10)

    def write(p: int) -> int:
        written.append(p)
        return p

    gen = pipelined(chunks(), lambda c: c, write)
    assert [next(gen)[0], next(gen)[0]] == [0, 1]
    gen.close()
    assert written == [0, 1]


def test_a_shared_cache_drops_its_oldest_entry_and_stays_bounded_under_two_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the vault's caches are shared by this thread and the ledger writer (decision 0104)
    from socialcredit import shredding

    monkeypatch.setattr(shredding, "CACHED", 50)
    cache: dict[int, int] = {}
    for i in range(60):
        shredding.remember(cache, i, i)
    assert list(cache) == list(range(10, 60))  # the oldest went first

    errors: list[BaseException] = []

    def fill(start: int) -> None:
        try:
            for i in range(start, start + 20_000):
                shredding.remember(cache, i, i)
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=fill, args=(s,)) for s in (1_000_000, 2_000_000)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    # a race can skip an eviction (one entry over), never fail an insert
    assert len(cache) <= 60 and (2_019_999 in cache or 1_019_999 in cache)
