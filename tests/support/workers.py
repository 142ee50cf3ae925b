"""Reaching each worker of a ``socialcredit serve --workers N`` on purpose.

uvicorn's workers share one listening socket and the kernel hands each new connection to one of
them, so a test cannot name a worker in a URL. It can find out which worker holds a connection:
the server's end of the socket is in ``/proc/net/tcp`` (local port the server's, remote port the
client's), and its inode is among the file descriptors of exactly one worker. Keep-alive
connections then stay with that worker, so a test can write through one worker and ask another.
Linux only, as the served tests are.
"""

from __future__ import annotations

import http.client
import json
import os
import time
from pathlib import Path
from typing import Any


def worker_pids(server_pid: int) -> list[int]:
    """The worker processes of a served ``socialcredit serve --workers N`` (multiprocessing's
    spawned children; its resource tracker is not one)."""
    children = Path(f"/proc/{server_pid}/task/{server_pid}/children").read_text().split()
    return [int(c) for c in children if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]


def _server_inode(server_port: int, client_port: int) -> str | None:
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            f = line.split()
            local, remote, inode = f[1], f[2], f[9]
            if (
                int(local.rsplit(":", 1)[1], 16) == server_port
                and int(remote.rsplit(":", 1)[1], 16) == client_port
            ):
                return inode
    return None


def owner(pids: list[int], server_port: int, conn: http.client.HTTPConnection) -> int | None:
    """The worker among ``pids`` holding the server's end of ``conn`` (None if not found)."""
    assert conn.sock is not None
    inode = _server_inode(server_port, conn.sock.getsockname()[1])
    if inode is None:
        return None
    target = f"socket:[{inode}]"
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == target:
                    return pid
            except OSError:
                continue
    return None


class Pinned:
    """A keep-alive connection to one worker. uvicorn closes a connection idle for 5 s; a request
    that finds it closed is sent again on a new connection held by the same worker (a closed
    idle connection never received it)."""

    def __init__(self, port: int, pids: list[int], pid: int, conn: http.client.HTTPConnection) -> None:
        self.port, self.pids, self.pid, self.conn = port, pids, pid, conn

    def reconnect(self, timeout: float = 60) -> None:
        self.conn.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            status, _ = _send(conn, "GET", "/health")
            if status == 200 and owner(self.pids, self.port, conn) == self.pid:
                self.conn = conn
                return
            conn.close()
        raise AssertionError(f"worker {self.pid} accepts no connection")

    def close(self) -> None:
        self.conn.close()


def connections_per_worker(
    port: int, pids: list[int], each: int = 1, timeout: float = 120
) -> dict[int, list[Pinned]]:
    """``each`` open keep-alive connections held by every worker in ``pids``. A connection is
    handed to a worker when the worker accepts it, so each is used once (a health check) before
    its owner is looked up; surplus ones are closed. A worker still starting accepts nothing
    (the first one up answers every connection), hence the generous ``timeout``."""
    got: dict[int, list[Pinned]] = {pid: [] for pid in pids}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(len(c) >= each for c in got.values()):
            return got
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        status, _ = _send(conn, "GET", "/health")
        assert status == 200
        pid = owner(pids, port, conn)
        if pid is not None and len(got[pid]) < each:
            got[pid].append(Pinned(port, pids, pid, conn))
        else:
            conn.close()
            time.sleep(0.05)
    raise AssertionError(f"could not reach every worker: { ({p: len(c) for p, c in got.items()}) }")


def _send(
    conn: http.client.HTTPConnection, method: str, path: str, body: Any = None, key: str | None = None
) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    if key is not None:
        headers["X-API-Key"] = key
    conn.request(method, path, body=None if body is None else json.dumps(body), headers=headers)
    r = conn.getresponse()
    data = r.read()
    return r.status, json.loads(data) if data else None


def request(
    pinned: Pinned, method: str, path: str, body: Any = None, key: str | None = None
) -> tuple[int, Any]:
    """One request to the pinned worker: (status, decoded JSON body)."""
    try:
        return _send(pinned.conn, method, path, body, key)
    except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
        pinned.reconnect()
        return _send(pinned.conn, method, path, body, key)


def until(ask: Any, want: Any, limit_s: float) -> float:
    """Seconds until ``ask()`` returns ``want``, asking without pause; gives up (returning the
    time spent) after twice ``limit_s``."""
    start = time.perf_counter()
    while True:
        if ask() == want:
            return time.perf_counter() - start
        if time.perf_counter() - start > 2 * limit_s:
            return time.perf_counter() - start
