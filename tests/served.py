"""Starting a real ``socialcredit serve`` (or another command) as a subprocess on the test's own
store, shared by the tests that need a served process (faults, freshness, load, limits, the audit
group commit, the browser scenario)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

SOCIALCREDIT = str(Path(sys.executable).with_name("socialcredit"))


def home_env(home: Path) -> dict[str, str]:
    """The environment of a subprocess of the installation at ``home``: none of the test process's
    own settings but its master key. One installation, one master key (decision 0046): the test's
    own stores wrap their data keys under the session's key (tests/conftest.py), so a served
    process must hold it too."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOCIALCREDIT_")}
    env["SOCIALCREDIT_HOME"] = str(home)
    master = os.environ.get("SOCIALCREDIT_MASTER_KEY")
    if master:
        env["SOCIALCREDIT_MASTER_KEY"] = master
    return env


def cli_env(store_url: str, home: Path) -> dict[str, str]:
    """The environment of a CLI subprocess working on the test's own store."""
    return {**home_env(home), "SOCIALCREDIT_DATABASE_URL": store_url}


UNLIMITED = {
    "SOCIALCREDIT_RATE_PER_KEY": "1000000000",
    "SOCIALCREDIT_BURST_PER_KEY": "1000000000",
    "SOCIALCREDIT_RATE_PER_ADDRESS": "1000000000",
    "SOCIALCREDIT_BURST_PER_ADDRESS": "1000000000",
}
"""The write limits raised out of reach, per key and per address. Why: a server test that sends
questions as fast as it can measures the audit, the chains or the memory, not the limits, which
are a policy with their own tests (tests/test_limits.py); since decisions 0100 and 0101 a burst
of questions passes the address's default 200 a second past its burst of 400."""


def unlimited_env(store_url: str, home: Path) -> dict[str, str]:
    """:func:`cli_env` with the write limits out of reach (:data:`UNLIMITED`)."""
    return {**cli_env(store_url, home), **UNLIMITED}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    env: dict[str, str], timeout: float = 60, *, args: tuple[str, ...] = (), log: Path | None = None
) -> tuple[str, subprocess.Popen[bytes]]:
    """``socialcredit serve`` (with ``args``, e.g. ``--workers 2``) on a free loopback port with
    ``env``, once it answers ``/health``; its stderr written to ``log`` if given (quoted if it
    exits first)."""
    port = free_port()
    with log.open("wb") if log is not None else open(os.devnull, "wb") as err:
        proc = subprocess.Popen(
            [SOCIALCREDIT, "serve", "--host", "127.0.0.1", "--port", str(port), *args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return base, proc
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            raise AssertionError("the server exited" + (f": {log.read_text()}" if log is not None else ""))
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError("the server did not come up")
        time.sleep(0.1)
