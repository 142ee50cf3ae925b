"""The decision bench's paced load: an open loop in Python, for the latency at a bounded rate.

Why not wrk here too: wrk (``wrkload.py``) drives the closed loop, where a C generator measures the
server's capacity and not its own; but wrk has no open loop (its successor wrk2, which has one, is
not in Debian). A paced run needs latencies counted from each request's due time, which this
generator does (no coordinated omission), and at a bounded rate its own lag is small and shown.
"""

from __future__ import annotations

import asyncio
import gc
import json
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from benchlib import percentile

MEASURE = "no-flights"


# ------------------------------------------------------------------------------------ load


@dataclass
class Load:
    seconds: float = 0.0
    answered: int = 0
    errors: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    lags_ms: list[float] = field(default_factory=list)
    """Paced runs: how late after its due time each request was written (the generator's own lag
    plus any wait for a free connection); part of the latency, shown apart."""
    purposes: list[str] = field(default_factory=list)
    answers: dict[str, int] = field(default_factory=dict)

    def figures(self) -> dict[str, Any]:
        lat = self.latencies_ms
        out = {
            "seconds": round(self.seconds, 2),
            "answered": self.answered,
            "errors": len(self.errors),
            "rps": round(self.answered / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(percentile(lat, 50), 2) if lat else None,
            "p99_ms": round(percentile(lat, 99), 2) if lat else None,
            "max_ms": round(max(lat), 2) if lat else None,
            "answers": dict(sorted(self.answers.items())),
        }
        if self.lags_ms:
            out["send_lag_p99_ms"] = round(percentile(self.lags_ms, 99), 2)
        return out

    def answer(self, status: int, reply: bytes, purpose: str) -> bool:
        """Count one reply; False (and the error kept) unless it is a 200."""
        if status != 200:
            self.errors.append(f"{status} {reply[:200]!r}")
            return False
        i = reply.find(b'"answer":"')
        answer = reply[i + 10 : reply.find(b'"', i + 10)].decode() if i >= 0 else "?"
        self.answers[answer] = self.answers.get(answer, 0) + 1
        self.purposes.append(purpose)  # every answered one (warm-up included): all are audited
        return True


def body(subject: str, purpose: str) -> bytes:
    return json.dumps({"subject": subject, "measure": MEASURE, "purpose": purpose}).encode()


def _request(port: int, key: str, body: bytes) -> bytes:
    return (
        f"POST /decisions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-API-Key: {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


class _Conn(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection of the load generator, one request in flight at a time.

    A protocol rather than asyncio streams, and no task or future per request: the response is
    parsed straight off the received bytes (the head up to the blank line, then Content-Length
    bytes of body, which both servers always send) and handed to ``done`` with the time it was
    complete, in the same callback. The generator shares the 2 cores with the server, so its own
    CPU per request and its scheduling delays are measured into every latency; this keeps them
    small and equal for both servers."""

    def __init__(self, done: Callable[[_Conn, int, bytes, float], None]) -> None:
        self.done = done
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.end = -1  # where the response in progress ends, once its head is in
        self.body_at = 0
        self.status = 0
        self.busy = False
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        """Done once the connection is gone (the server may close one idle for a while)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def send(self, data: bytes) -> None:
        assert self.transport is not None and not self.busy
        self.busy = True
        self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if self.end < 0:
            head_end = self.buf.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = bytes(self.buf[:head_end]).lower()
            self.status = int(head[9:12])
            i = head.find(b"\r\ncontent-length:")
            if i < 0:
                raise RuntimeError(f"a response without Content-Length: {head[:200]!r}")
            j = head.find(b"\r\n", i + 2)
            self.body_at = head_end + 4
            self.end = self.body_at + int(head[i + 17 : j if j >= 0 else len(head)])
        if len(self.buf) < self.end:
            return
        t = time.perf_counter()
        body = bytes(self.buf[self.body_at : self.end])
        del self.buf[: self.end]
        self.end = -1
        self.busy = False
        self.done(self, self.status, body, t)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.busy:
            self.busy = False
            self.done(self, 0, f"connection lost: {exc}".encode(), time.perf_counter())
        if not self.closed.done():
            self.closed.set_result(None)


async def _connect(port: int, done: Callable[[_Conn, int, bytes, float], None]) -> _Conn:
    _, conn = await asyncio.get_running_loop().create_connection(lambda: _Conn(done), "127.0.0.1", port)
    return conn


async def _close(conns: list[_Conn]) -> None:
    for c in conns:
        assert c.transport is not None
        c.transport.close()
    await asyncio.gather(*(c.closed for c in conns))


async def _paced(
    port: int, key: str, subjects: list[str], connections: int, rate: float, seconds: float, tag: str
) -> Load:
    """Open loop: request k is due at ``k / rate`` seconds, whatever became of the others, and is
    written on the first of ``connections`` keep-alive connections free by then (waiting in a
    queue if none is); its latency counts from when it was due, so a request that waited for a
    connection, or for the generator itself, is charged the wait (no coordinated omission). Every
    request is encoded before the clock starts. This is the bounded load a relying party offers
    below capacity."""
    out = Load()
    loop = asyncio.get_running_loop()
    total = int(rate * seconds)
    purposes = [f"{tag} paced-{k}" for k in range(total)]
    data = [
        _request(port, key, body(subjects[(k * 7919) % len(subjects)], purposes[k])) for k in range(total)
    ]
    free: deque[_Conn] = deque()  # used in turn, as a server sees several clients' connections
    waiting: deque[int] = deque()
    sent: dict[_Conn, int] = {}
    finished = loop.create_future()
    remaining = total
    start = 0.0

    def send(conn: _Conn, k: int) -> None:
        sent[conn] = k
        out.lags_ms.append((time.perf_counter() - start - k / rate) * 1000)
        conn.send(data[k])

    def done(conn: _Conn, status: int, reply: bytes, t: float) -> None:
        nonlocal remaining
        k = sent.pop(conn)
        if out.answer(status, reply, purposes[k]):
            out.answered += 1
            out.latencies_ms.append((t - start - k / rate) * 1000)
        remaining -= 1
        if status:
            if waiting:
                send(conn, waiting.popleft())
            else:
                free.append(conn)
        elif not sent and not any(not c.closed.done() for c in free):  # all lost: nothing can be sent
            while waiting:
                out.errors.append(f"no connection left for {purposes[waiting.popleft()]}")
                remaining -= 1
        if remaining == 0 and not finished.done():
            finished.set_result(None)

    free.extend([await _connect(port, done) for _ in range(connections)])
    conns = list(free)
    start = time.perf_counter()
    for k in range(total):
        delay = start + k / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        while free and free[0].closed.done():  # closed by the server while idle: not usable
            free.popleft()
        if free:
            send(free.popleft(), k)
        elif sent:
            waiting.append(k)
        else:
            out.errors.append(f"no connection left for {purposes[k]}")
            remaining -= 1
    if remaining == 0 and not finished.done():
        finished.set_result(None)
    await finished
    out.seconds = time.perf_counter() - start
    await _close(conns)
    return out


def _quiet_gc(run: Callable[[], Load]) -> Load:
    """Run a load with the generator's start-up heap frozen out of its own collector's sight, so
    its collections (which would be charged to the server's latency) stay short."""
    gc.collect()
    gc.freeze()
    try:
        return run()
    finally:
        gc.unfreeze()


def paced(
    port: int, key: str, subjects: list[str], connections: int, rate: float, seconds: float, tag: str
) -> Load:
    return _quiet_gc(lambda: asyncio.run(_paced(port, key, subjects, connections, rate, seconds, tag)))
