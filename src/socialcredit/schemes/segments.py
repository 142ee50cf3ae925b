"""A list's history cut where its rules changed and earlier listings stay ended (decision 0051).

A version whose revision says ``earlier_listings: stay-ended`` changed the rules themselves from
its ``effective_from`` on: what the earlier version did stands for the days it was in force. So a
list whose definition differs between the two is walked in *segments*, each by the rules of its
own version: a segment's grounds are the records reported on its days (from its start until the
next version's), and the removal records and extension decisions reported from its start on end
or extend the entries it opened, as its rules say. An entry made under the old version therefore
keeps the period the old version set (the listing decision fixed it: SPC provisions, Art. 2, "2
years from the listing decision"), and ends by the old version's removal grounds; the new
version does not reach back (a change that must reach back is a correction, ``re-evaluated``).
Every evaluator (``lists.entries_for``, ``engines.listing``) reads the same segments from here,
so they agree; a list that is the same in both versions is one segment, walked as before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from socialcredit.schemes.loader import Registry
from socialcredit.schemes.model import ListDef, Scheme


@dataclass(frozen=True, slots=True)
class Segment:
    """The days one version's rules of a list govern: grounds reported from ``start`` (None: any
    day) until ``end`` (None: no end; the first day of the next segment) open entries under
    ``lst`` (None: the version has no such list, so nothing is opened)."""

    version: Scheme
    lst: ListDef | None
    start: dt.date | None
    end: dt.date | None

    def opens(self, day: dt.date) -> bool:
        """Whether a ground reported on ``day`` belongs to this segment."""
        return (self.start is None or self.start <= day) and (self.end is None or day < self.end)

    def reads(self, day: dt.date) -> bool:
        """Whether a removal record or extension decision reported on ``day`` is read."""
        return self.start is None or self.start <= day


def kept_versions(registry: Registry, scheme: Scheme) -> list[tuple[dt.date | None, Scheme]]:
    """The run of versions ending at ``scheme`` (the one in force in ``registry``) whose earlier
    listings stand: joined by ``stay-ended`` revisions and by changes that leave every list as
    it was (no revision: the loader refuses one that changes a list), earliest first, each with
    the first day it applies (the earliest: None, it governs every day before the next). A
    correction (``re-evaluated``) starts a run: it reaches back over everything before it."""
    line = list(registry.versions(scheme.id))
    at = next((i for i, (_, v) in enumerate(line) if v is scheme), None)
    if at is None or len(line) == 1:
        return [(None, scheme)]
    first = at
    while first > 0:
        rev, prior = line[first][1].revision, line[first - 1][1].version
        if rev is not None and (rev.earlier_listings != "stay-ended" or rev.replaces != prior):
            break
        first -= 1
    run = line[first : at + 1]
    return [(None if n == 0 else start, v) for n, (start, v) in enumerate(run)]


def list_segments(registry: Registry, scheme: Scheme, list_id: str) -> tuple[Segment, ...]:
    """The segments of ``scheme``'s list ``list_id``: one per run of versions whose definition of
    it is the same, earliest first. One segment from the beginning (the list walked whole) where
    the rules did not change or the change was a correction."""
    out: list[Segment] = []
    for start, version in kept_versions(registry, scheme):
        lst = version.list_def(list_id)
        if out and _same(out[-1].lst, lst):
            continue
        if out:
            last = out[-1]
            out[-1] = Segment(last.version, last.lst, last.start, start)
        out.append(Segment(version, lst, start if out else None, None))
    return tuple(out)


def segmented(registry: Registry) -> dict[str, tuple[Segment, ...]]:
    """Every list of ``registry`` (the versions in force on one day, ``Registry.at``) that is
    walked in more than one segment, by ``scheme/list`` id: what the relational engines are given
    beside the day's schemes (``engines.rescore``'s ``segments``)."""
    out: dict[str, tuple[Segment, ...]] = {}
    for scheme, lst in registry.lists():
        found = list_segments(registry, scheme, lst.id)
        if len(found) > 1:
            out[f"{scheme.id}/{lst.id}"] = found
    return out


def whole(scheme: Scheme, lst: ListDef) -> tuple[Segment, ...]:
    """One segment: the list walked over every day by its one version's rules."""
    return (Segment(scheme, lst, None, None),)


def segments_of(
    segments: Mapping[str, tuple[Segment, ...]] | None, scheme: Scheme, lst: ListDef
) -> tuple[Segment, ...]:
    """The segments given for ``scheme``'s ``lst``, or the whole list as one."""
    return (segments or {}).get(f"{scheme.id}/{lst.id}") or whole(scheme, lst)


def _same(a: ListDef | None, b: ListDef | None) -> bool:
    if a is None or b is None:
        return a is b
    return a.model_dump() == b.model_dump()
