"""A history that knowledge time tells apart (issue 17.1): a court's listing received at K, then,
30 days later, a withdrawal the court dates back before K and a record of before K reported late.
As known at K the subject is listed and the late record is absent; with today's knowledge the
listing never ran past 21 October and the late record counts."""

from __future__ import annotations

import datetime as dt

from socialcredit.service import System
from tests.conftest import Clock
from tests.support.dueprocess import feed, rec

LISTING = "court.dishonest.able-but-refuses"  # Art. 1(1): listed until a removal ground


def listed_then_late_news(
    system: System, clock: Clock, subject: str, late_item: str
) -> tuple[dt.datetime, str]:
    """Feed the history for ``subject`` (the late record of ``late_item``, occurred 15 September);
    returns K and the late record's id."""
    (listing,) = feed(
        system, rec(1, subject, LISTING, "court", "2026-10-20", reported_at="2026-10-20T02:00:00")
    )
    known = clock()
    clock.advance(days=30)
    withdrawal = rec(2, subject, LISTING, "court", "2026-10-20", reported_at="2026-10-21T02:00:00")
    withdrawal[1].update(action="withdraw", corrects=listing)
    _, late = feed(system, withdrawal, rec(3, subject, late_item, "traffic-police", "2026-09-15"))
    return known, late
