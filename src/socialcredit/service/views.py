"""A per-subject cache of views and prepared decisions, kept current with the store.

Why: answering "may X receive M now?" from the ledger costs about eight SQL statements and the
scoring of X's records (milliseconds), while the answer changes only when something it depends
on changes. A cached entry is trusted only while all of these hold:

- **No new record or case event touches the subject.** Every such write appends to the records
  or the cases chain, whichever process made it. Before an entry is trusted, the chain heads
  (:class:`socialcredit.store.markers.HeadReader`) are compared with the marker the cache last
  applied: read then and there by a blocking caller (``System.check`` from a thread), or, for
  the server's event loop, read every ``poll`` (10 ms) by a watcher thread, so a write reaches
  decisions within about that long of its commit. (Reading on the loop itself cost a trip
  through the GIL per request, more than the rest of the decision.) If they moved, the subjects
  touched since
  (``Store.subjects_touched_since``: subjects of new records, of the records new corrections
  supersede, of new case events) are dropped, and so are the cached persons who represent a
  touched organisation (their entries include its listings).
- **The registry is unchanged.** A change to the subject registry clears the whole cache (it
  is rare, and a new legal representative moves listings between persons): at once when made
  through this process, and through the marker's ``registry`` count, which
  ``Store.upsert_subjects`` moves in the same transaction, when made by another process. Entries
  also expire after at most ``max_age`` seconds (60 by default), a bound on any change nothing
  marks; each subject's somewhere in the last quarter of that, so views built together (a
  server's first busy seconds) are not all rebuilt together a minute later, a burst of work
  that would queue every decision behind it.
- **Nothing was erased.** An erasure (a retention run, a granted request), in whichever
  process, moves the marker's ``erasures`` count (``Store.mark_erasure``) and clears the whole
  cache, as a registry change does: an erased record must leave every process's views within
  the freshness window, and erasures are rare (decision 0094).
- **Time has not passed a boundary.** Lists and scores change by the day and records count from
  their ``reported_at``; an entry carries ``valid_until``, the earlier of the next midnight and
  the first future ``reported_at`` or case-event time among what it was computed from.

A computation racing an invalidation must not store a stale entry: each entry is computed under
the cache's ``generation`` at its start and stored only if no invalidation happened meanwhile.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from socialcredit.rules import days
from socialcredit.store.markers import HeadReader, Marker


@dataclass(slots=True)
class Cached:
    """One subject's view (``view`` is a ``SubjectView``) and what was prepared from it."""

    view: Any
    valid_until: dt.datetime
    represents: tuple[str, ...]
    born: float
    decisions: dict[str, Any] = field(default_factory=dict)
    """Measure id -> the decision prepared from ``view`` (filled on first question)."""
    expires: float = math.inf
    """When (``born``'s clock) it is no longer trusted: set by :meth:`ViewCache.put`."""
    as_of: dt.datetime | None = None
    """From when it holds, for an entry read from the materialised state (``view`` is then
    ``None`` and ``encoded`` holds every measure's decision); otherwise the view's own ``as_of``."""
    encoded: str | None = None
    """The state's payload (``service/statecodec.py``), each measure decoded when first asked."""


WATCH_IDLE = 5.0
"""Seconds without a fast question after which the watcher thread ends."""


class ViewCache:
    """See the module docstring."""

    def __init__(
        self,
        heads: HeadReader,
        touched: Callable[[int, int], set[str]],
        *,
        max_subjects: int = 100_000,
        max_age: float = 60.0,
        poll: float = 0.01,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.heads = heads
        self._touched = touched
        self.max_subjects = max_subjects
        self.max_age = max_age
        self._monotonic = monotonic
        self._entries: dict[str, Cached] = {}
        self._via: dict[str, set[str]] = {}  # organisation -> cached persons representing it
        self._applied: Marker | None = None
        self._applied_read = float("-inf")  # when the read that found ``_applied`` started
        self._lock = threading.RLock()
        self._seen: tuple[Marker, float] | None = None
        self._asked = 0.0
        self._watcher: threading.Thread | None = None
        self.poll = poll
        self.stale_after = max(0.1, 10 * poll)
        self.generation = 0
        self.hits = 0
        self.misses = 0

    def current(self, *, may_block: bool = True) -> int | None:
        """Bring the cache up to date with the store and return the generation to compute new
        entries under (a blocking read of the marker, then the sweep if it moved).

        With ``may_block`` false (an event loop), nothing is read: the marker last read by the
        watcher thread is trusted if it is at most ``stale_after`` seconds old and already
        applied, else ``None`` is returned and the caller asks again from a worker thread. The
        watcher reads the marker every ``poll`` seconds while fast questions keep coming."""
        if may_block:
            started = self._monotonic()
            marker = self.heads.read()
            self._read(started, marker)
            return self.generation
        now = self._monotonic()
        self._asked = now
        if self._watcher is None:
            self._watch()
        seen = self._seen
        if seen is None or now - seen[1] > self.stale_after or seen[0] != self._applied:
            return None
        return self.generation

    def current_at(self, started: float, marker: Marker) -> int | None:
        """:meth:`current` with a marker the caller read (``started``: this cache's clock when
        its read began), beside something else in the same transaction
        (``HeadReader.read_state``); the generation if that marker is now the one applied,
        ``None`` if a newer one was applied meanwhile (what was read with it may be stale:
        read again through :meth:`current`)."""
        with self._lock:
            self._read(started, marker)
            return self.generation if self._applied == marker else None

    def _read(self, started: float, marker: Marker) -> None:
        """Apply ``marker``, read from the store from ``started`` on, unless it is late."""
        now = self._monotonic()
        with self._lock:
            applied = self._applied
            # A read that started before the applied one and found less is merely late (another
            # thread was quicker), not a replaced database: applying it would empty the cache.
            late = applied is not None and started < self._applied_read and _extends(marker, applied)
            if marker != applied and not late:
                self._apply(marker)
            if not late:
                self._applied_read = max(self._applied_read, started)
            current = self._applied
            assert current is not None
            self._seen = (current, now)

    @property
    def applied(self) -> Marker | None:
        """The chain heads the cached entries agree with (read by :meth:`current`)."""
        return self._applied

    def _watch(self) -> None:
        with self._lock:
            if self._watcher is None:
                self._watcher = threading.Thread(target=self._watching, name="view-cache-watch", daemon=True)
                self._watcher.start()

    def _watching(self) -> None:
        try:
            while self._monotonic() - self._asked < WATCH_IDLE:
                self.current(may_block=True)
                time.sleep(self.poll)
        except Exception:  # noqa: BLE001 - e.g. the store was closed: stop; callers read for themselves
            self._seen = None
        finally:
            with self._lock:
                self._watcher = None

    def _apply(self, marker: Marker) -> None:
        old = self._applied
        if old is None or not _extends(old, marker) or old[2:] != marker[2:]:  # registry, erasures
            self._entries.clear()
            self._via.clear()
        else:
            touched = self._touched(old[0][0], old[1][0])
            self._drop(touched)
        self._applied = marker
        self.generation += 1

    def _drop(self, codes: Iterable[str]) -> None:
        for code in codes:
            self._entries.pop(code, None)
            for person in self._via.pop(code, ()):
                self._entries.pop(person, None)

    def get(self, code: str, at: dt.datetime) -> Cached | None:
        """The entry for ``code`` if it may answer for ``at``; call :meth:`current` first."""
        entry = self._entries.get(code)
        if entry is None or at >= entry.valid_until or at < (entry.as_of or entry.view.as_of):
            self.misses += 1
            return None
        if self._monotonic() > entry.expires:
            self.misses += 1
            return None
        self.hits += 1
        return entry

    def put(self, code: str, entry: Cached, generation: int) -> bool:
        """Store ``entry`` unless the cache was invalidated since ``generation``."""
        with self._lock:
            if generation != self.generation:
                return False
            self._entries.pop(code, None)
            entry.expires = entry.born + self.max_age * _spread(code)
            self._entries[code] = entry
            for org in entry.represents:
                self._via.setdefault(org, set()).add(code)
            while len(self._entries) > self.max_subjects:
                self._entries.pop(next(iter(self._entries)))
            return True

    def invalidate(self, codes: Iterable[str] | None = None) -> None:
        """Forget ``codes`` (and who represents them), or everything."""
        with self._lock:
            if codes is None:
                self._entries.clear()
                self._via.clear()
            else:
                self._drop(codes)
            self.generation += 1

    def __len__(self) -> int:
        return len(self._entries)


def _spread(code: str) -> float:
    """A fraction from 0.75 to 1 fixed by the subject's code: its share of ``max_age``."""
    return 1.0 - 0.25 * (zlib.crc32(code.encode()) / 2**32)


def _extends(old: Marker, new: Marker) -> bool:
    """Whether ``new`` can be reached from ``old`` by appends (otherwise the store was replaced,
    e.g. restored from a backup, and nothing cached may be trusted)."""
    return all(n[0] > o[0] or n == o for o, n in zip(old, new, strict=True))


def next_midnight(at: dt.datetime) -> dt.datetime:
    """The next day boundary after ``at``: midnight in China, where every rule counts its days
    (``rules.days``), as a naive UTC moment."""
    return days.start_of(days.day_of(at) + dt.timedelta(days=1))
