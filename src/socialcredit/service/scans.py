"""Population scans: every subject's scores and list entries at a moment, computed by the same
scoring and list functions as a subject's own view, streamed from the store, and kept.

Why a module of its own: the scan is the one population-wide computation of the service (the
public pages, the transparency report and the demo's summary are all derived from it), and how it
is kept current (only the subjects touched since, within a day) is its own concern. The public
pages never run it on a request of a started server (service/publicstate.py, decision 0049).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from socialcredit import codes, ledger
from socialcredit.dueprocess.cases import Objection
from socialcredit.dueprocess.suspension import apply_suspensions
from socialcredit.knowledge import Known
from socialcredit.ledger import Record
from socialcredit.lists import ListEntry, entries_for
from socialcredit.rules.days import day_of
from socialcredit.scoring import scores_for
from socialcredit.service.casefiles import CaseFiles
from socialcredit.service.context import Context, operator
from socialcredit.service.decisions import Decisions
from socialcredit.subjects import SubjectRow, Tenure


@dataclass(frozen=True)
class SubjectSummary:
    """One subject in a population scan: its scores (score, grade) by scheme and list entries;
    ``records`` are kept only where a public page may need them (organisations, listed subjects)."""

    code: str
    kind: codes.SubjectKind
    row: SubjectRow | None
    scores: dict[str, tuple[int, str]]
    entries: list[ListEntry]
    records: list[Record]


@dataclass(frozen=True)
class PopulationSummary:
    as_of: dt.datetime
    subjects: int
    records: int
    grades: dict[str, dict[str, int]]
    lists: dict[str, int]
    examples: dict[str, list[str]] = field(default_factory=dict)
    known_at: dt.datetime | None = None


class Scans:
    """The population scan, over the case files (open objections suspend measures) and the
    subjects' views (a rescan recomputes the touched ones through them). The last scan is kept."""

    def __init__(self, context: Context, *, casefiles: CaseFiles, decisions: Decisions) -> None:
        self.context = context
        self.casefiles = casefiles
        self.decisions = decisions
        self._scan_cache: tuple[tuple[tuple[int, int], dt.date], list[SubjectSummary]] | None = None

    def kept_on(self, day: dt.date) -> bool:
        """Whether a scan of ``day`` is kept, so that :meth:`scan` for that day recomputes only
        the subjects touched since (no population scan)."""
        cached = self._scan_cache
        return cached is not None and cached[0][1] == day

    def forget(self) -> None:
        """Drop the kept scan: the next one reads the whole population again."""
        self._scan_cache = None

    def scan(
        self, as_of: dt.datetime | None = None, progress: Callable[[int], None] | None = None
    ) -> list[SubjectSummary]:
        """Every subject's scores and list entries at ``as_of``: the population path, mapping the
        same scoring and list functions as :meth:`Decisions.view` over all subjects, streamed from
        the store.

        The last scan is kept. Asked again on the same day, only the subjects touched since (new
        records, corrections, case events, and the representatives of touched organisations) are
        recomputed, through :meth:`Decisions.view`; a new day rescans everything, since records
        stop counting by the day. (A record may be reported at most minutes ahead of its receipt,
        so within a day nothing else can change an answer.)"""
        at = as_of or self.context.clock()
        heads = (self.context.store.head("records")[0], self.context.store.head("cases")[0])
        cached = self._scan_cache
        if cached is not None and cached[0] == (heads, day_of(at)):
            return cached[1]
        if cached is not None and cached[0][1] == day_of(at):
            return self._rescan(cached, heads, at)
        superseded, void = self.context.store.superseded_ids(), self.context.unrestorable_items()
        terms_of: dict[str, dict[str, list[Tenure]]] = {}  # person -> organisation -> terms
        for term in self.context.store.terms():
            terms_of.setdefault(term.person, {}).setdefault(term.organisation, []).append(term)
        orgs_of = {person: list(terms) for person, terms in terms_of.items()}
        reps = {o for terms in terms_of.values() for o in terms}
        registered = {row.code: row for row in self.context.store.subject_rows()}
        open_objections: dict[str, list[Objection]] = {}
        for case in self.casefiles.cases(principal=operator(), open_only=True):
            if isinstance(case, Objection):
                open_objections.setdefault(case.subject, []).append(case)
        out: list[SubjectSummary] = []

        in_force = self.context.registry.at(day_of(at))  # the versions in force that day (0038)

        def one(code: str, recs: list[Record], represented: dict[str, list[Record]]) -> None:
            kind = codes.validate(code).kind
            scores = scores_for(code, kind, recs, in_force.scored(), at)
            entries = entries_for(
                code,
                recs,
                in_force,
                at,
                represented=represented,
                terms=terms_of.get(code, {}),
                holidays=self.context.holidays,
            )
            objections = [o for c in (code, *represented) for o in open_objections.get(c, [])]
            entries = apply_suspensions(entries, objections, in_force)
            row = registered.get(code)
            out.append(
                SubjectSummary(
                    code,
                    kind,
                    row,
                    {k: (v.score, v.grade) for k, v in scores.items()},
                    entries,
                    recs if kind == "organisation" or entries else [],
                )
            )
            if progress is not None:
                progress(1)

        kept: dict[str, list[Record]] = {}
        for code, recs in self.context.store.iter_by_subject():
            eff = [r for r in ledger.effective(recs, at, superseded, void) if r.subject == code]
            if code in reps or code in orgs_of:
                kept[code] = eff  # representatives are scanned after their organisations are read
            if code not in orgs_of:
                one(code, eff, {})
        for person, orgs in orgs_of.items():
            one(person, kept.get(person, []), {o: kept.get(o, []) for o in orgs})
        seen = {s.code for s in out}
        for code in registered:
            if code not in seen:
                one(code, [], {})
        out.sort(key=lambda s: s.code)
        self._scan_cache = ((heads, day_of(at)), out)
        return out

    def _rescan(
        self, cached: tuple[Any, list[SubjectSummary]], heads: tuple[int, int], at: dt.datetime
    ) -> list[SubjectSummary]:
        (old_heads, _day), summaries = cached
        touched = self.context.store.subjects_touched_since(old_heads[0], old_heads[1])
        touched |= {term.person for term in self.context.store.terms() if term.organisation in touched}
        by_code = {s.code: s for s in summaries}
        for code in touched:
            by_code[code] = self._summary(code, at)
        out = sorted(by_code.values(), key=lambda s: s.code)
        self._scan_cache = ((heads, day_of(at)), out)
        return out

    def known_scan(self, at: dt.datetime, known_at: dt.datetime) -> list[SubjectSummary]:
        """Every subject's summary for valid time ``at`` as known at ``known_at``, each through
        :meth:`Decisions.view` (the per-subject path that reads knowledge time): slower than
        :meth:`scan`, and not cached, since it answers for a past moment, not for now.

        Only the subjects known at ``known_at`` are in it: registered by then (the registry's
        chain keeps when each registration was received) or named by a record received by then.
        Why: a subject registered later was nobody the system knew of at ``known_at``; counted
        then, it would add a subject and its baseline score to a report that never had them."""
        known = Known(at=known_at)
        seen = {
            code
            for code, recs in self.context.store.iter_by_subject()
            if any(known.knows(r.received_at, r.seq, None) for r in recs if r.subject == code)
        }
        seen |= {e.row.code for e in self.context.store.registry_history() if known.knows(e.at, e.seq, None)}
        return [self._summary(code, at, known_at) for code in sorted(seen)]

    def _summary(self, code: str, at: dt.datetime, known_at: dt.datetime | None = None) -> SubjectSummary:
        v = self.decisions.view(code, at, known_at)
        return SubjectSummary(
            v.code,
            v.kind,
            v.subject,
            {k: (x.score, x.grade) for k, x in v.scores.items()},
            v.entries,
            v.records if v.kind == "organisation" or v.entries else [],
        )

    def population(
        self,
        as_of: dt.datetime | None = None,
        progress: Callable[[int], None] | None = None,
        known_at: dt.datetime | None = None,
    ) -> PopulationSummary:
        """Grade distribution per scheme (residents', or organisations' for a scheme that rates only
        organisations) and active list sizes, with examples. With ``known_at``, as it stood then:
        only the subjects and records known by then (:meth:`known_scan`)."""
        at = as_of or known_at or self.context.clock()
        scan = self.scan(at, progress) if known_at is None else self.known_scan(at, known_at)
        by_kind: dict[str, dict[str, Counter[str]]] = {
            "person": {s.id: Counter() for s in self.context.registry.scored()},
            "organisation": {s.id: Counter() for s in self.context.registry.scored()},
        }
        lists: Counter[str] = Counter()
        examples: dict[str, list[str]] = {}
        for s in scan:
            for scheme_id, (_score, grade) in s.scores.items():
                by_kind[s.kind][scheme_id][grade] += 1
                label = f"grade {grade} ({scheme_id})"
                if len(examples.setdefault(label, [])) < 3:
                    examples[label].append(s.code)
            for e in s.entries:
                if e.status == "active" and e.suspended_by is None:
                    lists[e.qualified_id] += 1
                    found = examples.setdefault(e.qualified_id, [])
                    if len(found) < 3 and s.code not in found:
                        found.append(s.code)
        return PopulationSummary(
            at,
            len(scan),
            self.context.store.count_records(known_at),
            {
                k: dict(sorted((v or by_kind["organisation"][k]).items()))
                for k, v in by_kind["person"].items()
            },
            dict(sorted(lists.items())),
            examples,
            known_at,
        )
