"""The decision bench's closed loop: wrk, a C load generator, asking about the residents in turn.

Why wrk: a load generator written in Python shares the two cores with the server and spends more
CPU per request than a bare endpoint does, so it measured itself as much as the floor (issue 20).
wrk is the generator a peer would use (Debian's ``wrk``, installed by :func:`ensure_wrk` when it is
missing and this process may install it). One thread, ``connections`` keep-alive connections, each
sending its next request as soon as the last reply is in.

Every request carries its own body: the n-th asks about the n-th subject of the list given (so a
list of distinct residents asks each at most once while it lasts) with its own purpose, so the
audit log can be checked request by request. The bodies are written to a file that the Lua script
reads before the clock starts. wrk reports completed requests, non-2xx replies, socket errors and
latency percentiles from its own histogram; the script adds how many requests it wrote, so the
audit check can bound what the server may have answered after wrk stopped counting.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

WRK = "wrk"

SCRIPT = r"""
local bodies = {}
for line in io.lines(os.getenv("BENCH_BODIES")) do bodies[#bodies + 1] = line end
local count = #bodies
local headers = {["Content-Type"] = "application/json", ["X-API-Key"] = os.getenv("BENCH_KEY")}
sent = 0
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function request()
  sent = sent + 1
  return wrk.format("POST", "/decisions", headers, bodies[((sent - 1) % count) + 1])
end

function done(summary, latency, requests)
  local written = 0
  for _, t in ipairs(threads) do written = written + t:get("sent") end
  local e = summary.errors
  io.write(string.format(
    'BENCH {"written": %d, "completed": %d, "duration_us": %d, "non2xx": %d, "connect": %d, '
    .. '"read": %d, "write": %d, "timeout": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, '
    .. '"max_us": %d, "mean_us": %.1f}\n',
    written, summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
end
"""


def ensure_wrk() -> str:
    """The path of wrk, installing Debian's package first if it is missing and we are root."""
    found = shutil.which(WRK)
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "wrk"]
        if subprocess.run(install, env=env, capture_output=True).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, check=True)
            subprocess.run(install, env=env, capture_output=True, check=True)
        found = shutil.which(WRK)
        if found:
            return found
    raise SystemExit("wrk is missing: install it as root (apt-get install -y --no-install-recommends wrk)")


@dataclass(frozen=True)
class WrkRun:
    """One wrk run's figures: requests completed in the window and wrk's latency percentiles."""

    seconds: float
    written: int
    completed: int
    non2xx: int
    socket_errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def answered(self) -> int:
        """Completed with a 2xx status: the requests answered."""
        return self.completed - self.non2xx

    @property
    def rps(self) -> float:
        return self.answered / self.seconds if self.seconds else 0.0

    def figures(self) -> dict[str, object]:
        return {
            "seconds": round(self.seconds, 2),
            "answered": self.answered,
            "written": self.written,
            "errors": self.non2xx + self.socket_errors,
            "rps": round(self.rps, 1),
            "p50_ms": round(self.p50_ms, 2),
            "p90_ms": round(self.p90_ms, 2),
            "p99_ms": round(self.p99_ms, 2),
            "max_ms": round(self.max_ms, 2),
        }


def run_wrk(port: int, key: str, bodies: list[bytes], connections: int, seconds: float) -> WrkRun:
    """Drive ``POST /decisions`` on ``port`` with wrk for ``seconds``: one thread, ``connections``
    connections, the n-th request sending ``bodies[n % len(bodies)]``."""
    wrk = ensure_wrk()
    with tempfile.TemporaryDirectory(prefix="sc-wrk-") as tmp:
        script, data = Path(tmp) / "decisions.lua", Path(tmp) / "bodies.jsonl"
        script.write_text(SCRIPT, encoding="utf-8")
        data.write_bytes(b"\n".join(bodies) + b"\n")
        env = {**os.environ, "BENCH_BODIES": str(data), "BENCH_KEY": key}
        cmd = [wrk, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s"]
        out = subprocess.run(
            [*cmd, "-s", str(script), f"http://127.0.0.1:{port}/decisions"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    line = next((x for x in out.splitlines() if x.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no figures:\n{out}")
    f = json.loads(line[6:])
    return WrkRun(
        seconds=f["duration_us"] / 1e6,
        written=f["written"],
        completed=f["completed"],
        non2xx=f["non2xx"],
        socket_errors=f["connect"] + f["read"] + f["write"] + f["timeout"],
        p50_ms=f["p50_us"] / 1000,
        p90_ms=f["p90_us"] / 1000,
        p99_ms=f["p99_us"] / 1000,
        max_ms=f["max_us"] / 1000,
    )
