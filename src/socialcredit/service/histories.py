"""A subject's score history, for the API and the command line as the portal draws it: each
change in valid time under the scheme version in force that day, as known at a knowledge time,
and where today's knowledge gives another value for a day, both (issue 17, point 1).

Why a service of its own and not a field of the subject's view: a history is read over a range of
days, computed from every record ever in force (ended ones until they ended), and costs a scoring
per stretch between two endings; a view is asked for on every decision and must stay cheap.

The rule is the kernel's (``history.score_history`` over ``scoring.dispatch.timeline_over``): a
record counts from when it was reported until a correction, withdrawal or restoration ended it;
each day is scored by the version in force that day (decision 0038). As known at K, the records
are those received by K (``Decisions.view`` cuts them); with today's knowledge, all received so
far. A day whose value differs names the records received after K behind the difference, as a
reproduced decision does ("answered DENY on …; a correction on … makes it ALLOW").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial

from socialcredit import access, codes, history, ledger
from socialcredit.i18n import N_, Text
from socialcredit.ledger import Record
from socialcredit.rules.days import day_of, end_of
from socialcredit.schemes.loader import Timeline
from socialcredit.schemes.model import Scheme
from socialcredit.scoring import score
from socialcredit.scoring.dispatch import timeline_over
from socialcredit.service.casefiles import CaseFiles
from socialcredit.service.context import Context
from socialcredit.service.decisions import Decisions, SubjectView


@dataclass(frozen=True, slots=True)
class Point:
    """The score and grade from ``day`` on, under the scheme ``version`` in force that day."""

    day: dt.date
    score: int
    grade: str
    version: str


@dataclass(frozen=True, slots=True)
class Difference:
    """From ``day`` on, the value as known at the knowledge time (``then``) and with today's
    knowledge (``now``) differ, because of the records ``arrived`` after it."""

    day: dt.date
    then: Point
    now: Point
    arrived: list[Record]

    def sentence(self, known_at: dt.datetime) -> Text:
        """The difference in the words of a reproduced decision."""
        received = sorted({day_of(r.received_at or r.reported_at) for r in self.arrived})
        when = f"{known_at:%Y-%m-%d %H:%M} UTC"
        return N_(
            "{day}: {then}, grade {then_grade}, as known on {known}; records received later "
            "({records}, received {received}) make it {now}, grade {now_grade}",
            day=self.day.isoformat(),
            then=self.then.score,
            then_grade=self.then.grade,
            known=when,
            records=", ".join(r.record_id for r in self.arrived) or "?",
            received=", ".join(d.isoformat() for d in received) or "?",
            now=self.now.score,
            now_grade=self.now.grade,
        )


@dataclass(frozen=True, slots=True)
class SchemeHistory:
    """One scheme's history: ``points`` as known at the knowledge time; ``today`` the same days
    with today's knowledge when that differs (else ``None``), and the ``differences``."""

    scheme: str
    title: str
    points: list[Point]
    today: list[Point] | None = None
    differences: list[Difference] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class SubjectHistory:
    """A subject's score histories from ``since`` (``None``: the first change) to valid time
    ``until``, as known at ``known_at`` (``None``: now)."""

    code: str
    kind: codes.SubjectKind
    since: dt.date | None
    until: dt.datetime
    known_at: dt.datetime | None
    schemes: list[SchemeHistory]


def every_record(view: SubjectView) -> list[Record]:
    """What a view's history is scored from: the records in force, and those ended with the
    records that ended them (the history counts each until it was ended)."""
    out = {r.record_id: r for x in view.ended_records for r in (x.record, x.by)}
    for r in view.records:
        out.setdefault(r.record_id, r)
    return list(out.values())


def _scheme_on(versions: Timeline, day: dt.date) -> Scheme:
    """The version in force on ``day`` (before the first one: the first)."""
    found = [s for start, s in versions if start is None or start <= day]
    return found[-1] if found else versions[0][1]


def _version_on(versions: Timeline, day: dt.date) -> str:
    return _scheme_on(versions, day).version


def _value_on(points: Sequence[Point], day: dt.date, base: Point) -> Point:
    """The point in force on ``day``: the last change on or before it, else the base score."""
    found = [p for p in points if p.day <= day]
    return found[-1] if found else base


class Histories:
    """Audited score histories of one subject, on both time axes."""

    def __init__(self, context: Context, decisions: Decisions, casefiles: CaseFiles) -> None:
        self.context = context
        self.decisions = decisions
        self.casefiles = casefiles

    def score_history(
        self,
        code: str,
        principal: access.Principal,
        *,
        purpose: str,
        since: dt.date | None = None,
        until: dt.datetime | None = None,
        known_at: dt.datetime | None = None,
    ) -> SubjectHistory:
        """Every score change of ``code`` from ``since`` to ``until`` (default now) as known at
        ``known_at`` (default now), beside today's where they differ (none from a ``since``
        after ``until``); for whoever may read the subject's record (``access``), audited as a
        look at it (action ``history``) before it is returned."""
        c = codes.validate(code)
        access.require(self.casefiles.may_act_for(principal, c.value), N_("read this subject's record"))
        at = until if until is not None else self.context.clock()
        then = self.decisions.view(c.value, at, known_at)
        now = self.decisions.view(c.value, at) if known_at is not None else then
        void = self.context.unrestorable_items()
        registry = self.context.registry
        out = []
        for sid in then.scores:
            versions = registry.versions(sid)
            mine = self._points(c.value, every_record(then), versions, at, since, void)
            if now is then:
                out.append(SchemeHistory(sid, registry.scheme(sid).title, mine))
                continue
            theirs = self._points(c.value, every_record(now), versions, at, since, void)
            known_ids = {r.record_id for r in every_record(then)}
            arrived = [r for r in every_record(now) if r.record_id not in known_ids]
            differences = self._differences(c.value, mine, theirs, versions, arrived)
            out.append(
                SchemeHistory(
                    sid, registry.scheme(sid).title, mine, theirs if differences else None, differences
                )
            )
        detail = {"to": ledger.iso_dt(at)}
        if since is not None:
            detail["from"] = since.isoformat()
        if known_at is not None:
            detail["known_at"] = ledger.iso_dt(known_at)
        self.context.audit(
            principal, "history", subject=c.value, purpose=purpose, answer="shown", detail=detail
        )
        return SubjectHistory(c.value, c.kind, since, at, known_at, out)

    def _points(
        self,
        code: str,
        records: list[Record],
        versions: Timeline,
        at: dt.datetime,
        since: dt.date | None,
        void: frozenset[str],
    ) -> list[Point]:
        """The changes up to ``at``, from ``since`` on: the value on ``since`` first (when
        something changed before it), then each change after."""
        valid_time = partial(history.score_history, unrestorable=void)
        changes = timeline_over(code, records, versions, at, valid_time)
        points = [Point(d, value, grade, _version_on(versions, d)) for d, value, grade in changes]
        if since is None:
            return points
        if since > day_of(at):  # an empty range (not refused: any two valid times are a range)
            return []
        before = [p for p in points if p.day <= since]
        after = [p for p in points if p.day > since]
        if not before:
            return after
        return [Point(since, before[-1].score, before[-1].grade, _version_on(versions, since)), *after]

    def _differences(
        self,
        code: str,
        then: list[Point],
        now: list[Point],
        versions: Timeline,
        arrived: list[Record],
    ) -> list[Difference]:
        """Each day from which the two histories give different values, once per run of days
        with the same pair; with the records received after the knowledge time that count by
        then (reported by the end of that day)."""
        out: list[Difference] = []
        last: tuple[tuple[int, str], tuple[int, str]] | None = None
        for day in sorted({p.day for p in [*then, *now]}):
            scheme = _scheme_on(versions, day)
            base_score = score(code, [], scheme, end_of(day))
            base = Point(day, base_score.score, base_score.grade, scheme.version)
            a, b = _value_on(then, day, base), _value_on(now, day, base)
            pair = ((a.score, a.grade), (b.score, b.grade))
            if pair[0] == pair[1]:
                last = None
                continue
            if pair != last:
                behind = [r for r in arrived if r.reported_at <= end_of(day)]
                out.append(Difference(day, a, b, behind))
            last = pair
        return out
