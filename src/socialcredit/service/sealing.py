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
master keys going out once, and a chunk's records encrypted coming back when this process asks
for that (``helper_encrypts``: encryption goes to whichever process has room, decision 0069).
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
        self, raws: Sequence[Mapping[str, Any]], encrypt: bool = True
    ) -> tuple[list[Outcome], Presealed | None]:
        """:meth:`many`, and (in a helper process given the store's keys) the chunk's records
        encrypted as the store would (``Sealing.seal_chunk``, the same code): what a helper
        answers. Encrypting is an optimisation, never a requirement: if this process cannot
        (no keys given, the key table locked or gone), the store encrypts the chunk itself."""
        outcomes = self.many(raws)
        if self.vault is None or not encrypt:
            return outcomes, None
        try:
            sealing = self.vault.sealing()
            return outcomes, sealing.seal_chunk([v for v, _ in outcomes if v is not None])
        except Exception as exc:  # noqa: BLE001 - the store encrypts this chunk instead
            log.warning("the sealing helper did not encrypt a chunk (%s); the store will", exc)
            return outcomes, None


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
    each answered in order with ``("ok", outcomes)`` or ``("error", traceback)``."""
    sealer: Sealer = pickle.load(inp)
    while True:
        try:
            raws, encrypt = pickle.load(inp)
        except EOFError:
            return
        try:
            reply: tuple[str, Any] = ("ok", sealer.chunk(raws, encrypt))
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

    def submit(self, raws: Sequence[Mapping[str, Any]], encrypt: bool = True) -> None:
        """Send a chunk to seal; with ``encrypt``, its records encrypted too (if it can)."""
        self._outbox.put((list(raws), encrypt))

    def result(self) -> tuple[list[Outcome], Presealed | None]:
        """The outcomes of the oldest chunk not yet answered, and its records encrypted if the
        helper did (:meth:`Sealer.chunk`)."""
        kind, value = self._inbox.get()
        if kind == "gone":
            self._inbox.put((kind, value))  # and for every later chunk
            raise HelperGone(f"the sealing helper process ended (exit code {self.proc.poll()}; {value})")
        if kind != "ok":
            raise RuntimeError(f"sealing failed in the helper process:\n{value}")
        answer: tuple[list[Outcome], Presealed | None] = value
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


WAIT_SLACK = 0.005
"""Seconds this process may wait for the helper's answer to a chunk and still count the helper
as ahead of it."""


def helper_encrypts(waited: float | None) -> bool:
    """Whether the next chunk sent to the helper is encrypted there (decision 0069), given how
    long this process last waited for the helper's answer (None: not yet asked). Encryption goes
    to whichever process has room: validation already keeps the helper the busier of the two on
    the synthetic city (2.9 against 2.1 s CPU a 100,000 records, without encryption), so while
    this process waits for it, this process encrypts; once an answer is there before it is
    asked for (this process is the slower), the helper encrypts too. Either way the same code
    stores the same rows; only where the CPU is spent moves."""
    return waited is not None and waited <= WAIT_SLACK


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
    waited: float | None = None

    def here(chunk: Sequence[Row]) -> PendingChunk:
        return _assemble(chunk, iter(sealer.many(_submitted(chunk))))

    def answered(chunk: Sequence[Row]) -> PendingChunk:
        nonlocal helper, waited
        if helper is not None:
            try:
                start = time.perf_counter()
                outcomes, presealed = helper.result()
                waited = time.perf_counter() - start
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
                helper.submit(_submitted(chunk), helper_encrypts(waited))
        # the first chunk here, while the helper starts and seals the next ones
        yield here(first)
        for chunk in it:
            ahead.append(chunk)
            if helper is not None:
                helper.submit(_submitted(chunk), helper_encrypts(waited))
            yield answered(ahead.popleft())
        while ahead:
            yield answered(ahead.popleft())
    finally:
        if helper is not None:
            helper.close(abandon=bool(ahead))
