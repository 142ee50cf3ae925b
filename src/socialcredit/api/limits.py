"""Request limits: body size on every request, rate on every write.

Why an ASGI middleware and not a FastAPI dependency: a dependency runs after the body has been
read, and the point of a size limit is to refuse a huge body *before* it is held in memory. The
declared ``Content-Length`` is checked first; a body sent without one (chunked transfer
encoding) is counted as it arrives and refused the moment it passes the limit.

Rate limits are token buckets, one per presented API key (by the hash of the whole token, so a
caller cannot drain someone else's bucket by guessing a key id) and one per client address (so
inventing keys does not escape the limit). Only writes (POST, PUT, PATCH, DELETE) are limited:
those are what cost a database transaction and an audit entry. The buckets live in the process,
or, when ``SOCIALCREDIT_RATE_DIR`` names a directory (``serve --workers N`` makes one for its
workers), in files there that every server process on the machine shares
(:mod:`socialcredit.api.sharedbuckets`), so N workers give a key its rate once, not N times.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from starlette.exceptions import HTTPException

from socialcredit.api.errors import error_response
from socialcredit.api.sharedbuckets import SharedBuckets
from socialcredit.errors import Refused
from socialcredit.i18n import N_

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MiB = 1024 * 1024
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
RATE_DIR = "SOCIALCREDIT_RATE_DIR"
"""The variable naming a directory whose bucket files every server process on the machine shares."""


@dataclass(frozen=True)
class Limits:
    """The limits a server enforces. ``bulk_paths`` may carry batches (records, subjects) and get
    ``max_bulk_body``; every other request gets ``max_body``."""

    max_body: int = 1 * MiB
    max_bulk_body: int = 8 * MiB
    bulk_paths: tuple[str, ...] = ("/records", "/subjects", "/portal/batches")
    key_rate: float = 100.0  # writes per second per key, sustained
    key_burst: int = 200
    address_rate: float = 200.0  # writes per second per client address, sustained
    address_burst: int = 400
    max_buckets: int = 50_000
    shared_dir: Path | None = None  # buckets shared with the other server processes (see above)

    @classmethod
    def from_env(cls) -> Limits:
        """Defaults, overridden by ``SOCIALCREDIT_RATE_PER_KEY``, ``SOCIALCREDIT_BURST_PER_KEY``,
        ``SOCIALCREDIT_RATE_PER_ADDRESS`` and ``SOCIALCREDIT_BURST_PER_ADDRESS``; a value that is
        no positive number is refused naming its variable. ``SOCIALCREDIT_RATE_DIR``, when set,
        must be an existing directory."""
        d = cls()
        env = os.environ

        def num(name: str, default: float) -> float:
            raw = env.get(name)
            if raw is None:
                return default
            try:
                value = float(raw)
            except ValueError:
                value = math.nan
            if not math.isfinite(value) or value <= 0:
                raise Refused(N_("must be a positive number, got {raw}", raw=repr(raw)), field=name)
            return value

        shared = env.get(RATE_DIR)
        if shared is not None and not Path(shared).is_dir():
            raise Refused(N_("must be an existing directory, got {raw}", raw=repr(shared)), field=RATE_DIR)
        return cls(
            shared_dir=Path(shared) if shared is not None else None,
            key_rate=num("SOCIALCREDIT_RATE_PER_KEY", d.key_rate),
            key_burst=int(num("SOCIALCREDIT_BURST_PER_KEY", d.key_burst)),
            address_rate=num("SOCIALCREDIT_RATE_PER_ADDRESS", d.address_rate),
            address_burst=int(num("SOCIALCREDIT_BURST_PER_ADDRESS", d.address_burst)),
        )

    def body_limit(self, path: str) -> int:
        bulk = any(path == p or path.startswith(p + "/") for p in self.bulk_paths)
        return self.max_bulk_body if bulk else self.max_body


class Bucket(Protocol):
    """What the middleware needs of a set of buckets: in this process or shared between several."""

    def take(self, who: str) -> float: ...


class Buckets:
    """Token buckets keyed by caller, oldest forgotten first when there are too many."""

    def __init__(self, rate: float, burst: int, size: int, clock: Callable[[], float]) -> None:
        self.rate, self.burst, self.size, self.clock = rate, burst, size, clock
        self._b: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, who: str) -> float:
        """Take one token; returns 0 when allowed, else the seconds until one is available."""
        now = self.clock()
        tokens, last = self._b.pop(who, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self.rate
        self._b[who] = (tokens, now)
        while len(self._b) > self.size:
            self._b.popitem(last=False)
        return wait


class TooLarge(HTTPException):
    """Raised from inside the body stream, so the app's error handler answers in the one shape."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, N_("body: larger than {limit} bytes; split the batch", limit=limit))


class RequestLimits:
    """Pure ASGI middleware enforcing :class:`Limits`."""

    def __init__(self, app: ASGIApp, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.app = app
        self.limits = limits
        self.keys: Bucket
        self.addresses: Bucket
        if limits.shared_dir is None:
            self.keys = Buckets(limits.key_rate, limits.key_burst, limits.max_buckets, clock)
            self.addresses = Buckets(limits.address_rate, limits.address_burst, limits.max_buckets, clock)
        else:
            d = limits.shared_dir
            self.keys = SharedBuckets(d / "keys.buckets", limits.key_rate, limits.key_burst, clock=clock)
            self.addresses = SharedBuckets(
                d / "addresses.buckets", limits.address_rate, limits.address_burst, clock=clock
            )
        self._digests: dict[str, str] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Only the three headers needed, in one pass over the raw list (decoding every header
        # into a dict was a measurable part of a cached decision's cost).
        declared = token = auth = None
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                declared = value.decode("latin-1")
            elif name == b"x-api-key":
                token = value.decode("latin-1")
            elif name == b"authorization":
                auth = value.decode("latin-1")
        if scope.get("method") in WRITES:
            wait = self._rate(scope, token, auth)
            if wait > 0:
                retry = str(max(1, math.ceil(wait)))
                response = error_response(
                    429, N_("too many requests; retry after {retry} seconds", retry=retry)
                )
                response.headers["Retry-After"] = retry
                await response(scope, receive, send)
                return
        limit = self.limits.body_limit(scope.get("path", ""))
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            refusal = error_response(413, N_("body: larger than {limit} bytes; split the batch", limit=limit))
            await refusal(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise TooLarge(limit)
            return message

        await self.app(scope, counted, send)

    def _rate(self, scope: Scope, token: str | None, auth: str | None) -> float:
        if auth and auth.lower().startswith("bearer "):
            token = auth[7:].strip()
        client = scope.get("client")
        address = str(client[0]) if client else "?"
        wait = self.addresses.take(address)
        if token:
            wait = max(wait, self.keys.take(self._digest(token)))
        return wait

    def _digest(self, token: str) -> str:
        """The bucket name of a token: its SHA-256, remembered for the tokens seen lately."""
        digest = self._digests.get(token)
        if digest is None:
            if len(self._digests) >= 10_000:
                self._digests.clear()
            digest = self._digests[token] = hashlib.sha256(token.encode()).hexdigest()
        return digest
