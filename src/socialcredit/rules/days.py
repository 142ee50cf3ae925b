"""Days in China Standard Time: the one place a moment becomes a day.

Why: every day the rules count is a day in China (``Asia/Shanghai``): the day a record was
reported, "today" for a list or a score, the first day of a deadline in working days, a listing's
calendar years. Times are stored as naive UTC (``ledger.iso_dt``), so a record a court reported at
07:00 on 1 March in Beijing is stored as 23:00 on 29 February; counted in UTC it was reported
the day before it happened, and its deadlines and periods would run a day early. The moment
becomes a day by the kernel's :func:`~socialcredit.rules.kernel.local_day` on every evaluator
(the engines with Ibis over ``reported_at``, the per-subject walk here), over the zone the tz
database gives for ``Asia/Shanghai`` (UTC+8; summer time from 1986 to 1991, before which no
record in the ledger can fall but the 1940s'), read once through :mod:`zoneinfo`.

>>> day_of(dt.datetime(2024, 2, 29, 23, 0))  # 07:00 on 1 March in Beijing
datetime.date(2024, 3, 1)
>>> start_of(dt.date(2024, 3, 1))  # midnight in Beijing, in UTC
datetime.datetime(2024, 2, 29, 16, 0)
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from functools import cache

from socialcredit.rules import kernel
from socialcredit.rules.ops import PY

ZONE_NAME = "Asia/Shanghai"
EPOCH = dt.datetime(1970, 1, 1)
EPOCH_DAY = dt.date(1970, 1, 1)
_EPOCH_ORDINAL = EPOCH_DAY.toordinal()
_SECOND = dt.timedelta(seconds=1)
_SCAN_FROM, _SCAN_TO = 1900, 2100
_STEP = 7 * 86_400


def zone() -> zoneinfo.ZoneInfo:
    """China Standard Time as the tz database has it."""
    return zoneinfo.ZoneInfo(ZONE_NAME)


@cache
def china() -> kernel.Zone:
    """``Asia/Shanghai`` as a :class:`~socialcredit.rules.kernel.Zone`: UTC+8, and each span in
    which another offset held, found by asking :mod:`zoneinfo` the offset once a week from 1900 to
    2100 and bisecting each change to the second (its offset never changed twice within a week;
    ``tests/test_court_list.py`` holds the result to :mod:`zoneinfo` on every hour of the years
    it changed and on random moments)."""
    z = zone()

    def offset(s: int) -> int:
        moment = dt.datetime.fromtimestamp(s, dt.UTC).astimezone(z)
        off = moment.utcoffset()
        assert off is not None
        return int(off.total_seconds())

    first = int((dt.datetime(_SCAN_FROM, 1, 1) - EPOCH).total_seconds()) + 43_200
    last = int((dt.datetime(_SCAN_TO, 1, 1) - EPOCH).total_seconds())
    standard = offset(last)
    changes: list[tuple[int, int]] = []  # (second from which, offset)
    prev = offset(first)
    s = first
    while s < last:
        nxt = s + _STEP
        now = offset(nxt)
        if now != prev:
            lo, hi = s, nxt  # offset(lo) == prev, offset(hi) == now
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if offset(mid) == prev else (lo, mid)
            changes.append((hi, now))
            prev = now
        s = nxt
    shifts = []
    start, held = -(2**62), offset(first)
    for at, off in [*changes, (2**62, standard)]:
        if held != standard:
            shifts.append((start, at, held))
        start, held = at, off
    return kernel.Zone(standard, tuple(shifts))


def seconds(moment: dt.datetime) -> int:
    """Whole seconds from 1970-01-01T00:00 UTC to a naive UTC ``moment`` (rounded down)."""
    return (moment - EPOCH) // _SECOND


def day_number(moment: dt.datetime) -> int:
    """The day (days since 1970-01-01) a naive UTC ``moment`` falls on in China. A moment after
    the zone's last shift (1991) is at its standard offset, whole seconds dividing exactly: the
    kernel's formula without its cases, the hottest call of a decision state's build."""
    s = seconds(moment)
    zone = china()
    if s >= _settled():
        return (s + zone.standard) // kernel.DAY_SECONDS
    day: int = kernel.local_day(s, zone, PY)
    return day


@cache
def _settled() -> int:
    """The second from which China's offset is its standard one for good."""
    return max((until for _, until, _ in china().shifts), default=-(2**62))


def day_of(moment: dt.datetime) -> dt.date:
    """The date a naive UTC ``moment`` falls on in China: the day every rule counts."""
    return dt.date.fromordinal(_EPOCH_ORDINAL + day_number(moment))


def start_of(day: dt.date) -> dt.datetime:
    """The naive UTC moment at which ``day`` begins in China (its midnight)."""
    local = dt.datetime.combine(day, dt.time(), tzinfo=zone())
    return local.astimezone(dt.UTC).replace(tzinfo=None)


def end_of(day: dt.date) -> dt.datetime:
    """The last moment (microsecond) of ``day`` in China, as a naive UTC moment: "as of that day"
    means everything reported on it."""
    return start_of(day + dt.timedelta(days=1)) - dt.timedelta(microseconds=1)


def now_day(moment: dt.datetime) -> dt.date:
    """``day_of``, named for "today" at a clock's reading (a readable alias at call sites)."""
    return day_of(moment)


def calendar_day(text: str) -> dt.date:
    """A day written YYYY-MM-DD, and only so: ``date.fromisoformat`` also takes ``20260105`` and
    ``2026-W01-1``, and pydantic's ``date`` a number as a Unix time. ``ValueError`` otherwise.

    >>> calendar_day("2026-01-05")
    datetime.date(2026, 1, 5)
    """
    if len(text) != 10 or text[4] != "-" or text[7] != "-" or not text.replace("-", "").isdigit():
        raise ValueError(f"{text!r} is not a day written YYYY-MM-DD")
    return dt.date.fromisoformat(text)


def moment(text: str) -> dt.datetime:
    """The naive UTC moment an ``--at`` / ``as_of`` value names. A bare date means the end of
    that day in China (everything reported on it counts: "as of 30 June" includes 30 June), a
    timestamp with a zone is converted to UTC, one without is taken as UTC. ``ValueError`` for
    anything else.

    >>> moment("2025-06-30")  # 23:59:59.999999 on 30 June in Beijing
    datetime.datetime(2025, 6, 30, 15, 59, 59, 999999)
    >>> moment("2025-06-30T12:00+08:00")
    datetime.datetime(2025, 6, 30, 4, 0)
    """
    text = text.strip()
    if len(text) == 10:
        return end_of(dt.date.fromisoformat(text))
    parsed = dt.datetime.fromisoformat(text)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(dt.UTC).replace(tzinfo=None)
    return parsed
