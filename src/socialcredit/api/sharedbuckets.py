"""Token buckets shared by every server process on one machine (``serve --workers N``).

Why: a limit of 100 writes a second per key held in each worker's memory is N times that behind
N workers, and a caller pinned to a connection per worker gets them all. The buckets must be one
table that every worker reads and writes.

Why a memory-mapped file and not the database: a limit is checked on every write before the
request is read, at a few microseconds; a database round trip (and on SQLite, a write lock shared
with the ledger's writers) would cost more than the request it guards, and the state need not
survive a restart (a restarted server starting every bucket full is what one process does too).
The file is a fixed open-addressing table of ``slots`` entries ``(caller hash, tokens, last
refill)``, each update made under an exclusive ``flock`` on the file, so two workers never both
spend the last token. ``time.monotonic`` is one clock for every process on the machine (Linux's
``CLOCK_MONOTONIC``), so refills agree across workers.

The table forgets callers like the in-process :class:`socialcredit.api.limits.Buckets`: when the
slots a caller may occupy are all taken, the one refilled longest ago is replaced, and a forgotten
caller starts with a full bucket. Servers on several machines need a limiter in front of them (a
proxy's); docs/reliability.md says so.
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import struct
import time
from collections.abc import Callable
from pathlib import Path

SLOT = struct.Struct("<Qdd")  # caller's 64-bit hash (0: empty), tokens, last refill (monotonic s)
MAGIC = b"SCRATE01"
HEADER = struct.Struct("<8sI4x")  # magic, slots
PROBES = 8
"""Slots a caller may occupy: its hash's own and the next seven (open addressing)."""


class SharedBuckets:
    """Token buckets in a file shared by processes; the same ``take`` as ``limits.Buckets``."""

    def __init__(
        self,
        path: Path,
        rate: float,
        burst: int,
        slots: int = 65_536,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate, self.burst, self.clock = rate, burst, clock
        size = HEADER.size + slots * SLOT.size
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                head = os.pread(self._fd, HEADER.size, 0)
                if len(head) < HEADER.size or head[:8] != MAGIC:
                    # a new file (or one from another program's run): laid out by whoever opens it first
                    os.ftruncate(self._fd, 0)
                    os.ftruncate(self._fd, size)
                    os.pwrite(self._fd, HEADER.pack(MAGIC, slots), 0)
                else:
                    slots = HEADER.unpack(head)[1]  # the first opener's size holds for all
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            self.slots = slots
            self._map = mmap.mmap(self._fd, HEADER.size + slots * SLOT.size)
        except BaseException:
            os.close(self._fd)
            raise

    def take(self, who: str) -> float:
        """Take one token; returns 0 when allowed, else the seconds until one is available."""
        h = int.from_bytes(hashlib.blake2b(who.encode(), digest_size=8).digest(), "little") or 1
        start = h % self.slots
        m = self._map
        fcntl.flock(self._fd, fcntl.LOCK_EX)
        try:
            now = self.clock()
            at, tokens, last = -1, float(self.burst), now
            oldest, oldest_at = float("inf"), -1
            for i in range(PROBES):
                offset = HEADER.size + ((start + i) % self.slots) * SLOT.size
                key, t, seen = SLOT.unpack_from(m, offset)
                if key == h:
                    at, tokens, last = offset, t, seen
                    break
                if key == 0:
                    at = offset
                    break
                if seen < oldest:
                    oldest, oldest_at = seen, offset
            if at < 0:
                at = oldest_at  # every slot taken: forget the caller refilled longest ago
            tokens = min(float(self.burst), tokens + max(0.0, now - last) * self.rate)
            wait = 0.0
            if tokens >= 1:
                tokens -= 1
            else:
                wait = (1 - tokens) / self.rate
            SLOT.pack_into(m, at, h, tokens, now)
            return wait
        finally:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self) -> None:
        self._map.close()
        os.close(self._fd)
