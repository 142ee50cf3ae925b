"""Sealing submitted rows for ingestion: in this process, or in a helper process for big batches.

Why a helper process: validating and sealing a row (its checks, the canonical details text, two
SHA-256) costs about as much CPU as SQLite's insert of it, and both need the GIL, so on one
thread they add up (a writer *thread* was measured slower still: docs/decisions/0011). A second
process seals chunk N+1 while this one deduplicates, chains and inserts chunk N, so the two
costs overlap on two cores. Starting the helper costs most of a second (a fresh interpreter that
imports the package), so only a batch of at least :data:`PARALLEL_FROM` chunks uses it; smaller
batches (an HTTP upload, a test) are sealed here, exactly as before.

Why a plain subprocess on two pipes rather than ``multiprocessing``: a spawned
``multiprocessing`` child first re-runs the caller's main script, so a user's script that ingests
without an ``if __name__ == "__main__":`` guard would run itself again in the helper (generate
its data, open a batch in the ledger) and then fail. Here the helper runs nothing of the caller's;
it reads pickled chunks from one pipe and writes their outcomes to another (not stdout, which a
library may print to), and ends when its input closes: when this process closes it, or dies.

What crosses the process boundary is plain data: the submitted dicts going out, and for each
row either its sealed values converted for the store or the reasons it was refused coming back;
and, where the store's keys are in a database the helper can open, the key table's URL and the
master keys going out once, and the first records of each chunk encrypted coming back, as many
as this process asks for (:class:`Balance`: the share that evens the two processes' CPU,
decisions 0069 and 0105; the store encrypts the rest).
The chain position and the dedup check never leave this process, so the ledger's order and its
hashes are what a single process would have written (tested). Sealing is a pure function of the
row, so if the helper cannot start or dies, the chunks it had not answered are sealed here.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
import logging
import os
import pickle
import queue
import subprocess
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any, cast

from socialcredit import intake, ledger
from socialcredit.ledger import Quarantined
from socialcredit.schemes.loader import Registry
from socialcredit.store.records import PendingChunk, Presealed
from socialcredit.store.sealedstore import HelperVault

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
    vault: HelperVault | None = None
    """Where a helper process finds the store's keys, to encrypt too (decision 0069); None: the
    store encrypts each chunk itself as it appends it."""
    content: bool = True
    """Whether to compute each record's plain content hash (``Store.stores_clear``): a store
    that encrypts hashes the stored form instead, so computing it would be wasted (decision 0081)."""

    def one(self, raw: Mapping[str, Any]) -> Outcome:
        try:
            s = intake.seal_row(
                raw, registry=self.registry, now=self.now, source=self.source, content=self.content
            )
        except ledger.RowError as exc:
            return None, exc.reasons
        return self.convert(s), None

    def many(self, raws: Sequence[Mapping[str, Any]]) -> list[Outcome]:
        return [self.one(raw) for raw in raws]

    def chunk(
        self, raws: Sequence[Mapping[str, Any]], share: float = 1.0
    ) -> tuple[list[Outcome], Presealed | None, float]:
        """:meth:`many`, and (in a helper process given the store's keys) the first ``share`` of
        the chunk's records encrypted as the store would (``Sealing.seal_chunk``, the same code),
        and the CPU seconds that took: what a helper answers. The store encrypts the rest
        (decision 0105). Encrypting is an optimisation, never a requirement: if this process
        cannot (no keys given, the key table locked or gone), the store encrypts the chunk."""
        outcomes = self.many(raws)
        if self.vault is None or share <= 0:
            return outcomes, None, 0.0
        start = time.thread_time()
        try:
            sealing = self.vault.sealing()
            ok = [v for v, _ in outcomes if v is not None]
            presealed = sealing.seal_chunk(ok[: round(len(ok) * min(share, 1.0))])
        except Exception as exc:  # noqa: BLE001 - the store encrypts this chunk instead
            log.warning("the sealing helper did not encrypt a chunk (%s); the store will", exc)
            return outcomes, None, 0.0
        return outcomes, presealed, time.thread_time() - start


log = logging.getLogger(__name__)

_BOOT = (
    "import os, pickle, sys\n"
    "inp, out = os.fdopen(int(sys.argv[1]), 'rb'), os.fdopen(int(sys.argv[2]), 'wb')\n"
    "sys.path[:] = pickle.load(inp)\n"
    "from socialcredit.service.sealing import serve\n"
    "serve(inp, out)\n"
)
"""The helper's whole program: take this process's import path, then serve."""


def serve(inp: IO[bytes], out: IO[bytes]) -> None:
    """The helper's loop: a :class:`Sealer`, then chunks of submitted rows until the input ends,
    each answered in order with ``("ok", (outcomes, presealed, cost))`` (:class:`Cost`: this
    process's CPU seconds since its last answer, which include reading the chunk and writing
    that answer, and those of them spent encrypting) or ``("error", traceback)``."""
    sealer: Sealer = pickle.load(inp)
    mark = time.process_time()
    while True:
        try:
            raws, share = pickle.load(inp)
        except EOFError:
            return
        try:
            outcomes, presealed, sealing = sealer.chunk(raws, share)
            now = time.process_time()
            reply: tuple[str, Any] = ("ok", (outcomes, presealed, Cost(now - mark, sealing)))
            mark = now
        except Exception:  # noqa: BLE001 - reported to the caller, at the chunk it concerns
            reply = ("error", traceback.format_exc())
        try:
            pickle.dump(reply, out, pickle.HIGHEST_PROTOCOL)
            out.flush()
        except BrokenPipeError:  # the caller is gone
            return


class HelperGone(Exception):
    """The helper process ended (or never started) before answering a chunk."""


class Helper:
    """A helper process sealing the chunks sent to it, answering in the order they were sent.

    A feeder thread writes the chunks and a reader thread takes the answers as they come, so
    neither side waits on a full pipe: the caller does not block sending while the helper is
    busy, and the helper does not block answering (and so stop sealing) while the caller is
    busy inserting: without the reader, an answer bigger than the pipe waited until the caller
    asked for it, and the overlap the helper is for was lost."""

    def __init__(self, sealer: Sealer) -> None:
        to_r, to_w = os.pipe()
        from_r, from_w = os.pipe()
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _BOOT, str(to_r), str(from_w)], pass_fds=(to_r, from_w)
            )
        except BaseException:
            for fd in (to_r, to_w, from_r, from_w):
                os.close(fd)
            raise
        os.close(to_r)
        os.close(from_w)
        self._out = os.fdopen(to_w, "wb")
        self._in = os.fdopen(from_r, "rb")
        self._outbox: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._inbox: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._feeder = threading.Thread(target=self._feed, name="sealing-feeder", daemon=True)
        self._reader = threading.Thread(target=self._read, name="sealing-reader", daemon=True)
        self._feeder.start()
        self._reader.start()
        self._outbox.put(list(sys.path))
        self._outbox.put(sealer)

    def _feed(self) -> None:
        # an OSError means the helper is gone: result() says so
        with contextlib.suppress(OSError), self._out:  # closed at the end: the helper exits
            while (item := self._outbox.get()) is not _CLOSE:
                pickle.dump(item, self._out, pickle.HIGHEST_PROTOCOL)
                self._out.flush()

    def _read(self) -> None:
        with self._in:
            while True:
                try:
                    answer: tuple[str, Any] = pickle.load(self._in)
                except (EOFError, OSError, pickle.UnpicklingError, ValueError) as exc:
                    self._inbox.put(("gone", repr(exc)))
                    return
                self._inbox.put(answer)

    def submit(self, raws: Sequence[Mapping[str, Any]], share: float = 1.0) -> None:
        """Send a chunk to seal, and to encrypt its first ``share`` of records (if it can)."""
        self._outbox.put((list(raws), share))

    def result(self) -> tuple[list[Outcome], Presealed | None, Cost]:
        """The outcomes of the oldest chunk not yet answered, its first records encrypted if the
        helper did, and what that cost it (:func:`serve`)."""
        kind, value = self._inbox.get()
        if kind == "gone":
            self._inbox.put((kind, value))  # and for every later chunk
            raise HelperGone(f"the sealing helper process ended (exit code {self.proc.poll()}; {value})")
        if kind != "ok":
            raise RuntimeError(f"sealing failed in the helper process:\n{value}")
        answer: tuple[list[Outcome], Presealed | None, Cost] = value
        return answer

    def close(self, *, abandon: bool = False) -> None:
        """End the helper: its input ends, and it exits once it has answered what was sent;
        with ``abandon`` (chunks sent that nobody will read: the batch stopped early) it is
        killed at once, which loses nothing, since sealing writes nothing."""
        self._outbox.put(_CLOSE)
        if abandon:
            self.proc.kill()
        self._feeder.join(timeout=30)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(timeout=30)


_CLOSE = object()


def _assemble(
    chunk: Sequence[Row], outcomes: Iterator[Outcome], presealed: Presealed | None = None
) -> PendingChunk:
    """The chunk for the store, in submission order: ``outcomes`` answer its unquarantined rows
    (and ``presealed`` encrypts the accepted ones, if the helper did)."""
    if not any(isinstance(row, Quarantined) for row in chunk):
        # the common chunk, every row parsed: each list in one comprehension, not a loop of
        # appends (the store's process runs this per row; decision 0081)
        parsed = cast(Sequence[tuple[int, Mapping[str, Any]]], chunk)
        answers = list(itertools.islice(outcomes, len(parsed)))
        ok = [values for values, _ in answers if values is not None]
        if len(ok) == len(parsed):
            return PendingChunk(
                len(chunk), ok, [], [n for n, _ in parsed], [raw for _, raw in parsed], presealed
            )
        outcomes = iter(answers)
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
    return PendingChunk(len(chunk), good, bad, numbers, raws, presealed)


@dataclass(frozen=True, slots=True)
class Cost:
    """What the helper spent on one chunk, in CPU seconds of its process: in all since its
    previous answer (reading the chunk, validating, encrypting its share, writing the answer) and
    encrypting alone."""

    cpu: float
    sealing: float


FIRST_SHARE = 0.1
"""The helper's share of each chunk's encryption until both processes' costs are known: small,
as the helper's first chunks also carry its start (most of a second of CPU: at 50,000 records a
half share left it the slower process, decision 0105), but not none, or its encryption would
never be measured."""


class Balance:
    """How much of each chunk the helper encrypts: the share that gives both processes the same
    CPU per chunk (decision 0105). Why a share of every chunk and not whole chunks (decision
    0069): validation alone keeps the helper nearly as busy as the store's dedup, chain and
    insert, so the encryption (about 10 µs a record) tipped the balance whichever process took a
    whole chunk of it, and the other waited. Why CPU time rather than how long one process waited
    for the other: on a machine shared with other work, waiting measures the queue for a core;
    CPU time measures each process's own work, which is what a split of the work moves.

    With, per record, ``h`` the helper's CPU besides encrypting, ``m`` this process's besides
    encrypting and ``e`` one record's encryption, the helper taking ``f`` of the records spends
    ``h + f e`` and this process ``m + (1 - f) e``: equal at ``f = (m - h + e) / 2e``, kept
    within [0, 1], and moved half-way there per chunk (a chunk's figures are noisy on a busy
    machine). Only where the CPU is spent moves; the same code stores the same rows."""

    def __init__(self) -> None:
        self.share = FIRST_SHARE
        self._seal: float | None = None  # e: one record's encryption, as the helper measured it
        self._helper: float | None = None  # h
        self._main: tuple[float, float] | None = None  # this process's CPU a record, and the share
        self._mark: float | None = None
        self._handed: tuple[int, float] = (0, 0.0)

    def answered(self, rows: int, sealed: int, cost: Cost) -> None:
        """The helper answered a chunk of ``rows`` submitted rows, ``sealed`` of them encrypted."""
        if rows:
            self._helper = (cost.cpu - cost.sealing) / rows
        if sealed and cost.sealing > 0:
            self._seal = cost.sealing / sealed
        self._rebalance()

    def handing(self, rows: int, share: float) -> None:
        """This process hands the store a chunk of ``rows`` records, ``share`` of them encrypted
        by the helper: its CPU since the chunk before is what it spends per chunk (storing the
        last one, its part of the encryption included, and its pipe threads' work)."""
        now = time.process_time()
        n, f = self._handed
        if self._mark is not None and n:
            self._main = ((now - self._mark) / n, f)
        self._mark, self._handed = now, (rows, share)
        self._rebalance()

    def _rebalance(self) -> None:
        e, h = self._seal, self._helper
        if e is None or h is None or self._main is None:
            return
        per, f = self._main
        m = per - (1 - f) * e
        target = min(1.0, max(0.0, (m - h + e) / (2 * e)))
        self.share = (self.share + target) / 2


def _submitted(chunk: Sequence[Row]) -> list[Mapping[str, Any]]:
    return [row[1] for row in chunk if not isinstance(row, Quarantined)]


def sealed_chunks(
    chunks: Iterable[Sequence[Row]], sealer: Sealer, *, parallel_from: int | None = None
) -> Iterator[PendingChunk]:
    """Each chunk sealed, in order. From the ``parallel_from``-th chunk on, a helper process seals
    up to two chunks ahead of the one the caller is storing; before that (and for a batch that
    never gets there) chunks are sealed here. A failure of sealing in the helper is raised here,
    at the chunk it concerns, and stops the batch like a failure of the store does; a helper
    that ends (or cannot start) leaves its unanswered chunks, and the rest, to be sealed here."""
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
    helper: Helper | None
    try:
        helper = Helper(sealer)
    except OSError as exc:
        log.warning("no sealing helper process (%s); sealing here", exc)
        helper = None
    ahead: deque[Sequence[Row]] = deque()
    balance = Balance()

    def here(chunk: Sequence[Row]) -> PendingChunk:
        return _assemble(chunk, iter(sealer.many(_submitted(chunk))))

    def handed(c: PendingChunk) -> PendingChunk:
        done = 0 if c.sealed is None else len(c.sealed[0])
        balance.handing(len(c.rows), done / len(c.rows) if c.rows else 0.0)
        return c

    def answered(chunk: Sequence[Row]) -> PendingChunk:
        nonlocal helper
        if helper is not None:
            try:
                outcomes, presealed, cost = helper.result()
                balance.answered(len(outcomes), 0 if presealed is None else len(presealed[0]), cost)
                return _assemble(chunk, iter(outcomes), presealed)
            except HelperGone as exc:
                log.warning("%s; sealing the rest of the batch here", exc)
                helper.close()
                helper = None
        return here(chunk)

    try:
        first, *rest = early
        for chunk in rest:
            ahead.append(chunk)
            if helper is not None:
                helper.submit(_submitted(chunk), balance.share)
        # the first chunk here, while the helper starts and seals the next ones
        yield handed(here(first))
        for chunk in it:
            ahead.append(chunk)
            if helper is not None:
                helper.submit(_submitted(chunk), balance.share)
            yield handed(answered(ahead.popleft()))
        while ahead:
            yield handed(answered(ahead.popleft()))
    finally:
        if helper is not None:
            helper.close(abandon=bool(ahead))
