"""Sealing submitted rows for ingestion: in this process, or in a helper process for big batches.

Why a helper process: validating and sealing a row (its checks, the canonical details text, two
SHA-256) costs about as much CPU as SQLite's insert of it, and both need the GIL, so on one
thread they add up (a writer *thread* was measured slower still: docs/decisions/0011). A second
process seals chunk N+1 while this one deduplicates, chains and inserts chunk N, so the two
costs overlap on two cores. Starting the helper costs most of a second (a fresh interpreter that
imports the package), so only a batch of at least :data:`PARALLEL_FROM` chunks uses it; smaller
batches (an HTTP upload, a test) are sealed here, exactly as before.

What crosses the process boundary is plain data: the submitted dicts going out, and for each
row either its sealed values converted for the store or the reasons it was refused coming back.
The chain position and the dedup check never leave this process, so the ledger's order and its
hashes are what a single process would have written (tested).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from socialcredit import ledger
from socialcredit.ledger import Quarantined
from socialcredit.schemes.loader import Registry
from socialcredit.store.sql import PendingChunk

Row = tuple[int, Mapping[str, Any]] | Quarantined

PARALLEL_FROM = 3
"""Chunks a batch must reach before a helper process seals ahead (3 x 20,000 rows by default)."""

Outcome = tuple[tuple[Any, ...], None] | tuple[None, tuple[str, ...]]
"""A row's sealed values converted for the store, or the reasons it was refused."""


@dataclass(frozen=True)
class Sealer:
    """Seals rows as one ingest batch does (``registry``, ``now``, the submitting ``source``),
    converting them with ``convert`` (``Store.stored_row()``: a builtin or a module-level
    function, so a sealer can be sent to a helper process)."""

    registry: Registry
    now: dt.datetime
    source: str | None
    convert: Callable[[ledger.Sealed], tuple[Any, ...]]

    def one(self, raw: Mapping[str, Any]) -> Outcome:
        # a clean row is sealed straight from its fields; anything else is judged (and, if
        # valid, normalised) by the full validation first
        s = ledger.seal_row(raw, registry=self.registry, now=self.now, source=self.source)
        if s is None:
            try:
                s = ledger.sealed(
                    ledger.validate_row(raw, registry=self.registry, now=self.now, source=self.source)
                )
            except ledger.RowError as exc:
                return None, exc.reasons
        return self.convert(s), None

    def many(self, raws: Sequence[Mapping[str, Any]]) -> list[Outcome]:
        return [self.one(raw) for raw in raws]


_SEALER: Sealer | None = None


def _install(sealer: Sealer, parent: int) -> None:
    """The helper process's initializer: the sealer is sent once, not with every chunk, and a
    watch on the parent: if the ingesting process is killed (SIGKILL leaves it no chance to stop
    its pool), the helper exits within half a second instead of lingering."""
    global _SEALER
    _SEALER = sealer

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, name="sealing-parent-watch", daemon=True).start()


def _seal_remote(raws: Sequence[Mapping[str, Any]]) -> list[Outcome]:
    assert _SEALER is not None, "the helper process was started without its sealer"
    return _SEALER.many(raws)


def _assemble(chunk: Sequence[Row], outcomes: Iterator[Outcome]) -> PendingChunk:
    """The chunk for the store, in submission order: ``outcomes`` answer its unquarantined rows."""
    good: list[tuple[Any, ...]] = []
    numbers: list[int] = []
    raws: list[Mapping[str, Any]] = []
    bad: list[Quarantined] = []
    for row in chunk:
        if isinstance(row, Quarantined):
            bad.append(row)
            continue
        n, raw = row
        values, reasons = next(outcomes)
        if values is None:
            assert reasons is not None
            bad.append(Quarantined(n, raw, reasons))
            continue
        good.append(values)
        numbers.append(n)
        raws.append(raw)
    return PendingChunk(len(chunk), good, bad, numbers, raws)


def _submitted(chunk: Sequence[Row]) -> list[Mapping[str, Any]]:
    return [row[1] for row in chunk if not isinstance(row, Quarantined)]


def sealed_chunks(
    chunks: Iterable[Sequence[Row]], sealer: Sealer, *, parallel_from: int | None = None
) -> Iterator[PendingChunk]:
    """Each chunk sealed, in order. From the ``parallel_from``-th chunk on, a helper process seals
    up to two chunks ahead of the one the caller is storing; before that (and for a batch that
    never gets there) chunks are sealed here. A failure in the helper is raised here, at the chunk
    it concerns, and stops the batch like a failure of the store does."""
    threshold = PARALLEL_FROM if parallel_from is None else parallel_from
    it = iter(chunks)
    early: list[Sequence[Row]] = []
    for chunk in it:
        early.append(chunk)
        if len(early) >= threshold:
            break
    else:  # a small batch: no helper
        for chunk in early:
            yield _assemble(chunk, iter(sealer.many(_submitted(chunk))))
        return
    # spawned, not forked: the caller may be a server with threads (a fork copies their locks),
    # and a spawned helper is this process's own child, which its watch relies on
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        1, mp_context=context, initializer=_install, initargs=(sealer, os.getpid())
    ) as pool:
        ahead: deque[tuple[Sequence[Row], Future[list[Outcome]]]] = deque()

        def send(chunk: Sequence[Row]) -> None:
            ahead.append((chunk, pool.submit(_seal_remote, _submitted(chunk))))

        first, *rest = early
        for chunk in rest:
            send(chunk)
        # the first chunk here, while the helper starts and seals the next ones
        yield _assemble(first, iter(sealer.many(_submitted(first))))
        for chunk in it:
            send(chunk)
            done, future = ahead.popleft()
            yield _assemble(done, iter(future.result()))
        while ahead:
            done, future = ahead.popleft()
            yield _assemble(done, iter(future.result()))
