"""Working days: deadlines in the published rules count working days ("within 3 working days"),
which skip weekends and public holidays. The holiday calendar is configuration, not code."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from socialcredit.errors import Refused
from socialcredit.i18n import N_


def add_working_days(start: dt.date, days: int, holidays: frozenset[dt.date] = frozenset()) -> dt.date:
    """The date ``days`` working days after ``start`` (Monday to Friday, less holidays).

    >>> add_working_days(dt.date(2024, 3, 1), 3)  # a Friday
    datetime.date(2024, 3, 6)
    """
    day = start
    left = days
    while left > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5 and day not in holidays:
            left -= 1
    return day


@dataclass(frozen=True)
class WorkingCalendar:
    """Holidays in force; weekends are never working days."""

    holidays: frozenset[dt.date] = field(default_factory=frozenset)

    def add_working_days(self, start: dt.date, days: int) -> dt.date:
        return add_working_days(start, days, self.holidays)

    def is_working_day(self, day: dt.date) -> bool:
        return day.weekday() < 5 and day not in self.holidays

    @classmethod
    def parse(cls, text: str) -> WorkingCalendar:
        """One ISO date per line (``#`` starts a comment), e.g. a file of national holidays; a line
        that is no date is refused, naming it."""
        days = set()
        for n, line in enumerate(text.splitlines(), start=1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            try:
                days.add(dt.date.fromisoformat(line))
            except ValueError:
                raise Refused(
                    N_("holidays line {n}: {line!r} is not an ISO date", n=n, line=line[:30])
                ) from None
        return cls(frozenset(days))
