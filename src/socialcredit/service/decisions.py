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
import logging
import threading
import time
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

from socialcredit import access, codes, history, ledger, validity
from socialcredit.decisions import Decision, Reason, decide, unknown_subject
from socialcredit.dueprocess import restoration
from socialcredit.dueprocess.cases import Objection
from socialcredit.dueprocess.suspension import apply_suspensions
from socialcredit.history import Ended
from socialcredit.i18n import N_
from socialcredit.knowledge import Known, Receipt, decision_id
from socialcredit.ledger import Record
from socialcredit.lists import ListEntry, entries_for
from socialcredit.rules import days
from socialcredit.rules.days import day_of
from socialcredit.schemes.loader import Registry
from socialcredit.schemes.model import Measure
from socialcredit.scoring import Score, scores_for
from socialcredit.scoring.result import Title
from socialcredit.service import statecodec
from socialcredit.service.casefiles import CaseFiles, NotFound
from socialcredit.service.context import Context
from socialcredit.service.views import Cached, next_midnight
from socialcredit.shredding import ErasedRecord
from socialcredit.store.decisionstate import NewState
from socialcredit.store.subjectreads import SubjectInputs, read_subject
from socialcredit.subjects import RegistryEntry, SubjectRow, tenures


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
    ended_records: list[Ended] = dataclasses.field(default_factory=list)
    """Records a correction, withdrawal or restoration ended, each with what ended it."""
    ended_entries: list[ListEntry] = dataclasses.field(default_factory=list)
    """List entries whose grounds such a record ended, labelled (``history.ended_entries``)."""
    versions: dict[str, str] = dataclasses.field(default_factory=dict)
    """The version of each scheme in force at ``as_of`` that gave this view, by scheme id."""
    not_in_force: dict[str, dt.date | None] = dataclasses.field(default_factory=dict)
    """Schemes not yet in force at ``as_of``, with the day their first version applies from."""
    erased: list[ErasedRecord] = dataclasses.field(default_factory=list)
    """The subject's records whose key was destroyed, shown as "erased on D under rule R" with
    no content: read with the records when the view is computed (decision 0076), and read again
    by :meth:`Decisions.read` for a view taken from the cache (a check shows none of it)."""


log = logging.getLogger(__name__)

SWEEP_SECONDS = 5.0
"""How often the sweep (:meth:`Decisions.keep_state`) looks for states to compute again."""


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
        self._basis: tuple[Registry, str] | None = None
        self._measures: tuple[dt.date, Registry, list[tuple[Measure, str | None]]] | None = None

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

    def _stated(self, code: str, kind: codes.SubjectKind, at: dt.datetime, generation: int) -> Cached:
        """The cache entry for ``code`` at ``at`` (now) from its materialised state: one indexed
        read; computed from the ledger when the state cannot answer (never written from here:
        the sweep writes states, so a question's only write is its audit entry)."""
        row = self.context.store.decision_state(code)
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

    def _measures_on(self, day: dt.date) -> list[tuple[Measure, str | None]]:
        """Every measure as the versions in force on ``day`` define it, with its scheme: what
        each state's decisions are prepared on, found once a day, not once a subject."""
        kept = self._measures
        if kept is None or kept[0] != day or kept[1] is not self.context.registry:
            at = days.start_of(day)
            found = [
                (self._measure_on(m, at), self._owner(m))
                for m in self.context.registry_replaced()[1].values()
            ]
            kept = self._measures = (day, self.context.registry, found)
        return kept[2]

    def basis(self) -> str:
        """The digest of the schemes and holidays states are computed under (``statecodec``)."""
        kept = self._basis
        if kept is None or kept[0] is not self.context.registry:
            registry = self.context.registry
            kept = self._basis = (registry, statecodec.basis(registry, self.context.holidays))
        return kept[1]

    def build_state(self, *, everyone: bool = True, batch: int = 200, expired_only: bool = False) -> int:
        """Compute and keep the state of every subject whose state cannot answer now (with
        ``everyone``, also of every known subject without one: a first build; with
        ``expired_only``, only emptied and expired states, by index); how many were written.
        Each subject's row is read before its inputs, so a change made meanwhile wins."""
        store = self.context.store
        self.context.registry_replaced()
        now = self.context.clock()
        due = store.decision_states_due(self.basis(), now, everyone=everyone, expired_only=expired_only)
        written = 0
        basis = self.basis()
        for i in range(0, len(due), batch):
            chunk = [codes.validate(code) for code in due[i : i + batch]]
            # every row's epoch read before any input (store/decisionstate.py), in one statement
            epochs = store.decision_state_epochs([c.value for c in chunk])
            states = []
            for c in chunk:
                at = self.context.clock()
                view, _until, represents, holds = self._compute(c.value, c.kind, at, state=True)
                assert holds is not None
                prepared = {}
                for measure, owner in self._measures_on(day_of(at)):
                    d = _decide(view, measure, owner)
                    prepared[measure.id] = (d, _detail(d))
                payload = statecodec.encode(prepared, represents)
                states.append(NewState(c.value, epochs.get(c.value), basis, at, holds, payload))
            written += store.put_decision_states(states)
        return written

    def _compute(
        self,
        code: str,
        kind: codes.SubjectKind,
        at: dt.datetime,
        known: Known | None = None,
        registry: Registry | None = None,
        *,
        state: bool = False,
    ) -> tuple[SubjectView, dt.datetime, tuple[str, ...], dt.datetime | None]:
        """The view at ``at``, until when it holds unchanged (the next midnight, or the first
        later ``reported_at`` or case event among its inputs), the organisations it includes as
        legal representative, and with ``state`` until when its decisions hold (``validity``: the
        first day their answer can change, or the first later input; decision 0083), for the kept
        state (the view, with its scores' explanations, is kept in memory to midnight only). Its
        inputs come in one read (``store/subjectreads.py``), cut to what was ``known`` (knowledge
        time) when that is bounded; under ``registry`` when given (the schemes a receipt names),
        else the schemes in force."""
        if registry is None or registry is self.context.registry:
            # the versions in force on the day asked about (decision 0038); a receipt's registry
            # is the versions it names already
            registry = self.context.registry.at(day_of(at))
        if registry is self.context.registry:
            void = self.context.unrestorable_items()
        else:
            void = frozenset(restoration.unrestorable(registry.schemes.values()))
        inputs = read_subject(self.context.store, code, representatives=kind == "person")
        if known is not None and known.bounded:
            inputs = self._as_known(inputs, known)
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
        ended = history.ended_records([r for r in inputs.records if r.subject == code], at, void)
        gone = (
            history.ended_entries(
                code,
                inputs.records,
                registry,
                at,
                entries,
                represented=inputs.represented,
                terms=inputs.terms,
                holidays=self.context.holidays,
                unrestorable=void,
            )
            if ended or any(r.corrects for rs in inputs.represented.values() for r in rs)
            else []
        )
        versions = {sid: sc.version for sid, sc in registry.schemes.items()}
        late = {sid: registry.versions(sid)[0][0] for sid in registry.absent if registry.versions(sid)}
        view = SubjectView(
            code,
            kind,
            at,
            inputs.subject,
            records,
            scores,
            entries,
            ended,
            gone,
            versions,
            late,
            inputs.erased,
        )
        holds = None
        if state:
            own = validity.next_change(
                at,
                kind=kind,
                records=records,
                registry=registry,
                entries=[*entries, *gone],
                terms=inputs.terms,
                late=bool(late) or bool(registry.absent),
            )
            holds = min([own, *later])
        return view, min([next_midnight(at), *later]), tuple(represented), holds

    def _as_known(self, inputs: SubjectInputs, known: Known) -> SubjectInputs:
        """The inputs as they were known: records received by ``known.at`` and within its
        records position, case events likewise, and the registration and legal representatives'
        terms folded again from the registry entries known then (``subjects.tenures``)."""

        def recs(rs: list[Record]) -> list[Record]:
            return [r for r in rs if known.knows(r.received_at, r.seq, known.records)]

        code = inputs.code
        represented = {org: recs(rs) for org, rs in inputs.represented.items()}
        events = {
            who: [e for e in evs if known.knows(e.at, e.seq, known.cases)]
            for who, evs in inputs.objection_events.items()
        }
        subject, terms = inputs.subject, inputs.terms
        if known.at is not None or known.registry is not None:
            store = self.context.store

            def entries(of: str) -> list[RegistryEntry]:
                return [e for e in store.registry_history(of) if known.knows(e.at, e.seq, known.registry)]

            own = entries(code)
            subject = own[-1].row if own else None
            terms = {}
            for org in inputs.terms:
                held = [t for t in tenures(org, entries(org), day_of) if t.person == code]
                if held:
                    terms[org] = held
            represented = {org: represented[org] for org in terms}
            events = {who: evs for who, evs in events.items() if who == code or who in terms}
        return SubjectInputs(code, subject, recs(inputs.records), represented, events, terms, inputs.erased)

    def keep_state(self, stop: threading.Event, every: float = SWEEP_SECONDS) -> None:
        """The sweep: build every state missing at first, then every ``every`` seconds those
        emptied by a change or past their time, until ``stop`` is set. Questions never wait
        for it (a state that cannot answer is computed on read); it keeps them one read."""
        everyone, checked = True, ""
        while not stop.is_set():
            try:
                # every row's basis and time read in full only when the schemes changed (a
                # scan); other rounds search the index for emptied and expired states
                basis = self.basis()
                self.build_state(everyone=everyone, expired_only=basis == checked)
                everyone, checked = False, basis
            except Exception:  # noqa: BLE001 - e.g. the database is away: try again next round
                log.exception("the decision state sweep failed; trying again in %s s", every)
            stop.wait(every)

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
        (a cold subject, a moved marker) runs in a worker thread instead."""
        prepared = None
        if question.at is None and question.known_at is None:
            prepared = self._prepare_check(question, fast=True)
        if prepared is None:
            prepared = await asyncio.to_thread(self._prepare_check, question)
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
        generation = self.context.views.current(may_block=not fast)
        if generation is None:
            return None
        marker = self.context.views.applied
        assert marker is not None
        if fast and not self.context.schemes_kept():
            return None  # the first receipt under these schemes keeps them (a write): not on the loop
        entry = self.context.views.get(code, now)  # a cached code is valid and canonical
        if entry is None:
            if fast:
                return None
            c = codes.validate(code)
            code = c.value
            entry = self._stated(code, c.kind, now, generation)
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
        owner = next((s.id for s in registry.schemes.values() if s.measure(measure_id)), None)
        view, _until, organisations, _ = self._compute(c.value, c.kind, as_of, known, registry)
        return _decide(view, measure, owner), organisations

    def _measure_on(self, measure: Measure, at: dt.datetime) -> Measure:
        """``measure`` as the version of its scheme in force at ``at`` defines it (decision 0038)."""
        registry = self.context.registry.at(day_of(at))
        if registry is self.context.registry:
            return measure
        return registry.measure(measure.id) or measure

    def _owner(self, measure: Measure) -> str | None:
        """The scheme that defines ``measure`` (ids are unique across the registry)."""
        return next((s.id for s in self.context.registry.schemes.values() if s.measure(measure.id)), None)

    def _receipt(self, as_of: dt.datetime, known_at: dt.datetime, known: Known) -> Receipt:
        """A new decision's receipt at the positions ``known`` names."""
        assert known.records is not None and known.registry is not None and known.cases is not None
        hashes = self.context.scheme_hashes(self.context.registry.at(day_of(as_of)))
        return Receipt(decision_id(), as_of, known_at, known.records, known.registry, known.cases, hashes)


def _decide(view: SubjectView, measure: Measure, owner: str | None = None) -> Decision:
    """The decision on ``measure`` (of scheme ``owner``) from ``view``. A measure whose scheme, or
    every scheme its trigger reads, was not yet in force at the view's time is answered so: a
    punishment allowed, a reward not given (decision 0038)."""
    t = measure.trigger
    read = {*(ref.partition("/")[0] for ref in t.lists), *([t.scheme] if t.scheme else [])}
    late = [
        sid for sid in ([owner] if owner in view.not_in_force else sorted(read)) if sid in view.not_in_force
    ]
    if late and (owner in view.not_in_force or all(sid in view.not_in_force for sid in read)):
        sid = late[0]
        since = view.not_in_force[sid]
        scheme, day = Title("scheme", sid, sid, sid), day_of(view.as_of).isoformat()
        text = (
            N_(
                "scheme {scheme} was not yet in force on {day} (its first version applies from {since})",
                scheme=scheme,
                day=day,
                since=since.isoformat(),
            )
            if since
            else N_("scheme {scheme} was not yet in force on {day}", scheme=scheme, day=day)
        )
        reason = Reason("not-in-force", text, legal_basis=measure.legal_basis)
        return Decision(view.code, measure.id, measure.kind, measure.kind != "reward", view.as_of, (reason,))
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
