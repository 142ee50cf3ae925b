"""Group commit of audit entries: one writer thread, one transaction for every entry waiting.

Why: every decision must be in the hash-chained audit log before its answer leaves, and a chain
append is serialised (each link needs the one before). One transaction per decision made 32
concurrent requests queue on the database's write lock, each paying a whole commit. Here each
request hands its entry to the writer and waits; the writer takes *all* entries pending, chains
and commits them in one transaction (one lock, one fsync), and only then releases the requests
whose entries it committed. A reply is therefore never sent before its entry is durable, and a
crash loses only entries whose requests were never answered.

The writer thread starts on the first entry and ends after a while without any, so a ``System``
used once (a test, a CLI command) leaves no thread behind. It is a daemon: a process ending with
entries in flight does not answer those requests, which is the promise kept.

If a group's transaction fails, its entries are retried one by one, so a single entry the store
refuses fails only its own request.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import Mapping
from concurrent.futures import Future
from typing import Any, Protocol

Waiter = Future[None] | asyncio.Future[None]


class AuditSink(Protocol):
    """What the writer needs from a store."""

    def append_audit(self, entries: list[Mapping[str, Any]], *, durable: bool = False) -> None: ...


class AuditWriter:
    """Commits submitted audit entries in groups; see the module docstring.

    Entries go on a deque and an event wakes the writer (which clears the event before it
    drains the deque, so no wake-up is lost); the only lock is held for an append. An event
    loop's requests wait on asyncio futures, which the writer completes with one
    ``call_soon_threadsafe`` per group, not one per request: every cross-thread hand-off costs
    the loop a trip through the GIL."""

    def __init__(self, store: AuditSink, *, max_group: int = 2000, idle_seconds: float = 2.0) -> None:
        self.store = store
        self.max_group = max_group
        self.idle_seconds = idle_seconds
        self._pending: deque[tuple[Mapping[str, Any], Waiter]] = deque()
        self._wake = threading.Event()
        self._start = threading.Lock()
        self._thread: threading.Thread | None = None
        self.groups = 0
        """Transactions committed (for tests and the benchmark: fewer than entries under load)."""
        self.entries = 0

    def submit(self, entry: Mapping[str, Any]) -> Future[None]:
        """Queue one entry; the future completes once it is committed (or fails with the error)."""
        fut: Future[None] = Future()
        self._queue(entry, fut)
        return fut

    def submit_async(self, entry: Mapping[str, Any]) -> asyncio.Future[None]:
        """As :meth:`submit`, for a coroutine on the running event loop to await."""
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue(entry, fut)
        return fut

    def append(self, entry: Mapping[str, Any]) -> None:
        """Queue one entry and wait until it is committed (raises what the commit raised)."""
        self.submit(entry).result()

    def _queue(self, entry: Mapping[str, Any], fut: Waiter) -> None:
        with self._start:  # uncontended but for the moment a writer decides to end
            self._pending.append((entry, fut))
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        while True:
            if not self._pending and not self._wake.wait(self.idle_seconds):
                with self._start:
                    if not self._pending:
                        self._thread = None  # a later entry starts a new writer
                        return
            self._wake.clear()
            group: list[tuple[Mapping[str, Any], Waiter]] = []
            while self._pending and len(group) < self.max_group:
                group.append(self._pending.popleft())
            if group:
                self._commit(group)

    def _commit(self, group: list[tuple[Mapping[str, Any], Waiter]]) -> None:
        try:
            self.store.append_audit([e for e, _ in group], durable=True)
        except BaseException as exc:  # noqa: BLE001 - every waiter must hear about it
            if len(group) == 1:
                _settle([group[0][1]], exc)
                return
            for one in group:  # one bad entry must not fail the others
                self._commit([one])
            return
        self.groups += 1
        self.entries += len(group)
        _settle([w for _, w in group], None)


def _settle(waiters: list[Waiter], exc: BaseException | None) -> None:
    """Complete the waiters: thread futures at once, asyncio futures on their loops, one
    callback per loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for w in waiters:
        if isinstance(w, asyncio.Future):
            by_loop.setdefault(w.get_loop(), []).append(w)
        elif exc is None:
            w.set_result(None)
        else:
            w.set_exception(exc)
    for loop, futs in by_loop.items():
        with contextlib.suppress(RuntimeError):  # a closed loop: nobody is waiting any more
            loop.call_soon_threadsafe(_resolve, futs, exc)


def _resolve(futs: list[asyncio.Future[None]], exc: BaseException | None) -> None:
    for f in futs:
        if f.done():  # the request was cancelled (client gone)
            continue
        if exc is None:
            f.set_result(None)
        else:
            f.set_exception(exc)
