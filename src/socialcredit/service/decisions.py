"""A subject's view, the audited reads of it and the decisions made from it: the answers about
one subject, for now from the view cache (``views.py``), for another time computed afresh.

The services are the seam between core and adapters: they read plain records from the store, ask
the core what they mean, and write the audit entry before any answer leaves. The API, the CLI and
the portal all call them, so each answer is computed once, one way.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import time
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from socialcredit import access, codes, ledger
from socialcredit.decisions import Decision, decide, unknown_subject
from socialcredit.dueprocess.cases import Objection
from socialcredit.dueprocess.suspension import apply_suspensions
from socialcredit.ledger import Record
from socialcredit.lists import ListEntry, entries_for
from socialcredit.schemes.model import Measure
from socialcredit.scoring import Score, scores_for
from socialcredit.service.casefiles import CaseFiles, NotFound
from socialcredit.service.context import Context
from socialcredit.service.views import Cached, next_midnight
from socialcredit.store.subjectreads import read_subject
from socialcredit.subjects import SubjectRow


@dataclass(frozen=True)
class SubjectView:
    """Everything derived about one subject at one time."""

    code: str
    kind: codes.SubjectKind
    as_of: dt.datetime
    subject: SubjectRow | None
    records: list[Record]
    scores: dict[str, Score]
    entries: list[ListEntry]


class Decisions:
    """Views, audited reads and audited decisions, over the cases (an open objection may suspend
    a list's measures, and only the subject or who acts for it may read its record)."""

    def __init__(self, context: Context, casefiles: CaseFiles) -> None:
        self.context = context
        self.casefiles = casefiles

    def view(self, code: str, as_of: dt.datetime | None = None) -> SubjectView:
        """Scores under every scored scheme and every list entry of ``code`` at ``as_of``; for
        now (no ``as_of``) from the view cache, which is checked against the store first."""
        c = codes.validate(code)
        if as_of is not None:
            return self._compute(c.value, c.kind, as_of)[0]
        at = self.context.clock()
        view: SubjectView = self._cached(c.value, c.kind, at).view
        return dataclasses.replace(view, as_of=at)

    def _cached(self, code: str, kind: codes.SubjectKind, at: dt.datetime) -> Cached:
        """The cache entry for ``code`` at ``at`` (now), computed and stored on a miss."""
        self.context.registry_replaced()
        views = self.context.views
        generation = views.current()
        assert generation is not None
        entry = views.get(code, at)
        if entry is None:
            view, valid_until, represents = self._compute(code, kind, at)
            entry = Cached(view, valid_until, represents, time.monotonic())
            views.put(code, entry, generation)
        return entry

    def _compute(
        self, code: str, kind: codes.SubjectKind, at: dt.datetime
    ) -> tuple[SubjectView, dt.datetime, tuple[str, ...]]:
        """The view at ``at``, until when it holds unchanged (the next midnight, or the first
        later ``reported_at`` or case event among its inputs), and the organisations it includes
        as legal representative. Its inputs come in one read (``store/subjectreads.py``)."""
        registry = self.context.registry
        inputs = read_subject(self.context.store, code, representatives=kind == "person")
        void = self.context.unrestorable_items()
        records = [r for r in ledger.effective(inputs.records, at, (), void) if r.subject == code]
        represented = {
            org: [r for r in ledger.effective(recs, at, (), void) if r.subject == org]
            for org, recs in inputs.represented.items()
        }
        scores = scores_for(code, kind, records, registry.scored(), at)
        entries = entries_for(
            code,
            records,
            registry,
            at,
            represented=represented,
            terms=inputs.terms,
            holidays=self.context.holidays,
        )
        later = [r.reported_at for r in inputs.records if r.reported_at > at]
        later += [r.reported_at for recs in inputs.represented.values() for r in recs if r.reported_at > at]
        objections: list[Objection] = []
        for events in inputs.objection_events.values():
            objections.extend(self.casefiles.fold_objections(events, at))
            later += [e.at for e in events if e.at > at]
        entries = apply_suspensions(entries, objections, registry)
        view = SubjectView(code, kind, at, inputs.subject, records, scores, entries)
        return view, min([next_midnight(at), *later]), tuple(represented)

    def read(
        self, code: str, principal: access.Principal, *, purpose: str, as_of: dt.datetime | None = None
    ) -> SubjectView:
        """A subject's record for someone allowed to see it, audited before it is returned."""
        c = codes.validate(code)
        access.require(self.casefiles.may_act_for(principal, c.value), "read this subject's record")
        view = self.view(c.value, as_of)
        self.context.audit(
            principal,
            "read",
            subject=c.value,
            purpose=purpose,
            answer="shown",
            detail={"as_of": ledger.iso_dt(view.as_of)},
        )
        return view

    def check(
        self,
        code: str,
        measure_id: str,
        principal: access.Principal,
        *,
        purpose: str,
        at: dt.datetime | None = None,
    ) -> Decision:
        """The relying party's question, answered and audited (returns once the audit entry is
        committed)."""
        decision, committed = self.check_submit(code, measure_id, principal, purpose=purpose, at=at)
        committed.result()
        return decision

    def check_submit(
        self,
        code: str,
        measure_id: str,
        principal: access.Principal,
        *,
        purpose: str,
        at: dt.datetime | None = None,
    ) -> tuple[Decision, Future[None]]:
        """The decision, its audit entry handed to the group commit: the answer may be given
        once the future completes, never before."""
        prepared = self._prepare_check(code, measure_id, principal, purpose=purpose, at=at)
        assert prepared is not None
        return prepared[0], self.context.auditor.submit(prepared[1])

    async def check_async(
        self, code: str, measure_id: str, principal: access.Principal, *, purpose: str
    ) -> Decision:
        """:meth:`check` for an event loop: with the subject's view cached and the change marker
        fresh, the decision is microseconds of work done on the loop, and the request then waits
        for its audit entry's group commit without holding a thread; anything needing the store
        (a cold subject, a moved marker) runs in a worker thread instead."""
        prepared = self._prepare_check(code, measure_id, principal, purpose=purpose, fast=True)
        if prepared is None:
            prepared = await asyncio.to_thread(
                self._prepare_check, code, measure_id, principal, purpose=purpose
            )
        assert prepared is not None
        await self.context.auditor.submit_async(prepared[1])
        return prepared[0]

    def _prepare_check(
        self,
        code: str,
        measure_id: str,
        principal: access.Principal,
        *,
        purpose: str,
        at: dt.datetime | None = None,
        fast: bool = False,
    ) -> tuple[Decision, dict[str, Any]] | None:
        """The decision and its audit entry. With ``fast``, only if that needs no I/O (a cached
        view and a fresh change marker), else ``None``."""
        measure = self.context.measure(measure_id)
        if measure is None:
            raise NotFound(f"no measure {measure_id!r}", field="measure")
        access.require(access.may_ask(principal, measure), f"ask about measure {measure_id}")
        if at is not None:
            c = codes.validate(code)
            decision = _decide(self._compute(c.value, c.kind, at)[0], measure)
            return decision, _decision_entry(principal, decision, purpose, _detail(decision))
        now = self.context.clock()
        generation = self.context.views.current(may_block=not fast)
        if generation is None:
            return None
        entry = self.context.views.get(code, now)  # a cached code is valid and canonical
        if entry is None:
            if fast:
                return None
            c = codes.validate(code)
            entry = self._cached(c.value, c.kind, now)
        prepared = entry.decisions.get(measure.id)
        if prepared is None:
            d = _decide(entry.view, measure)
            prepared = entry.decisions[measure.id] = (d, _detail(d))
        d = prepared[0]
        decision = Decision(
            d.subject, d.measure, d.measure_kind, d.allowed, now, d.reasons, subject_known=d.subject_known
        )
        return decision, _decision_entry(principal, decision, purpose, prepared[1])


def _decide(view: SubjectView, measure: Measure) -> Decision:
    decision = decide(
        subject=view.code,
        subject_kind=view.kind,
        measure=measure,
        entries=view.entries,
        scores=view.scores,
        at=view.as_of,
    )
    if view.subject is None and not view.records and not view.entries:
        return unknown_subject(decision)  # said, not a plain ALLOW (issue #18)
    return decision


def _detail(decision: Decision) -> dict[str, Any]:
    return {
        "reasons": [r.text for r in decision.reasons],
        "grounds": sorted({g for r in decision.reasons for g in r.grounds}),
    }


def _decision_entry(
    principal: access.Principal, decision: Decision, purpose: str, detail: Mapping[str, Any]
) -> dict[str, Any]:
    return {
        "at": decision.at,
        "key_id": principal.key_id,
        "role": principal.role,
        "principal": principal.principal,
        "action": "decision",
        "subject": decision.subject,
        "measure": decision.measure,
        "purpose": purpose,
        "answer": decision.answer,
        "detail": detail,
    }
