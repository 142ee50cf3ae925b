"""A public list's pages and counts: a search by a fragment of the published fields, pages of
a stable order, and a census that says what each page counts (issue 18: the list page, the
transparency report and the demo read 45, 47 and 48, with no word on why). Plain functions over
the rows and scan the public state (``service/publicstate.py``) is derived from."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from socialcredit import codes

if TYPE_CHECKING:
    from socialcredit.service.scans import SubjectSummary

PER_PAGE = 50  # rows of a public list per page


@dataclass(frozen=True)
class PublicPage:
    """One page of a public list after a search: ``total`` rows matched, ``kinds`` the kind of
    each row's subject (never published; the download keeps organisations only)."""

    rows: list[dict[str, Any]]
    kinds: list[codes.SubjectKind]
    total: int
    page: int
    pages: int
    per_page: int
    rescore_of: dt.datetime | None = None
    """Set when the rows are as of the last rescore, not live: its moment (decision 0049)."""


@dataclass(frozen=True)
class ListCensus:
    """One list's entries, counted as each page counts them (issue 18: the list page, the
    transparency report and the demo read 45, 47 and 48 with no word on why)."""

    published: int
    """Rows the list page publishes: entries in force, not suspended, the subject's own."""
    via: int
    """Legal representatives listed through their organisation's entry (shown on its row)."""
    suspended: int
    """Entries whose measures are suspended while an objection or a review is open: not published."""
    pending: int
    """Entries waiting for their notice period: not yet in force."""
    unnamed: int = 0
    """Entries in force on a list that names only with the subject's consent (decision 0042),
    whose subject has not consented: in force, not published."""

    @property
    def in_force(self) -> int:
        """Entries whose measures apply now: what the transparency report and the demo count."""
        return self.published + self.via + self.unnamed


def search_page(
    entries: Sequence[tuple[codes.SubjectKind, dict[str, Any]]], search: str, page: int, per_page: int
) -> PublicPage:
    """The page ``page`` (clamped to those there are) of the rows any of whose published values
    holds ``search`` (case folded). Only published values are searched: a full ID number finds
    nothing on a list that publishes it masked, so a search cannot confirm who is listed."""
    wanted = search.strip().casefold()
    if wanted:
        entries = [
            (k, row) for k, row in entries if any(wanted in str(v).casefold() for v in row.values() if v)
        ]
    pages = max(1, -(-len(entries) // per_page))
    page = min(max(page, 1), pages)
    shown = entries[(page - 1) * per_page : page * per_page]
    return PublicPage([row for _k, row in shown], [k for k, _r in shown], len(entries), page, pages, per_page)


def census(
    scan: Iterable[SubjectSummary],
    lists: Iterable[str],
    named: Callable[[str, SubjectSummary], bool] = lambda _list, _s: True,
) -> dict[str, ListCensus]:
    """Each list's entries at the scan's moment, counted apart as :class:`ListCensus` says;
    ``named`` says whether a subject may be named on a list (consent, where a list asks it)."""
    counts: dict[str, Counter[str]] = {k: Counter() for k in lists}
    for s in scan:
        for e in s.entries:
            c = counts.setdefault(e.qualified_id, Counter())
            if e.status == "pending":
                c["pending"] += 1
            elif e.status != "active":
                continue
            elif e.suspended_by:
                c["suspended"] += 1
            elif e.via:
                c["via"] += 1
            elif not named(e.qualified_id, s):
                c["unnamed"] += 1
            else:
                c["published"] += 1
    return {
        k: ListCensus(c["published"], c["via"], c["suspended"], c["pending"], c["unnamed"])
        for k, c in sorted(counts.items())
    }
