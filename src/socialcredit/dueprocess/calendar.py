"""Working days: deadlines in the published rules count working days ("within 3 working days"),
which skip weekends and public holidays, and count the weekend days worked in their place (调休:
for the Spring Festival of 2026, Saturday 14 and Saturday 28 February were working days). The
holiday calendar is configuration, not code."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field

from socialcredit.errors import Refused
from socialcredit.i18n import N_


class Holidays(frozenset[dt.date]):
    """Public holidays (the set's days), and ``working``: the weekend days worked in their place,
    as the State Council's yearly notice on holidays sets them. Passed wherever the holidays are,
    so every deadline and every evaluator's calendar reads both (:func:`is_working_day`)."""

    working: frozenset[dt.date]

    def __new__(cls, holidays: Iterable[dt.date] = (), working: Iterable[dt.date] = ()) -> Holidays:
        self = super().__new__(cls, holidays)
        self.working = frozenset(working)
        return self

    def __reduce__(self) -> tuple[type[Holidays], tuple[frozenset[dt.date], frozenset[dt.date]]]:
        return Holidays, (frozenset(self), self.working)

    def __eq__(self, other: object) -> bool:
        return frozenset.__eq__(self, other) is True and worked(other) == self.working

    def __hash__(self) -> int:
        return hash((frozenset(self), self.working))


def worked(holidays: object) -> frozenset[dt.date]:
    """The weekend days worked in place of holidays that ``holidays`` holds (none for a plain set)."""
    return holidays.working if isinstance(holidays, Holidays) else frozenset()


def is_working_day(day: dt.date, holidays: frozenset[dt.date] = frozenset()) -> bool:
    """Monday to Friday less the holidays, and the weekend days worked in their place."""
    return (day.weekday() < 5 and day not in holidays) or day in worked(holidays)


def add_working_days(start: dt.date, days: int, holidays: frozenset[dt.date] = frozenset()) -> dt.date:
    """The date ``days`` working days after ``start`` (:func:`is_working_day`).

    >>> add_working_days(dt.date(2024, 3, 1), 3)  # a Friday
    datetime.date(2024, 3, 6)
    """
    day = start
    left = days
    while left > 0:
        day += dt.timedelta(days=1)
        if is_working_day(day, holidays):
            left -= 1
    return day


@dataclass(frozen=True)
class WorkingCalendar:
    """Holidays in force; weekends are working days only where the calendar says so."""

    holidays: frozenset[dt.date] = field(default_factory=frozenset)

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        return add_working_days(start, days, self.holidays)

    def is_working_day(self, day: dt.date) -> bool:
        return is_working_day(day, self.holidays)

    @classmethod
    def parse(cls, text: str) -> WorkingCalendar:
        """One ISO date per line (``#`` starts a comment), e.g. a file of national holidays; a
        weekend day worked in place of a holiday is its date followed by ``working``
        (``2026-02-14 working``). A line that is no date, a ``working`` day that is no weekend
        day, or a day that is both, is refused, naming it."""
        days: set[dt.date] = set()
        working: set[dt.date] = set()
        for n, line in enumerate(text.splitlines(), start=1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            first, _, rest = line.partition(" ")
            rest = rest.strip().lower()
            try:
                day = dt.date.fromisoformat(first if rest else line)
            except ValueError:
                raise Refused(
                    N_("holidays line {n}: {line!r} is not an ISO date", n=n, line=line[:30])
                ) from None
            if rest and rest != "working":
                raise Refused(
                    N_(
                        "holidays line {n}: {line!r}: after the date only 'working' may follow",
                        n=n,
                        line=line[:30],
                    )
                )
            if rest and day.weekday() < 5:
                raise Refused(
                    N_("holidays line {n}: {line!r} is a weekday, a working day already", n=n, line=line[:30])
                )
            (working if rest else days).add(day)
        both = sorted(days & working)
        if both:
            raise Refused(N_("holidays: {day} is both a holiday and a working day", day=both[0].isoformat()))
        return cls(Holidays(days, working) if working else frozenset(days))
