"""A subject's view, the audited reads of it and the decisions made from it: the answers about
one subject, for now from the view cache (``views.py``), for another time computed afresh.

The services are the seam between core and adapters: they read plain records from the store, ask
the core what they mean, and write the audit entry before any answer leaves. The API, the CLI and
the portal all call them, so each answer is computed once, one way. The views and decision
states they answer from are computed by ``decisionstate.py`` (:class:`DecisionStates`, held here).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from socialcredit import access, codes, ledger
from socialcredit.decisions import Decision
from socialcredit.i18n import N_
from socialcredit.knowledge import Known, Receipt, decision_id
from socialcredit.rules.days import day_of
from socialcredit.schemes.loader import Registry
from socialcredit.service import statecodec
from socialcredit.service.casefiles import CaseFiles, NotFound
from socialcredit.service.context import Context
from socialcredit.service.decisionstate import DecisionStates, SubjectView
from socialcredit.service.decisionstate import decide_on as _decide
from socialcredit.service.decisionstate import detail_of as _detail
from socialcredit.service.hop import Hop
from socialcredit.service.views import Cached
from socialcredit.store.decisionstate import StateRow
from socialcredit.store.markers import Marker

__all__ = ["Decisions", "Question", "SubjectView", "_decide"]

_UNREAD = object()
"""A subject's state not read yet (``Decisions._stated`` reads it)."""


@dataclass(frozen=True)
class Question:
    """A relying party's question: may the measure ``measure`` be applied to ``subject`` (a
    code), asked by ``principal`` for ``purpose``, for valid time ``at`` (default now) as known
    at ``known_at`` (default now); ``via``, the type of document the subject was named by
    (``Documents.resolve``), noted in the audit entry. Why one object: :meth:`Decisions.check`,
    its submitting and its event-loop forms, and each adapter, passed the same seven values."""

    subject: str
    measure: str
    principal: access.Principal
    _: dataclasses.KW_ONLY
    purpose: str
    at: dt.datetime | None = None
    known_at: dt.datetime | None = None
    via: str | None = None


class Decisions:
    """Views, audited reads and audited decisions, over the cases (an open objection may suspend
    a list's measures, and only the subject or who acts for it may read its record)."""

    def __init__(self, context: Context, casefiles: CaseFiles) -> None:
        self.context = context
        self.casefiles = casefiles
        # the views and states answered from, computed by a service of their own (composed)
        self.states = DecisionStates(context, casefiles)
        self._compute = self.states.compute
        self._measure_on = self.states.measure_on
        self._owner = self.states.owner
        self.basis = self.states.basis
        self.build_state = self.states.build_state
        self.keep_state = self.states.keep_state
        self._hop = Hop("decision-reads")  # the loop's questions that need the store (decision 0101)

    def view(
        self, code: str, as_of: dt.datetime | None = None, known_at: dt.datetime | None = None
    ) -> SubjectView:
        """Scores under every scored scheme and every list entry of ``code`` for valid time
        ``as_of`` (default now) as known at ``known_at`` (default: everything received so far);
        for now as known now, from the view cache, which is checked against the store first."""
        return self._view(code, as_of, known_at)[0]

    def _view(
        self, code: str, as_of: dt.datetime | None, known_at: dt.datetime | None
    ) -> tuple[SubjectView, bool]:
        """:meth:`view`, and whether it was computed now (read from the store in this call)
        rather than taken from the view cache."""
        c = codes.validate(code)
        if as_of is not None or known_at is not None:
            at = as_of if as_of is not None else self.context.clock()
            return self._compute(c.value, c.kind, at, Known(at=known_at))[0], True
        at = self.context.clock()
        entry, fresh = self._entry(c.value, c.kind, at)
        view: SubjectView = entry.view
        return dataclasses.replace(view, as_of=at), fresh

    def _cached(self, code: str, kind: codes.SubjectKind, at: dt.datetime) -> Cached:
        """The cache entry for ``code`` at ``at`` (now) with its view, computed and stored on a
        miss."""
        return self._entry(code, kind, at)[0]

    def _entry(self, code: str, kind: codes.SubjectKind, at: dt.datetime) -> tuple[Cached, bool]:
        """:meth:`_cached`, and whether the entry was computed now (a miss)."""
        self.context.registry_replaced()
        views = self.context.views
        generation = views.current()
        assert generation is not None
        entry = views.get(code, at)
        if entry is None or entry.view is None:
            return self._computed(code, kind, at, generation), True
        return entry, False

    def _read_state(self, code: str) -> tuple[int, Marker, StateRow | None] | None:
        """For a question about ``code`` now, from a caller that may block: the change marker and the
        subject's state read in one transaction where the store is a local file
        (``HeadReader.read_state``), with the generation to keep what it gives under; ``None``
        where they are read one after the other as before (a server's store), or when a newer
        marker was applied meanwhile. One read instead of two, and the receipt's positions are
        the state's own moment."""
        heads = self.context.views.heads
        started = time.monotonic()
        c = codes.validate(code)
        read = heads.read_state(c.value)
        if read is None:
            return None
        marker, state = read
        generation = self.context.views.current_at(started, marker)
        return None if generation is None else (generation, marker, state)

    def _stated(
        self,
        code: str,
        kind: codes.SubjectKind,
        at: dt.datetime,
        generation: int,
        state: StateRow | None | object = _UNREAD,
    ) -> Cached:
        """The cache entry for ``code`` at ``at`` (now) from its materialised state (``state``,
        read with the marker; else one indexed read now); computed from the ledger when the
        state cannot answer (never written from here: the sweep writes states, so a question's
        only write is its audit entry)."""
        row = self.context.store.decision_state(code) if state is _UNREAD else state
        assert row is None or isinstance(row, StateRow)
        if row is None or not row.answers(self.basis(), at):
            return self._computed(code, kind, at, generation)
        assert row.payload is not None and row.as_of is not None and row.valid_until is not None
        represents = statecodec.represents(row.payload)
        entry = Cached(
            None, row.valid_until, represents, time.monotonic(), as_of=row.as_of, encoded=row.payload
        )
        self.context.views.put(code, entry, generation)
        return entry

    def _computed(self, code: str, kind: codes.SubjectKind, at: dt.datetime, generation: int) -> Cached:
        view, valid_until, represents, _ = self._compute(code, kind, at)
        entry = Cached(view, valid_until, represents, time.monotonic())
        self.context.views.put(code, entry, generation)
        return entry

    def read(
        self,
        code: str,
        principal: access.Principal,
        *,
        purpose: str,
        as_of: dt.datetime | None = None,
        known_at: dt.datetime | None = None,
    ) -> SubjectView:
        """A subject's record for someone allowed to see it, audited before it is returned, with
        the records erased (issue 21: they still count in the ledger, as lines without content)."""
        c = codes.validate(code)
        access.require(self.casefiles.may_act_for(principal, c.value), N_("read this subject's record"))
        view, fresh = self._view(c.value, as_of, known_at)
        detail = {"as_of": ledger.iso_dt(view.as_of)}
        if known_at is not None:
            detail["known_at"] = ledger.iso_dt(known_at)
        self.context.audit(principal, "read", subject=c.value, purpose=purpose, answer="shown", detail=detail)
        if fresh:  # read with its records, in the same snapshot (decision 0076)
            return view
        # a cached view's list is read again: the erasure log may have grown since it was computed
        return dataclasses.replace(view, erased=self.context.store.erased_records(c.value))

    def check(self, question: Question) -> Decision:
        """The relying party's question (:class:`Question`) answered and audited with its
        receipt: returns once the audit entry is committed."""
        decision, committed = self.check_submit(question)
        committed.result()
        return decision

    def check_submit(self, question: Question) -> tuple[Decision, Future[None]]:
        """The decision, its audit entry handed to the group commit: the answer may be given
        once the future completes, never before."""
        prepared = self._prepare_check(question)
        assert prepared is not None
        return prepared[0], self.context.auditor.submit(prepared[1])

    async def check_async(self, question: Question) -> Decision:
        """:meth:`check` for an event loop: with the subject's view cached and the change marker
        fresh, the decision is microseconds of work done on the loop, and the request then waits
        for its audit entry's group commit without holding a thread; anything needing the store
        (a cold subject, a moved marker) runs on a thread of :class:`Hop`'s instead."""
        prepared = None
        if question.at is None and question.known_at is None:
            prepared = self._prepare_check(question, fast=True)
        if prepared is None:
            prepared = await self._hop.run(self._prepare_check, question)
        assert prepared is not None
        await self.context.auditor.submit_async(prepared[1])
        return prepared[0]

    def _prepare_check(
        self, question: Question, *, fast: bool = False
    ) -> tuple[Decision, dict[str, Any]] | None:
        """The decision and its audit entry, both carrying its receipt. With ``fast``, only if
        that needs no I/O (a cached view and a fresh change marker), else ``None``.

        For now, the receipt's positions are the chain heads the cache agrees with (a cached
        view changes whenever an entry about its subject is appended); for another valid or
        knowledge time, the heads read first, and the view is computed from exactly the entries
        up to them."""
        code, measure_id, principal = question.subject, question.measure, question.principal
        purpose, at, known_at, via = question.purpose, question.at, question.known_at, question.via
        measure = self.context.measure(measure_id)
        if measure is None:
            raise NotFound(N_("no measure {measure_id!r}", measure_id=measure_id), field="measure")
        access.require(
            access.may_ask(principal, measure), N_("ask about measure {measure}", measure=measure_id)
        )
        if at is not None or known_at is not None:
            c = codes.validate(code)
            now = self.context.clock()
            heads = self.context.store.heads()
            known = Known(
                known_at,
                heads["records"][0],
                heads.get("registry", (0, ""))[0],
                heads["cases"][0],
            )
            as_of = at if at is not None else now
            receipt = self._receipt(as_of, known_at or now, known)
            measure = self._measure_on(measure, as_of)
            d = _decide(self._compute(c.value, c.kind, as_of, known)[0], measure, self._owner(measure))
            decision = dataclasses.replace(d, receipt=receipt)
            detail = {**_detail(decision), "receipt": receipt.to_json()}
            return decision, _decision_entry(principal, decision, purpose, detail, via)
        now = self.context.clock()
        read = None if fast else self._read_state(code)
        state: StateRow | None | object
        if read is not None:  # the marker and the state in one read (decision 0088)
            generation, marker, state = read
        else:
            current = self.context.views.current(may_block=not fast)
            if current is None:
                return None
            generation, state = current, _UNREAD
            applied = self.context.views.applied
            assert applied is not None
            marker = applied
        if fast and not self.context.schemes_kept():
            return None  # the first receipt under these schemes keeps them (a write): not on the loop
        entry = self.context.views.get(code, now)  # a cached code is valid and canonical
        if entry is None:
            if fast:
                return None
            c = codes.validate(code)
            code = c.value
            entry = self._stated(code, c.kind, now, generation, state)
        prepared = entry.decisions.get(measure.id)
        if prepared is None and entry.encoded is not None and entry.as_of is not None:
            kept = statecodec.decision(entry.encoded, measure.id, code, entry.as_of)
            if kept is not None:
                prepared = entry.decisions[measure.id] = (kept, _detail(kept))
        if prepared is None and entry.view is None:
            if fast:
                return None
            c = codes.validate(code)
            entry = self._cached(c.value, c.kind, now)  # a measure the state lacks: not expected
            prepared = entry.decisions.get(measure.id)
        if prepared is None:
            measure = self._measure_on(measure, now)
            d = _decide(entry.view, measure, self._owner(measure))
            prepared = entry.decisions[measure.id] = (d, _detail(d))
        d = prepared[0]
        receipt = Receipt(
            decision_id(),
            now,
            now,
            marker[0][0],
            marker[2][0],
            marker[1][0],
            self.context.scheme_hashes(self.context.registry.at(day_of(now))),
        )
        decision = Decision(
            d.subject,
            d.measure,
            d.measure_kind,
            d.allowed,
            now,
            d.reasons,
            receipt,
            subject_known=d.subject_known,
        )
        detail = {**prepared[1], "receipt": receipt}
        return decision, _decision_entry(principal, decision, purpose, detail, via)

    def recompute(
        self, code: str, measure_id: str, as_of: dt.datetime, known: Known, registry: Registry
    ) -> Decision:
        """The decision for ``as_of`` from exactly what ``known`` names, under ``registry``: a
        past answer computed again from its receipt (not audited: the caller audits)."""
        return self.recompute_with(code, measure_id, as_of, known, registry)[0]

    def recompute_with(
        self, code: str, measure_id: str, as_of: dt.datetime, known: Known, registry: Registry
    ) -> tuple[Decision, tuple[str, ...]]:
        """:meth:`recompute`, with the organisations whose records the decision included, the
        person being their legal representative as ``known`` names: a receipt's reproduction
        looks for erasures of their records too (``service/receipts.py``)."""
        c = codes.validate(code)
        measure = registry.measure(measure_id)
        if measure is None:
            raise NotFound(
                N_("no measure {measure_id!r} in the schemes named", measure_id=measure_id), field="measure"
            )
        view, _until, organisations, _ = self._compute(c.value, c.kind, as_of, known, registry)
        return _decide(view, measure, _owner_in(registry, measure_id)), organisations

    def recompute_every(
        self, code: str, as_of: dt.datetime, known: Known, registry: Registry
    ) -> dict[str, Decision]:
        """:meth:`recompute` for every measure of ``registry``, the subject's view computed once.
        Why: checking a subject's stored state against the ledger asks for all of its measures,
        and computing the view again for each of them cost 26 views a subject."""
        c = codes.validate(code)
        view, _until, _organisations, _ = self._compute(c.value, c.kind, as_of, known, registry)
        return {mid: _decide(view, m, _owner_in(registry, mid)) for mid, m in registry.measures().items()}

    def _receipt(self, as_of: dt.datetime, known_at: dt.datetime, known: Known) -> Receipt:
        """A new decision's receipt at the positions ``known`` names."""
        assert known.records is not None and known.registry is not None and known.cases is not None
        hashes = self.context.scheme_hashes(self.context.registry.at(day_of(as_of)))
        return Receipt(decision_id(), as_of, known_at, known.records, known.registry, known.cases, hashes)


def _decision_entry(
    principal: access.Principal,
    decision: Decision,
    purpose: str,
    detail: Mapping[str, Any],
    via: str | None = None,
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
        "detail": detail if via is None else {**detail, "via": via},
    }


def _owner_in(registry: Registry, measure_id: str) -> str | None:
    """The id of the scheme of ``registry`` that declares ``measure_id``."""
    return next((s.id for s in registry.schemes.values() if s.measure(measure_id)), None)
