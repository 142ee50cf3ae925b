"""A subject's score history on the wire: ``GET /subjects/{code}/history`` and
``socialcredit history --json`` answer with these models, so the two cannot drift
(:mod:`socialcredit.service.histories`)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, Field

from socialcredit.api.models import UtcDatetime
from socialcredit.i18n import translate
from socialcredit.service.histories import Difference, Point, SchemeHistory, SubjectHistory


class PointOut(BaseModel):
    day: dt.date = Field(description="From this day (in China) on, until the next point")
    score: int
    grade: str
    version: str = Field(description="The version of the scheme in force that day, which scored it")

    @classmethod
    def of(cls, p: Point) -> PointOut:
        return cls(day=p.day, score=p.score, grade=p.grade, version=p.version)


class ArrivedOut(BaseModel):
    """A record the system received after the knowledge time, behind a difference."""

    record_id: str
    item: str
    action: str = Field(description="report, or correct / withdraw / restore: what it ends")
    received_at: UtcDatetime | None


class DifferenceOut(BaseModel):
    """From ``day`` on, the value as known at ``known_at`` and with today's knowledge differ."""

    day: dt.date
    then: PointOut = Field(description="As known at the knowledge time")
    now: PointOut = Field(description="With today's knowledge")
    arrived: list[ArrivedOut]
    text: str = Field(description="The difference in words, in the reader's language")

    @classmethod
    def of(cls, d: Difference, known_at: dt.datetime) -> DifferenceOut:
        return cls(
            day=d.day,
            then=PointOut.of(d.then),
            now=PointOut.of(d.now),
            arrived=[
                ArrivedOut(record_id=r.record_id, item=r.item, action=r.action, received_at=r.received_at)
                for r in d.arrived
            ],
            text=translate(d.sentence(known_at)),
        )


class SchemeHistoryOut(BaseModel):
    scheme: str
    title: str
    points: list[PointOut] = Field(
        description="Each change in valid time, as known at the knowledge time (the value on "
        "the range's first day first, when it changed before)"
    )
    today: list[PointOut] | None = Field(
        description="The same range with today's knowledge, only where it differs"
    )
    differences: list[DifferenceOut]

    @classmethod
    def of(cls, s: SchemeHistory, known_at: dt.datetime | None) -> SchemeHistoryOut:
        return cls(
            scheme=s.scheme,
            title=s.title,
            points=[PointOut.of(p) for p in s.points],
            today=[PointOut.of(p) for p in s.today] if s.today is not None else None,
            differences=[DifferenceOut.of(d, known_at) for d in s.differences] if known_at else [],
        )


class HistoryOut(BaseModel):
    """A subject's score history per scored scheme, from ``from_day`` to ``to`` (valid time) as
    known at ``known_at`` (null: now)."""

    code: str
    kind: str
    from_day: dt.date | None
    to: UtcDatetime
    known_at: UtcDatetime | None
    schemes: list[SchemeHistoryOut]

    @classmethod
    def of(cls, h: SubjectHistory) -> HistoryOut:
        return cls(
            code=h.code,
            kind=h.kind,
            from_day=h.since,
            to=h.until,
            known_at=h.known_at,
            schemes=[SchemeHistoryOut.of(s, h.known_at) for s in h.schemes],
        )
