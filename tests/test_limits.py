"""Request limits: every write endpoint refuses an oversized body before reading it whole (a
declared one at once, a chunked one as it passes the limit) and rate-limits per key and per
client address, answering in the one error shape. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from socialcredit.api import create_app
from socialcredit.api.limits import RATE_DIR, Buckets, Limits, MiB, RequestLimits
from socialcredit.api.sharedbuckets import SharedBuckets
from socialcredit.errors import Refused
from socialcredit.service import System
from tests.conftest import person

P = person(51)


def shape(body: dict[str, Any], status: int) -> None:
    assert body == {"ok": False, "error": body["error"], "errors": body["errors"], "status": status}


def write_routes(system: System) -> list[tuple[str, str]]:
    """Every write operation in the app's OpenAPI document, with its path parameters filled in,
    and a path the app does not serve (the limits come before routing, so they hold there too)."""
    out = [("POST", "/no-such-page")]
    for path, ops in create_app(system).openapi()["paths"].items():
        for method in ops:
            if method.upper() in {"POST", "PUT", "PATCH", "DELETE"}:
                out.append((method.upper(), path.replace("{", "x").replace("}", "")))
    return out


def test_every_write_endpoint_refuses_a_declared_oversized_body(system: System) -> None:
    routes = write_routes(system)
    assert {("POST", "/records"), ("POST", "/decisions"), ("DELETE", "/keys/xkey_id")} <= set(routes)
    with closing(TestClient(create_app(system))) as client:
        for method, path in routes:
            limit = Limits().body_limit(path)
            r = client.request(method, path, content=b"{}", headers={"Content-Length": str(limit + 1)})
            assert r.status_code == 413, (method, path, r.status_code)
            shape(r.json(), 413)


def _drive(app: Any, method: str, path: str, chunks: Iterator[bytes]) -> tuple[int, int, dict[str, Any]]:
    """Send a chunked body (no Content-Length) straight into the ASGI app, counting how many
    bytes the app pulled before it answered."""
    pulled = 0
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        chunk = next(chunks, None)
        if chunk is None:
            return {"type": "http.request", "body": b"", "more_body": False}
        pulled += len(chunk)
        return {"type": "http.request", "body": chunk, "more_body": True}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"transfer-encoding", b"chunked")],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 8000),
    }
    asyncio.run(app(scope, receive, send))
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], pulled, json.loads(body)


@pytest.mark.parametrize(("path", "limit"), [("/records", 8 * MiB), ("/decisions", 1 * MiB)])
def test_a_chunked_body_is_refused_as_it_passes_the_limit(system: System, path: str, limit: int) -> None:
    app = create_app(system)
    token = system.create_key("operator", "wang.fang").token
    chunk = b"x" * 65_536

    def endless() -> Iterator[bytes]:
        yield b'{"records": ['
        while True:
            yield chunk

    status, pulled, body = _drive(app, "POST", path, endless())
    assert status == 413
    shape(body, 413)
    assert limit < pulled <= limit + len(chunk) + 20  # stopped at the limit, not read whole
    del token


def test_a_chunked_body_under_the_limit_is_accepted(system: System) -> None:
    token = system.create_key("operator", "wang.fang").token
    rows = [
        {
            "subject": P,
            "item": "traffic.minor",
            "source": "traffic-police",
            "source_record_id": f"c-{i}",
            "occurred_on": "2026-03-01",
        }
        for i in range(50)
    ]
    payload = json.dumps({"records": rows}).encode()
    with closing(TestClient(create_app(system))) as client:
        r = client.post(
            "/records",
            content=iter([payload[i : i + 100] for i in range(0, len(payload), 100)]),
            headers={"X-API-Key": token, "Content-Type": "application/json"},
        )
    assert r.status_code == 200, r.text
    assert r.json()["accepted"] == 50


def test_writes_are_rate_limited_per_key_and_per_address(system: System) -> None:
    limits = Limits(key_rate=0.01, key_burst=3, address_rate=0.01, address_burst=5)
    a = system.create_key("relying_party", "airlines").token
    b = system.create_key("relying_party", "airlines").token
    ask = {"subject": P, "measure": "no-flights", "purpose": "ticket"}
    with closing(TestClient(create_app(system, limits=limits))) as client:
        got = [client.post("/decisions", json=ask, headers={"X-API-Key": a}).status_code for _ in range(4)]
        assert got == [200, 200, 200, 429]
        r = client.post("/decisions", json=ask, headers={"Authorization": f"Bearer {a}"})
        assert r.status_code == 429 and int(r.headers["Retry-After"]) >= 1
        shape(r.json(), 429)
        # another key has its own bucket, until the address's bucket is empty too
        got = [client.post("/decisions", json=ask, headers={"X-API-Key": b}).status_code for _ in range(2)]
        assert got == [429, 429]  # the address bucket (5) was spent by the first key's 5 writes
        # reads are not rate-limited
        assert client.get("/schemes").status_code == 200
        assert client.get("/audit", headers={"X-API-Key": a}).status_code == 403
    # a refused request is not answered, so it is not audited either
    answered = [e for e in system.store.audit_entries(limit=100) if e["action"] == "decision"]
    assert len(answered) == 3


def test_buckets_refill_at_their_rate() -> None:
    now = [0.0]
    buckets = Buckets(rate=2.0, burst=2, size=3, clock=lambda: now[0])
    assert [buckets.take("k") for _ in range(2)] == [0.0, 0.0]
    assert buckets.take("k") == pytest.approx(0.5)
    now[0] += 0.5
    assert buckets.take("k") == 0.0
    for who in ("a", "b", "c", "d"):  # bounded memory: the oldest caller is forgotten
        buckets.take(who)
    assert "k" not in buckets._b and len(buckets._b) == 3


def test_rate_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIALCREDIT_RATE_PER_KEY", "7.5")
    monkeypatch.setenv("SOCIALCREDIT_BURST_PER_ADDRESS", "9")
    limits = Limits.from_env()
    assert (limits.key_rate, limits.address_burst, limits.key_burst) == (7.5, 9, 200)
    monkeypatch.setenv("SOCIALCREDIT_RATE_PER_KEY", "-1")
    with pytest.raises(ValueError, match="SOCIALCREDIT_RATE_PER_KEY"):
        Limits.from_env()


def test_two_apps_sharing_a_rate_directory_give_a_key_its_burst_once(system: System, tmp_path: Path) -> None:
    """Two servers on one machine (``serve --workers 2``, decision 0073) spend one bucket per key:
    three writes through either, then 429 from both, where buckets held per process gave six."""
    limits = Limits(key_rate=0.01, key_burst=3, address_rate=0.01, address_burst=100, shared_dir=tmp_path)
    token = system.create_key("relying_party", "airlines").token
    ask = {"subject": P, "measure": "no-flights", "purpose": "ticket"}
    with (
        TestClient(create_app(system, limits=limits)) as a,
        TestClient(create_app(system, limits=limits)) as b,
    ):
        got = [
            c.post("/decisions", json=ask, headers={"X-API-Key": token}).status_code for c in (a, b, a, b, a)
        ]
        assert got == [200, 200, 200, 429, 429]


_SPEND = """
import sys
from pathlib import Path
from socialcredit.api.sharedbuckets import SharedBuckets
b = SharedBuckets(Path(sys.argv[1]), rate=1e-9, burst=100_000)
print("ready", flush=True)
sys.stdin.readline()  # start together
print(sum(b.take("one key") == 0.0 for _ in range(60_000)))
"""


def test_shared_buckets_never_give_the_last_token_twice(tmp_path: Path) -> None:
    """Two processes spending one key's bucket as fast as they can, 60,000 tries each for a burst
    of 100,000: exactly the burst is granted between them (updates without the file lock lose
    spends and grant more)."""
    path = tmp_path / "keys.buckets"
    SharedBuckets(path, rate=1e-9, burst=100_000).close()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _SPEND, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for p in procs:
        assert p.stdin is not None and p.stdout is not None
        assert p.stdout.readline() == "ready\n"
    for p in procs:  # both started and waiting: let them go at once
        assert p.stdin is not None
        p.stdin.write("go\n")
        p.stdin.flush()
    outs = [p.communicate(timeout=120)[0] for p in procs]
    assert sum(int(o) for o in outs) == 100_000, outs


def test_shared_buckets_refill_and_forget_the_oldest_caller(tmp_path: Path) -> None:
    now = [0.0]
    a = SharedBuckets(tmp_path / "b", rate=2.0, burst=2, slots=8, clock=lambda: now[0])
    b = SharedBuckets(tmp_path / "b", rate=2.0, burst=2, slots=1024, clock=lambda: now[0])
    assert b.slots == 8  # the first opener's table holds for all
    assert [a.take("k"), b.take("k")] == [0.0, 0.0]
    assert b.take("k") == pytest.approx(0.5)
    now[0] += 0.5
    assert a.take("k") == 0.0
    assert a.take("k") > 0  # spent again
    for n, who in enumerate("abcdefgh"):  # eight more callers in eight slots: "k" is the oldest
        now[0] += 0.001 * (n + 1)
        assert a.take(who) == 0.0
    assert b.take("k") == 0.0  # forgotten, so it starts full again
    a.close()
    b.close()


def test_the_rate_directory_must_exist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(RATE_DIR, str(tmp_path))
    assert Limits.from_env().shared_dir == tmp_path
    monkeypatch.setenv(RATE_DIR, str(tmp_path / "missing"))
    with pytest.raises(Refused, match=RATE_DIR):
        Limits.from_env()


def test_the_middleware_passes_other_scopes_through() -> None:
    seen: list[str] = []

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    asyncio.run(RequestLimits(inner, Limits())({"type": "lifespan"}, None, None))  # type: ignore[arg-type]
    assert seen == ["lifespan"]


@pytest.mark.slow  # a real server process
def test_a_real_server_stops_reading_an_endless_chunked_body(store_url: str, tmp_path: Any) -> None:
    """The same through uvicorn on loopback: a client streaming an endless chunked body to a
    write endpoint gets 413 long before it could have sent it all."""
    import contextlib
    import socket
    import subprocess
    import time

    from tests.served import SOCIALCREDIT, cli_env, free_port

    port = free_port()
    proc = subprocess.Popen(
        [SOCIALCREDIT, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=cli_env(store_url, tmp_path / "home"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=1)
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline
                time.sleep(0.1)
        sock.settimeout(10)
        sock.sendall(
            b"POST /decisions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        chunk = b"10000\r\n" + b" " * 0x10000 + b"\r\n"  # 64 KiB chunks, forever
        sent, reply = 0, b""
        sock.setblocking(False)
        while sent < 64 * MiB:
            with contextlib.suppress(BlockingIOError):
                reply += sock.recv(65536)
            if b"\r\n\r\n" in reply:
                break
            try:
                sent += sock.send(chunk)
            except BlockingIOError:
                time.sleep(0.001)
            except OSError:
                break  # the server closed the connection after answering
        sock.setblocking(True)
        while b"\r\n\r\n" not in reply:
            more = sock.recv(65536)
            if not more:
                break
            reply += more
        sock.close()
        assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
        assert sent < 16 * MiB  # refused at 1 MiB, not after reading 64 MiB
    finally:
        proc.kill()
        proc.wait(10)
