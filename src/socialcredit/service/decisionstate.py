"""The decision state: a subject's view computed from the ledger, and the sweep that keeps each
subject's decisions prepared in the store (``store/decisionstate.py``, decisions 0048 and 0083).

Why a service of its own: :class:`~socialcredit.service.decisions.Decisions` answers questions
and audits them; this builds what it answers from. Both are small services over the shared
:class:`~socialcredit.service.context.Context`; ``Decisions`` holds one :class:`DecisionStates`
and hands it the computations (``_compute``, ``basis``, ``build_state``, ``keep_state``), so a
question that cannot be answered from a state is computed the one way the sweep computes it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
from dataclasses import dataclass
from typing import Any

from socialcredit import codes, history, ledger, validity
from socialcredit.decisions import Decision, Reason, decide, unknown_subject
from socialcredit.dueprocess import restoration
from socialcredit.dueprocess.cases import Objection
from socialcredit.dueprocess.suspension import apply_suspensions
from socialcredit.history import Ended
from socialcredit.i18n import N_
from socialcredit.knowledge import Known
from socialcredit.ledger import Record
from socialcredit.lists import ListEntry, entries_for
from socialcredit.rules import days
from socialcredit.rules.days import day_of
from socialcredit.schemes.loader import Registry
from socialcredit.schemes.model import Measure
from socialcredit.scoring import Score, scores_for
from socialcredit.scoring.result import Title
from socialcredit.service import statecodec
from socialcredit.service.casefiles import CaseFiles
from socialcredit.service.context import Context
from socialcredit.service.views import next_midnight
from socialcredit.shredding import ErasedRecord
from socialcredit.store.decisionstate import NewState
from socialcredit.store.subjectreads import SubjectInputs, read_subject
from socialcredit.subjects import RegistryEntry, SubjectRow, tenures

log = logging.getLogger(__name__)

SWEEP_SECONDS = 5.0
"""How often the sweep (:meth:`DecisionStates.keep_state`) looks for states to compute again."""


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


class DecisionStates:
    """A subject's view computed from the ledger, and the decision states built from it: what
    :class:`~socialcredit.service.decisions.Decisions` answers from (over the cases: an open
    objection may suspend a list's measures)."""

    def __init__(self, context: Context, casefiles: CaseFiles) -> None:
        self.context = context
        self.casefiles = casefiles
        self._basis: tuple[Registry, str] | None = None
        self._measures: tuple[dt.date, Registry, list[tuple[Measure, str | None]]] | None = None

    def measures_on(self, day: dt.date) -> list[tuple[Measure, str | None]]:
        """Every measure as the versions in force on ``day`` define it, with its scheme: what
        each state's decisions are prepared on, found once a day, not once a subject."""
        kept = self._measures
        if kept is None or kept[0] != day or kept[1] is not self.context.registry:
            at = days.start_of(day)
            found = [
                (self.measure_on(m, at), self.owner(m)) for m in self.context.registry_replaced()[1].values()
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
                view, _until, represents, holds = self.compute(c.value, c.kind, at, state=True)
                assert holds is not None
                prepared = {}
                for measure, owner in self.measures_on(day_of(at)):
                    d = decide_on(view, measure, owner)
                    prepared[measure.id] = (d, detail_of(d))
                payload = statecodec.encode(prepared, represents)
                states.append(NewState(c.value, epochs.get(c.value), basis, at, holds, payload))
            written += store.put_decision_states(states)
        return written

    def compute(
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
            inputs = self.as_known(inputs, known)
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

    def as_known(self, inputs: SubjectInputs, known: Known) -> SubjectInputs:
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

    def measure_on(self, measure: Measure, at: dt.datetime) -> Measure:
        """``measure`` as the version of its scheme in force at ``at`` defines it (decision 0038)."""
        registry = self.context.registry.at(day_of(at))
        if registry is self.context.registry:
            return measure
        return registry.measure(measure.id) or measure

    def owner(self, measure: Measure) -> str | None:
        """The scheme that defines ``measure`` (ids are unique across the registry)."""
        return next((s.id for s in self.context.registry.schemes.values() if s.measure(measure.id)), None)


def decide_on(view: SubjectView, measure: Measure, owner: str | None = None) -> Decision:
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


def detail_of(decision: Decision) -> dict[str, Any]:
    """A decision's audit detail: its reasons' texts and their grounds (kept in a state with
    the decision, so a question answered from it writes the same entry)."""
    return {
        "reasons": [r.text for r in decision.reasons],
        "grounds": sorted({g for r in decision.reasons for g in r.grounds}),
    }
