"""The subject page's two time axes: which valid time and knowledge time it shows, read from the
query, and where the answer as known then differs from the answer with today's knowledge.

Why on the page and not only in the API: the page is where a subject asks "what did they see
about me on that day?". An answer as known at K can differ from the same valid time as known now
only because something arrived after K (a late-reported record, a correction or withdrawal dated
back); saying so, item by item, is the promise that history is not silently rewritten (issue 17,
docs/reproducing.md). Both views come from ``System.view``; nothing is recomputed here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from socialcredit import access
from socialcredit.errors import Refused
from socialcredit.i18n import N_
from socialcredit.i18n import gettext as _
from socialcredit.rules import days
from socialcredit.schemes.titles import title_of
from socialcredit.scoring import Score
from socialcredit.service import SubjectView, System
from socialcredit.service.casefiles import Case
from socialcredit.service.documents import as_known
from socialcredit.store import DocumentLink
from socialcredit.web.base import status_name


@dataclass(frozen=True)
class Axes:
    """The moments the page answers for: valid time ``at`` and knowledge time ``known_at``
    (``None``: now), with the values as typed, for the form."""

    at: dt.datetime | None
    known_at: dt.datetime | None
    at_value: str
    known_at_value: str


def moment(value: str | None, name: str) -> dt.datetime | None:
    """A query's time (``rules.days.moment``: a bare date is the end of that day in China), or a
    refusal naming the parameter, in the API's words."""
    if value is None or not value.strip():
        return None
    try:
        return days.moment(value)
    except ValueError:
        raise Refused(
            N_("{value!r} is not an ISO date or date-time like 2025-06-30", value=value[:40]), field=name
        ) from None


def axes(at: str | None, known_at: str | None, as_of: dt.date | None) -> Axes:
    """The page's axes from its query: ``at`` (or the older ``as_of`` day) and ``known_at``. A
    knowledge time before the valid time is allowed (what was known on K about a later day)."""
    valid = moment(at, "at")
    if valid is None and as_of is not None:
        valid, at = days.end_of(as_of), as_of.isoformat()
    return Axes(valid, moment(known_at, "known_at"), (at or "").strip(), (known_at or "").strip())


@dataclass(frozen=True)
class Limited:
    """What the page shows beside its view, as known at its knowledge time: the cases (as their
    events recorded by then make them), the documents (as linked then), and how many later
    entries of each (and of the audit log) today's knowledge adds, which the page says."""

    cases: list[Case]
    documents: list[DocumentLink]
    later: dict[str, int]


def limited(
    system: System,
    principal: access.Principal,
    code: str,
    known_at: dt.datetime | None,
    links: list[DocumentLink],
) -> Limited:
    """The page's cases and documents (``links``, every one) as known at ``known_at`` (all, when
    ``None``), and the counts of what came after it, by section (none when ``None``). Why
    everything on the page: a page as known on K showing today's objections or who asked since
    would answer "what did they know then?" with what is known now."""
    cases = system.cases(principal=principal, subject=code)
    if known_at is None:
        return Limited(cases, links, {})
    shown, later_links = as_known(links, known_at)
    return Limited(
        system.cases(principal=principal, subject=code, known_at=known_at),
        shown,
        {
            "cases": sum(1 for c in cases for e in c.events if e.at > known_at),
            "documents": later_links,
            "audit": system.looks_after(principal, code, known_at),
        },
    )


def _standing(score: Score) -> str:
    if score.kind == "tier":
        return _("grade %(grade)s") % {"grade": score.grade}
    return _("%(score)s points, grade %(grade)s") % {"score": score.score, "grade": score.grade}


def _when(moment: dt.datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC" if moment else "?"


def differences(
    then: SubjectView,
    now: SubjectView,
    known_at: dt.datetime,
    titles: Mapping[str, str],
    schemes: Mapping[str, str],
) -> list[str]:
    """Sentences saying how the view ``then`` (as known at ``known_at``) differs from ``now``
    (the same valid time as known today): scores and grades, list entries, and the records
    behind them (received after ``known_at``, or ended by something received after it).
    Empty when they agree."""
    out: list[str] = []
    k = _when(known_at)
    for sid, before in then.scores.items():
        after = now.scores.get(sid)
        if after is not None and (before.score, before.grade) != (after.score, after.grade):
            out.append(
                _("%(scheme)s: %(then)s as known on %(known)s; %(now)s with today's knowledge.")
                % {
                    "scheme": title_of("scheme", sid, schemes.get(sid, sid)),
                    "then": _standing(before),
                    "known": k,
                    "now": _standing(after),
                }
            )
    listed_then = {e.qualified_id: e for e in then.entries}
    named = {
        e.qualified_id: title_of("list", e.list_id, e.title, e.scheme) for e in [*then.entries, *now.entries]
    }
    listed_now = {e.qualified_id: e for e in now.entries}
    for qid, e in listed_then.items():
        other = listed_now.get(qid)
        if other is None:
            out.append(
                _("%(list)s: listed as known on %(known)s; not listed with today's knowledge.")
                % {"list": named[qid], "known": k}
            )
        elif other.status != e.status:
            out.append(
                _("%(list)s: %(then)s as known on %(known)s; %(now)s with today's knowledge.")
                % {
                    "list": named[qid],
                    "then": status_name(e.status),
                    "known": k,
                    "now": status_name(other.status),
                }
            )
    for qid in listed_now:
        if qid not in listed_then:
            out.append(
                _("%(list)s: not listed as known on %(known)s; listed with today's knowledge.")
                % {"list": named[qid], "known": k}
            )
    known_ids = {r.record_id for r in then.records}
    for r in now.records:
        if r.record_id not in known_ids:
            out.append(
                _("Record %(record)s (%(item)s, occurred %(day)s) arrived %(received)s, after %(known)s.")
                % {
                    "record": r.record_id,
                    "item": title_of("item", r.item, titles.get(r.item, r.item)),
                    "day": r.occurred_on,
                    "received": _when(r.received_at),
                    "known": k,
                }
            )
    current_ids = {r.record_id for r in now.records}
    ended = {
        x.record.record_id: _("ended on %(day)s by record %(record)s")
        % {"day": x.ended_on.isoformat(), "record": x.by.record_id}
        for x in now.ended_records
    }
    for r in then.records:
        if r.record_id not in current_ids:
            out.append(
                _("Record %(record)s (%(item)s) counted as known on %(known)s; since ended: %(how)s.")
                % {
                    "record": r.record_id,
                    "item": title_of("item", r.item, titles.get(r.item, r.item)),
                    "known": k,
                    "how": ended.get(r.record_id, _("a record received later")),
                }
            )
    return out
