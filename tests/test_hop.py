"""``service/hop.py``: the loop's blocking calls on a few threads of their own (decision 0101):
every call answered with its result or its exception, in the caller's context, on at most the
threads asked for, which end when idle and start again with the next call."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time

import pytest

from socialcredit.service import hop
from socialcredit.service.hop import Hop

ASKED: contextvars.ContextVar[str] = contextvars.ContextVar("asked", default="none")


def _named(name: str) -> int:
    return sum(1 for t in threading.enumerate() if t.name == name)


def test_every_call_is_answered_in_its_callers_context_on_its_threads() -> None:
    runner = Hop("hop-test-answers", threads=2)
    seen: set[str] = set()

    def work(n: int) -> tuple[int, str]:
        seen.add(threading.current_thread().name)
        time.sleep(0.001)  # a read: another call may start meanwhile
        return n * n, ASKED.get()

    async def one(n: int) -> tuple[int, str]:
        ASKED.set(f"caller {n}")
        return await runner.run(work, n)

    async def main() -> list[tuple[int, str]]:
        return await asyncio.gather(*(one(n) for n in range(200)))

    assert asyncio.run(main()) == [(n * n, f"caller {n}") for n in range(200)]
    assert seen == {"hop-test-answers"} and _named("hop-test-answers") <= 2


def test_an_exception_reaches_its_caller_and_the_thread_serves_on() -> None:
    runner = Hop("hop-test-errors", threads=1)

    def fail() -> None:
        raise ValueError("no such subject")

    async def main() -> int:
        with pytest.raises(ValueError, match="no such subject"):
            await runner.run(fail)
        return await runner.run(len, "after")

    assert asyncio.run(main()) == 5


def test_idle_threads_end_and_the_next_call_starts_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(hop, "IDLE_S", 0.05)
    runner = Hop("hop-test-idle", threads=2)

    async def ask() -> int:
        return await runner.run(sum, (1, 2, 3))

    assert asyncio.run(ask()) == 6
    deadline = time.monotonic() + 5
    while _named("hop-test-idle") and time.monotonic() < deadline:
        time.sleep(0.01)
    assert _named("hop-test-idle") == 0 and runner._running == 0  # noqa: SLF001
    for _ in range(20):  # calls arriving as the threads end are served all the same
        assert asyncio.run(ask()) == 6
        time.sleep(0.04)
