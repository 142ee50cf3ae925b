"""``POST /decisions`` through the hot path (``api/hotpath.py``) answers exactly as through the
router: the same status and body for good and bad requests, the same audit entries; anything else
still goes to the router. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from socialcredit.api import create_app
from socialcredit.api.hotpath import App, HotPath
from socialcredit.api.limits import Limits
from socialcredit.service import System
from tests.conftest import org, person

P, LISTED = person(31), person(32)


def _requests(tokens: dict[str, str]) -> list[tuple[str, str, dict[str, str], bytes]]:
    """(label, method and path, headers, body): every way a decision request goes right or wrong."""
    ok = {"subject": P, "measure": "no-flights", "purpose": "ticket"}

    def body(value: Any) -> bytes:
        return json.dumps(value).encode()

    airline = {"authorization": f"Bearer {tokens['airline']}", "content-type": "application/json"}
    other = {"x-api-key": tokens["airline"], "content-type": "application/json"}
    typed = {"content-type": "application/json"}
    return [
        ("allowed", "POST /decisions", airline, body(ok)),
        ("by the other header", "POST /decisions", other, body(ok)),
        ("a listed subject", "POST /decisions", airline, body({**ok, "subject": LISTED})),
        ("an organisation", "POST /decisions", airline, body({**ok, "subject": org(31)})),
        ("no key", "POST /decisions", {"content-type": "application/json"}, body(ok)),
        ("a wrong key", "POST /decisions", {**typed, "authorization": "Bearer nope"}, body(ok)),
        ("a subject's key", "POST /decisions", {**typed, "x-api-key": tokens["subject"]}, body(ok)),
        ("a subject's key, a bad body", "POST /decisions", {**typed, "x-api-key": tokens["subject"]}, b"{}"),
        ("sent as text", "POST /decisions", {**airline, "content-type": "text/plain"}, body(ok)),
        ("sent untyped", "POST /decisions", {"x-api-key": tokens["airline"]}, body(ok)),
        ("another party's measure", "POST /decisions", airline, body({**ok, "measure": "no-new-loans"})),
        ("an unknown measure", "POST /decisions", airline, body({**ok, "measure": "no-such"})),
        ("an invalid code", "POST /decisions", airline, body({**ok, "subject": "110101199003070000"})),
        ("a missing field", "POST /decisions", airline, body({"subject": P, "measure": "no-flights"})),
        ("an extra field", "POST /decisions", airline, body({**ok, "why": "x"})),
        ("a NUL", "POST /decisions", airline, body({**ok, "purpose": "a\x00"})),
        ("a long purpose", "POST /decisions", airline, body({**ok, "purpose": "x" * 501})),
        ("not JSON", "POST /decisions", airline, b"{subject"),
        ("not UTF-8", "POST /decisions", airline, b"\xef{}"),  # found by schemathesis
        ("no body", "POST /decisions", airline, b""),
        ("a list", "POST /decisions", airline, b"[]"),
        ("too large", "POST /decisions", airline, body({**ok, "purpose": "x" * 5000})),
        # no declared length: refused from inside the body stream (TooLarge, an HTTPException)
        ("too large, streamed", "POST /decisions", airline, b""),  # the body: chunks, below
        ("a trailing slash", "POST /decisions/", airline, body(ok)),
        ("another method", "GET /decisions", airline, b""),
    ]


def test_the_hot_path_answers_as_the_router(system: System) -> None:
    court = {
        "subject": LISTED,
        "item": "court.dishonest.able-but-refuses",
        "source": "court",
        "source_record_id": "hot-1",
        "occurred_on": "2026-09-01",
        "reported_at": "2026-09-01T10:00",
    }
    res = system.ingest([(1, court)], origin="test", principal=system.operator())
    assert res.accepted == 1, res.quarantine
    tokens = {
        "airline": system.create_key("relying_party", "airlines").token,
        "subject": system.create_key("subject", P).token,
    }
    limits = Limits(max_body=2000)
    answers: dict[bool, list[tuple[int, Any]]] = {}
    audited: dict[bool, list[tuple[Any, ...]]] = {}
    for hot in (True, False):
        before = len(system.store.audit_entries(limit=10_000))
        got = []
        with TestClient(create_app(system, limits=limits, hot_path=hot)) as client:
            for label, what, headers, content in _requests(tokens):
                method, path = what.split()
                if label == "too large, streamed":
                    chunks = [b'{"subject": "', b"x" * 1500, b"x" * 1500, b'"}']
                    r = client.request(method, path, headers=headers, content=iter(chunks))
                else:
                    r = client.request(method, path, headers=headers, content=content)
                data = (
                    r.json() if r.headers.get("content-type", "").startswith("application/json") else r.text
                )
                if isinstance(data, dict) and data.get("receipt"):
                    assert data["receipt"].pop("decision_id").startswith("dec-")  # new each time
                got.append((r.status_code, data))
        answers[hot] = got
        entries = system.store.audit_entries(limit=10_000)
        audited[hot] = [
            (e["action"], e["role"], e["subject"], e["measure"], e["purpose"], e["answer"])
            for e in reversed(entries[: len(entries) - before])
        ]
    labels = [label for label, *_ in _requests(tokens)]
    for label, fast, routed in zip(labels, answers[True], answers[False], strict=True):
        assert fast == routed, label
    statuses = dict(zip(labels, [s for s, _ in answers[True]], strict=True))
    assert statuses["allowed"] == 200 and statuses["a listed subject"] == 200
    assert answers[True][labels.index("a listed subject")][1]["answer"] == "deny"
    assert statuses["no key"] == 401 and statuses["a subject's key"] == 403
    # a key that may never ask is refused before its body is judged (issue #18)
    assert statuses["a subject's key, a bad body"] == 403
    assert statuses["sent as text"] == statuses["sent untyped"] == 415
    assert statuses["not JSON"] == 400 and statuses["not UTF-8"] == 400
    assert statuses["too large"] == statuses["too large, streamed"] == 413
    assert audited[True] == audited[False] and len(audited[True]) >= 4


def test_only_its_method_and_path_take_the_hot_path() -> None:
    """Unit: the middleware sends exactly ``POST /decisions`` (under any root path) to the
    endpoint, everything else to the app behind it."""
    taken: list[str] = []

    async def endpoint(_request: Any) -> Any:
        from starlette.responses import PlainTextResponse

        taken.append("endpoint")
        return PlainTextResponse("hot")

    async def app(scope: Any, _receive: Any, _send: Any) -> None:
        taken.append("app")

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    hot = HotPath(app, "POST", "/decisions", endpoint)
    for method, path, root, want in [
        ("POST", "/decisions", "", "endpoint"),
        ("POST", "/api/decisions", "/api", "endpoint"),
        ("POST", "/api/decisions", "", "app"),
        ("GET", "/decisions", "", "app"),
        ("POST", "/decisions/", "", "app"),
        ("POST", "/decisionsx", "", "app"),
    ]:
        taken.clear()
        scope = {"type": "http", "method": method, "path": path, "root_path": root, "headers": []}
        asyncio.run(hot(scope, receive, send))
        assert taken == [want], (method, path, root)
    taken.clear()
    asyncio.run(hot({"type": "lifespan"}, receive, send))
    assert taken == ["app"]


def test_its_errors_are_answered_by_the_apps_handlers() -> None:
    """An exception with a handler on the app is answered by that handler; one without (or with
    only a handler for ``Exception``, which is the server-error middleware's) propagates."""
    from starlette.exceptions import HTTPException
    from starlette.responses import PlainTextResponse

    class App:
        exception_handlers = {
            HTTPException: lambda _r, e: _text(f"handled {e.status_code}"),
            Exception: lambda _r, e: _text("never here"),
        }

    async def _text(body: str) -> Any:
        return PlainTextResponse(body, status_code=418)

    def raising(exc: Exception) -> Any:
        async def endpoint(_request: Any) -> Any:
            raise exc

        return endpoint

    async def app(scope: Any, _receive: Any, _send: Any) -> None:
        raise AssertionError("not the router")

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/decisions", "headers": [], "app": App()}
    asyncio.run(HotPath(app, "POST", "/decisions", raising(HTTPException(404)))(scope, receive, send))
    assert sent[0]["status"] == 418 and sent[1]["body"] == b"handled 404"
    with pytest.raises(RuntimeError, match="boom"):
        asyncio.run(HotPath(app, "POST", "/decisions", raising(RuntimeError("boom")))(scope, receive, send))


def test_the_app_sends_its_hot_request_past_fastapis_outer_layers() -> None:
    """Unit (``hotpath.App``): the hot request enters at the named middleware of ours, with the
    app in its scope, and FastAPI's telemetry is asked about at most once a second for it (it
    was asked on every request); any other request, or an app with FastAPI's own body limit,
    goes through FastAPI's whole stack as before, with the same answers."""
    from starlette.types import ASGIApp, Receive, Scope, Send

    entered: list[tuple[str, bool]] = []

    class Entry:
        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                entered.append((scope["path"], scope.get("app") is built))
            await self.app(scope, receive, send)

    def build(**settings: Any) -> App:
        app = App(**settings)
        app.add_middleware(Entry)

        @app.post("/hot")
        async def hot() -> dict[str, str]:
            return {"at": "hot"}

        @app.post("/other")
        async def other() -> dict[str, str]:
            return {"at": "other"}

        app.hot("POST", "/hot", Entry)
        return app

    for settings, shortcut in (({}, True), ({"max_body_size": 10_000}, False)):
        built = build(**settings)
        asked: list[bool] = []
        telemetry = built._native_telemetry
        enabled = telemetry.enabled

        def counted(enabled: Any = enabled, asked: list[bool] = asked) -> bool:
            asked.append(True)
            return bool(enabled())

        telemetry.enabled = counted  # type: ignore[method-assign]
        with TestClient(built) as client:
            entered.clear()
            replies = [client.post("/hot").json() for _ in range(20)]
            hot_asks = len(asked)
            assert replies == [{"at": "hot"}] * 20
            assert entered == [("/hot", True)] * 20
            asked.clear()
            assert client.post("/other").json() == {"at": "other"} and len(asked) == 1
            assert client.get("/hot").status_code == 405
        assert (hot_asks <= 2) if shortcut else (hot_asks == 20), (settings, hot_asks)
        assert (built._hot_entry is not None) == shortcut
