"""The event loop's blocking calls run on a few threads of their own, fed by one queue.

Why not ``asyncio.to_thread``: a question about a subject not in memory hops to a thread for its
state's read (decision 0088 measured reading it on the loop as worse). Through the loop's default
executor that hop cost 27 to 35 µs of CPU a call with 32 calls in flight (load 11: the executor's
locks, a concurrent future wrapped in an asyncio one, up to six workers woken in turn and
contending for the GIL); two threads that take calls from one ``SimpleQueue`` and settle the
caller's future with ``call_soon_threadsafe`` cost 13 to 15 µs (a micro-benchmark of an empty
call; the route's threads under wrk: ``bench/decisions_profile.py``; decision 0101). A call runs
in a copy of the caller's context, as with ``to_thread``. The threads end after ``IDLE_S``
without work and start again with the next call, so an idle system holds none (as the audit
writer's).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

IDLE_S = 5.0
"""Seconds a thread waits for work before it ends."""

_Call = tuple[
    asyncio.AbstractEventLoop, "asyncio.Future[Any]", contextvars.Context, Callable[..., Any], tuple[Any, ...]
]


class Hop:
    """Up to ``threads`` threads named ``name`` running the calls :meth:`run` is given, each
    answered on the loop that asked."""

    def __init__(self, name: str, threads: int = 2) -> None:
        self.name = name
        self.threads = threads
        self._queue: queue.SimpleQueue[_Call] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._running = 0

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` on one of the threads; its result or its exception here."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put((loop, future, contextvars.copy_context(), fn, args))
        with self._lock:  # read under the lock a thread ends under: no call is left unserved
            while self._running < self.threads:
                self._running += 1
                threading.Thread(target=self._serve, name=self.name, daemon=True).start()
        return await future

    def _serve(self) -> None:
        while True:
            try:
                loop, future, context, fn, args = self._queue.get(timeout=IDLE_S)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():
                        self._running -= 1
                        return
                continue
            try:
                outcome: tuple[Any, BaseException | None] = (context.run(fn, *args), None)
            except BaseException as exc:  # answered to the caller, as to_thread would
                outcome = (None, exc)
            with contextlib.suppress(RuntimeError):  # a loop closed meanwhile: nobody waits
                loop.call_soon_threadsafe(_settle, future, *outcome)


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # the caller was cancelled meanwhile
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)
