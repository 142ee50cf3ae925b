"""The application services: the core's rules over the store, shared by the API, the CLI and the
portal so each answer is computed once, one way (datasette's habit: one view feeds JSON and HTML).

This module is the seam between core and adapters: it reads plain records from the store, asks
the core what they mean, and writes the audit entry before any answer leaves.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from socialcredit import access, codes, ledger
from socialcredit.decisions import Decision, decide
from socialcredit.dueprocess.cases import (
    CaseEvent,
    CaseKind,
    Deadlines,
    Objection,
    Restoration,
    fold_objection,
    fold_restoration,
    restoration_eligible_from,
)
from socialcredit.dueprocess.suspension import apply_suspensions
from socialcredit.ledger import IngestResult, Quarantined, Record
from socialcredit.lists import ListEntry, entries_for
from socialcredit.schemes.loader import Registry, SchemeError
from socialcredit.scoring.points import Score, score_points
from socialcredit.store import Store, StoredKey
from socialcredit.subjects import SubjectRow, validate_subject


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)


class NotFound(LookupError):
    """The thing asked for does not exist (reported without leaking anything else)."""


class Unauthenticated(Exception):
    """No key, or a key that is unknown, revoked or expired."""


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


Row = tuple[int, Mapping[str, Any]] | Quarantined


@dataclass(frozen=True)
class Notice:
    """A notice of listing: the grounds, when the listing takes effect, and how to object."""

    list_id: str
    title: str
    subject: str
    noticed_on: dt.date
    takes_effect_on: dt.date
    status: str
    grounds: list[tuple[str, str, dt.date, str | None]]  # record id, item title, occurred, evidence
    how_to_object: str
    legal_basis: str | None


@dataclass(frozen=True)
class SourceAccuracy:
    """A data source's public accuracy figure."""

    source: str
    records: int
    overturned: int
    overturned_share: float
    median_days_to_correct: float | None


@dataclass(frozen=True)
class RegisterResult:
    """Subjects submitted = added + updated + unchanged + quarantined."""

    submitted: int
    added: int
    updated: int
    unchanged: int
    quarantined: int
    quarantine: tuple[Quarantined, ...] = ()


class System:
    """One installation: a store and the schemes in force."""

    def __init__(
        self,
        store: Store,
        registry: Registry,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
        holidays: frozenset[dt.date] = frozenset(),
    ) -> None:
        self.store = store
        self.registry = registry
        self.clock = clock
        self.holidays = holidays
        self._scan_cache: tuple[object, list[SubjectSummary]] | None = None

    # ------------------------------------------------------------------ ingestion

    def ingest(
        self,
        rows: Iterable[Row],
        *,
        origin: str,
        principal: access.Principal,
        chunk_size: int = 20_000,
        progress: Callable[[int], None] | None = None,
    ) -> IngestResult:
        """Validate, deduplicate, chain and store a batch. Each chunk commits on its own, so a
        crash loses at most the chunk in flight, and re-submitting the same file afterwards
        finds the committed rows as duplicates."""
        if principal.role not in ("agency", "operator"):
            raise access.AccessDenied("only agencies and operators submit records")
        source = principal.principal if principal.role == "agency" else None
        now = self.clock()
        batch_id = secrets.token_hex(8)
        self.store.begin_batch(
            batch_id=batch_id, origin=origin, source=source, submitted_by=principal.key_id, at=now
        )
        totals = Counter[str]()
        sample: list[Quarantined] = []
        for chunk in _chunks(rows, chunk_size):
            good: list[Record] = []
            numbers: list[int] = []
            raws: list[Mapping[str, Any]] = []
            bad: list[Quarantined] = []
            for row in chunk:
                if isinstance(row, Quarantined):
                    bad.append(row)
                    continue
                n, raw = row
                try:
                    good.append(ledger.validate_row(raw, registry=self.registry, now=now, source=source))
                    numbers.append(n)
                    raws.append(raw)
                except ledger.RowError as exc:
                    bad.append(Quarantined(n, raw, exc.reasons))
            out = self.store.append_chunk(
                batch_id=batch_id,
                submitted=len(chunk),
                records=good,
                quarantined=bad,
                row_numbers=numbers,
                raws=raws,
                received_at=now,
                may_correct_any=principal.role == "operator",
            )
            totals.update(
                submitted=len(chunk),
                accepted=out.accepted,
                duplicate=out.duplicate,
                quarantined=len(out.quarantined),
            )
            if len(sample) < 100:
                sample.extend(out.quarantined[: 100 - len(sample)])
            if progress is not None:
                progress(len(chunk))
        return IngestResult(
            batch_id,
            totals["submitted"],
            totals["accepted"],
            totals["duplicate"],
            totals["quarantined"],
            tuple(sorted(sample, key=lambda q: q.row_number)),
        )

    def register(self, subjects: Iterable[SubjectRow]) -> tuple[int, int, int]:
        """Register already-validated subjects: (added, updated, unchanged)."""
        return self.store.upsert_subjects(list(subjects), self.clock())

    def register_rows(self, rows: Iterable[Row], *, principal: access.Principal) -> RegisterResult:
        """Register submitted subject rows (operators only); each row is added, updated,
        unchanged, or quarantined with the reasons."""
        access.require(principal.role == "operator", "register subjects")
        good: list[SubjectRow] = []
        bad: list[Quarantined] = []
        n_rows = 0
        for row in rows:
            n_rows += 1
            if isinstance(row, Quarantined):
                bad.append(row)
                continue
            n, raw = row
            try:
                good.append(validate_subject(raw))
            except ledger.RowError as exc:
                bad.append(Quarantined(n, raw, exc.reasons))
        added, updated, unchanged = self.register(good)
        return RegisterResult(n_rows, added, updated, unchanged, len(bad), tuple(bad[:100]))

    # ------------------------------------------------------------------ views

    def view(self, code: str, as_of: dt.datetime | None = None) -> SubjectView:
        """Scores under every scored scheme and every list entry of ``code`` at ``as_of``."""
        c = codes.validate(code)
        at = as_of or self.clock()
        records = [r for r in ledger.effective(self.store.records_for(c.value), at) if r.subject == c.value]
        represented: dict[str, list[Record]] = {}
        if c.kind == "person":
            for org in self.store.represented_by(c.value):
                represented[org] = [
                    r for r in ledger.effective(self.store.records_for(org), at) if r.subject == org
                ]
        scores = {s.id: score_points(c.value, records, s, at) for s in self.registry.scored()}
        entries = entries_for(
            c.value, records, self.registry, at, represented=represented, holidays=self.holidays
        )
        objections = [o for code in (c.value, *represented) for o in self._objections_of(code, at)]
        entries = apply_suspensions(entries, objections, self.registry)
        return SubjectView(c.value, c.kind, at, self.store.subject(c.value), records, scores, entries)

    def read(
        self, code: str, principal: access.Principal, *, purpose: str, as_of: dt.datetime | None = None
    ) -> SubjectView:
        """A subject's record for someone allowed to see it, audited before it is returned."""
        c = codes.validate(code)
        access.require(access.may_read_subject(principal, c.value), "read this subject's record")
        view = self.view(c.value, as_of)
        self._audit(
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
        """The relying party's question, answered and audited."""
        measure = self.registry.measure(measure_id)
        if measure is None:
            raise NotFound(f"measure: no measure {measure_id!r}")
        access.require(access.may_ask(principal, measure), f"ask about measure {measure_id}")
        c = codes.validate(code)
        view = self.view(c.value, at)
        decision = decide(
            subject=c.value,
            subject_kind=c.kind,
            measure=measure,
            entries=view.entries,
            scores=view.scores,
            at=view.as_of,
        )
        self._audit(
            principal,
            "decision",
            subject=c.value,
            measure=measure.id,
            purpose=purpose,
            answer=decision.answer,
            detail={
                "reasons": [r.text for r in decision.reasons],
                "grounds": sorted({g for r in decision.reasons for g in r.grounds}),
            },
        )
        return decision

    def _audit(self, principal: access.Principal, action: str, **fields: Any) -> None:
        self.store.append_audit(
            [
                {
                    "at": self.clock(),
                    "key_id": principal.key_id,
                    "role": principal.role,
                    "principal": principal.principal,
                    "action": action,
                    **fields,
                }
            ]
        )

    def audit_log(
        self,
        principal: access.Principal,
        *,
        subject: str | None = None,
        limit: int = 100,
        before: int | None = None,
    ) -> list[dict[str, Any]]:
        """The audit log for auditors; a subject sees the entries about itself."""
        if principal.role == "subject":
            subject = principal.principal
        else:
            access.require(access.may_read_audit(principal), "read the audit log")
        return self.store.audit_entries(subject=subject, limit=limit, before=before)

    # ------------------------------------------------------------------ population

    def scan(
        self, as_of: dt.datetime | None = None, progress: Callable[[int], None] | None = None
    ) -> list[SubjectSummary]:
        """Every subject's scores and list entries at ``as_of``: the population path, mapping the
        same scoring and list functions as :meth:`view` over all subjects, streamed from the store.
        The last scan is cached per (ledger, cases, minute) so public pages do not rescan on every
        request; any new record or case event invalidates it."""
        at = as_of or self.clock()
        key = (self.store.head("records"), self.store.head("cases"), at.replace(second=0))
        if self._scan_cache is not None and self._scan_cache[0] == key:
            return self._scan_cache[1]
        superseded = self.store.superseded_ids()
        reps = self.store.representatives()  # organisation -> person
        orgs_of: dict[str, list[str]] = {}
        for o, person in reps.items():
            orgs_of.setdefault(person, []).append(o)
        registered = {row.code: row for row in self.store.subject_rows()}
        open_objections: dict[str, list[Objection]] = {}
        for case in self.cases(principal=self.operator(), open_only=True):
            if isinstance(case, Objection):
                open_objections.setdefault(case.subject, []).append(case)
        out: list[SubjectSummary] = []

        def one(code: str, recs: list[Record], represented: dict[str, list[Record]]) -> None:
            kind = codes.validate(code).kind
            scores = {s.id: score_points(code, recs, s, at) for s in self.registry.scored()}
            entries = entries_for(
                code, recs, self.registry, at, represented=represented, holidays=self.holidays
            )
            objections = [o for c in (code, *represented) for o in open_objections.get(c, [])]
            entries = apply_suspensions(entries, objections, self.registry)
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
        for code, recs in self.store.iter_by_subject():
            eff = [r for r in ledger.effective(recs, at, superseded) if r.subject == code]
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
        self._scan_cache = (key, out)
        return out

    def population(
        self, as_of: dt.datetime | None = None, progress: Callable[[int], None] | None = None
    ) -> PopulationSummary:
        """Residents' grade distribution per scheme and active list sizes, with examples."""
        at = as_of or self.clock()
        grades: dict[str, Counter[str]] = {s.id: Counter() for s in self.registry.scored()}
        lists: Counter[str] = Counter()
        examples: dict[str, list[str]] = {}
        for s in self.scan(at, progress):
            if s.kind == "person":
                for scheme_id, (_score, grade) in s.scores.items():
                    grades[scheme_id][grade] += 1
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
            len(self._scan_cache[1]) if self._scan_cache else 0,
            self.store.count_records(),
            {k: dict(sorted(v.items())) for k, v in grades.items()},
            dict(sorted(lists.items())),
            examples,
        )

    # ------------------------------------------------------------------ due process

    def _may_act_for(self, principal: access.Principal, subject: str) -> bool:
        """The subject itself, the legal representative of an organisation subject, or an operator."""
        if principal.role == "operator":
            return True
        if principal.role != "subject" or principal.principal is None:
            return False
        if principal.principal == subject:
            return True
        row = self.store.subject(subject)
        return row is not None and row.legal_representative == principal.principal

    def _deadlines(self, scheme_id: str | None) -> Deadlines:
        scheme = self.registry.schemes.get(scheme_id) if scheme_id else None
        if scheme is None:  # a record's objection: the court's rules, the strictest published ones
            return Deadlines()
        d = scheme.due_process
        return Deadlines(
            d.review_days,
            d.correction_working_days,
            d.appeal_days,
            d.appeal_decision_days,
            d.restoration_decision_working_days,
        )

    def _objections_of(self, code: str, at: dt.datetime) -> list[Objection]:
        """The subject's objections as they stood at ``at`` (events after it are not yet known)."""
        by_case: dict[str, list[CaseEvent]] = {}
        for e in self.store.case_events(subject=code, case_kind="objection"):
            if e.at <= at:
                by_case.setdefault(e.case_id, []).append(e)
        out = []
        for events in by_case.values():
            list_id = events[0].payload.get("list_id")
            out.append(
                fold_objection(
                    events, self._deadlines(list_id.split("/")[0] if list_id else None), self.holidays
                )
            )
        return out

    def _objection(self, case_id: str) -> Objection:
        events = self.store.case_events(case_id=case_id, case_kind="objection")
        if not events:
            raise NotFound(f"objection_id: no objection {case_id!r}")
        list_id = events[0].payload.get("list_id")
        return fold_objection(
            events, self._deadlines(list_id.split("/")[0] if list_id else None), self.holidays
        )

    def _restoration(self, case_id: str) -> Restoration:
        events = self.store.case_events(case_id=case_id, case_kind="restoration")
        if not events:
            raise NotFound(f"case_id: no restoration application {case_id!r}")
        return fold_restoration(events, Deadlines(), self.holidays)

    def _event(
        self,
        principal: access.Principal,
        case_id: str,
        kind: CaseKind,
        event: str,
        subject: str,
        payload: Mapping[str, Any],
    ) -> None:
        self.store.append_case_event(
            CaseEvent(
                case_id, kind, event, self.clock(), subject, principal.key_id, principal.role, dict(payload)
            )
        )

    def file_objection(
        self,
        *,
        principal: access.Principal,
        subject: str,
        record_id: str | None = None,
        list_id: str | None = None,
        statement: str,
        evidence: Sequence[str] = (),
    ) -> Objection:
        """Object to one of the subject's records or to a list entry. The deadlines start now."""
        code = codes.validate(subject).value
        access.require(self._may_act_for(principal, code), "object on behalf of this subject")
        if (record_id is None) == (list_id is None):
            raise ValueError("record_id: give either a record_id or a list_id to object to")
        statement = statement.strip()
        if not 1 <= len(statement) <= 4000:
            raise ValueError("statement: must be 1 to 4000 characters")
        evidence = [e.strip() for e in evidence if e and e.strip()]
        if len(evidence) > 20 or any(len(e) > 500 for e in evidence):
            raise ValueError("evidence: at most 20 references of at most 500 characters")
        view = self.view(code)
        stay = False
        if record_id is not None:
            if record_id not in {r.record_id for r in view.records}:
                raise NotFound(f"record_id: no record {record_id!r} in force for this subject")
            record_ids = [record_id]
            for _s, lst in self.registry.lists():
                item = next(r.item for r in view.records if r.record_id == record_id)
                if item in lst.criteria.items and lst.during_objection == "stay":
                    stay = True
        else:
            assert list_id is not None
            try:
                lst = self.registry.list_def(list_id)
            except SchemeError:
                raise NotFound(f"list_id: no list {list_id!r}") from None
            entry = next(
                (e for e in view.entries if e.qualified_id == list_id and e.status in ("active", "pending")),
                None,
            )
            if entry is None:
                raise NotFound(f"list_id: the subject has no current entry on {list_id}")
            record_ids = [g for g in entry.grounds if g in {r.record_id for r in view.records}]
            if not record_ids:  # a grade-based list: its grounds are the records that lowered the score
                scheme = self.registry.scheme(entry.scheme)
                score = view.scores.get(scheme.id)
                record_ids = [c.record_id for c in score.contributions if c.points < 0] if score else []
            stay = lst.during_objection == "stay"
        open_same = [
            o
            for o in self.cases(principal=self.operator(), subject=code, open_only=True)
            if isinstance(o, Objection) and set(o.record_ids) == set(record_ids) and o.list_id == list_id
        ]
        if open_same:
            raise ValueError(f"record_id: objection {open_same[0].id} about the same thing is still open")
        case_id = "obj-" + secrets.token_hex(6)
        self._event(
            principal,
            case_id,
            "objection",
            "filed",
            code,
            {
                "record_ids": record_ids,
                "list_id": list_id,
                "statement": statement,
                "evidence": evidence,
                "measures_stay": stay,
            },
        )
        return self._objection(case_id)

    def _correct(self, principal: access.Principal, objection: Objection, reason: str) -> list[str]:
        """Withdraw the records an upheld objection names: new records that reference them."""
        rows: list[Row] = []
        for n, rid in enumerate(objection.record_ids, start=1):
            original = self.store.record(rid)
            if original is None:
                continue
            rows.append(
                (
                    n,
                    {
                        "subject": original.subject,
                        "item": original.item,
                        "source": original.source,
                        "source_record_id": f"objection:{objection.id}:{n}",
                        "occurred_on": original.occurred_on,
                        "action": "withdraw",
                        "corrects": rid,
                        "evidence": f"objection {objection.id} upheld: {reason}"[:2000],
                    },
                )
            )
        result = self.ingest(rows, origin=f"objection {objection.id}", principal=principal)
        if result.quarantined:
            raise ValueError("; ".join(r for q in result.quarantine for r in q.reasons))
        return [
            ledger.record_id_for(r[1]["source"], r[1]["source_record_id"])
            for r in rows
            if not isinstance(r, Quarantined)
        ]

    def decide_objection(
        self, *, principal: access.Principal, objection_id: str, upheld: bool, reason: str
    ) -> Objection:
        """An operator's review. Upheld: the records are withdrawn at once, so scores, lists and
        decisions change at once."""
        access.require(principal.role == "operator", "decide objections")
        o = self._objection(objection_id)
        if o.status != "under review":
            raise ValueError(f"objection_id: objection {o.id} is {o.status}, not under review")
        if not reason.strip():
            raise ValueError("reason: a decision must give its reason")
        self._event(principal, o.id, "objection", "decided", o.subject, {"upheld": upheld, "reason": reason})
        if upheld:
            records = self._correct(principal, o, reason)
            self._event(principal, o.id, "objection", "corrected", o.subject, {"records": records})
        return self._objection(o.id)

    def appeal(self, *, principal: access.Principal, objection_id: str, statement: str) -> Objection:
        """Appeal a rejected objection within the appeal period."""
        o = self._objection(objection_id)
        access.require(self._may_act_for(principal, o.subject), "appeal for this subject")
        if o.status != "rejected":
            raise ValueError(f"objection_id: only a rejected objection can be appealed (it is {o.status})")
        assert o.appeal_until is not None
        if self.clock().date() > o.appeal_until:
            raise ValueError(f"objection_id: the appeal period ended on {o.appeal_until.isoformat()}")
        if not 1 <= len(statement.strip()) <= 4000:
            raise ValueError("statement: must be 1 to 4000 characters")
        self._event(principal, o.id, "objection", "appealed", o.subject, {"statement": statement.strip()})
        return self._objection(o.id)

    def decide_appeal(
        self, *, principal: access.Principal, objection_id: str, upheld: bool, reason: str
    ) -> Objection:
        access.require(principal.role == "operator", "decide appeals")
        o = self._objection(objection_id)
        if o.status != "under appeal":
            raise ValueError(f"objection_id: objection {o.id} is {o.status}, not under appeal")
        if not reason.strip():
            raise ValueError("reason: a decision must give its reason")
        self._event(
            principal, o.id, "objection", "appeal_decided", o.subject, {"upheld": upheld, "reason": reason}
        )
        if upheld:
            records = self._correct(principal, o, reason)
            self._event(principal, o.id, "objection", "corrected", o.subject, {"records": records})
        return self._objection(o.id)

    def apply_restoration(
        self,
        *,
        principal: access.Principal,
        subject: str,
        record_id: str,
        conduct_corrected: str,
        obligations_fulfilled: str,
        commitment: str,
    ) -> Restoration:
        """Apply to restore credit after a negative record's minimum publication period."""
        code = codes.validate(subject).value
        access.require(self._may_act_for(principal, code), "apply for restoration for this subject")
        record = next((r for r in self.view(code).records if r.record_id == record_id), None)
        if record is None:
            raise NotFound(f"record_id: no record {record_id!r} in force for this subject")
        item = self.registry.item_defs[record.item]
        if item.polarity != "negative":
            raise ValueError(f"record_id: {record.item} is not a negative record")
        for name, text in (
            ("conduct_corrected", conduct_corrected),
            ("obligations_fulfilled", obligations_fulfilled),
            ("commitment", commitment),
        ):
            if not 1 <= len(text.strip()) <= 4000:
                raise ValueError(f"{name}: required (1 to 4000 characters): the national measures ask for it")
        eligible = restoration_eligible_from(record.occurred_on, item.severity)
        if self.clock().date() < eligible:
            raise ValueError(
                f"record_id: a {item.severity} record may be restored from {eligible.isoformat()} "
                "(minimum publication period)"
            )
        if any(
            isinstance(c, Restoration) and c.record_id == record_id and c.is_open
            for c in self.cases(principal=self.operator(), subject=code)
        ):
            raise ValueError(f"record_id: an application for {record_id} is already under review")
        case_id = "res-" + secrets.token_hex(6)
        self._event(
            principal,
            case_id,
            "restoration",
            "applied",
            code,
            {
                "record_id": record_id,
                "item": record.item,
                "severity": item.severity,
                "conduct_corrected": conduct_corrected.strip(),
                "obligations_fulfilled": obligations_fulfilled.strip(),
                "commitment": commitment.strip(),
                "eligible_from": eligible.isoformat(),
            },
        )
        return self._restoration(case_id)

    def decide_restoration(
        self, *, principal: access.Principal, case_id: str, granted: bool, reason: str
    ) -> Restoration:
        """Grant (a restore record ends the record's effect from now) or refuse, with reasons."""
        access.require(principal.role == "operator", "decide restoration applications")
        c = self._restoration(case_id)
        if c.status != "under review":
            raise ValueError(f"case_id: application {c.id} is {c.status}, not under review")
        if not reason.strip():
            raise ValueError("reason: a decision must give its reason")
        record_id = None
        if granted:
            original = self.store.record(c.record_id)
            assert original is not None
            row = {
                "subject": original.subject,
                "item": original.item,
                "source": original.source,
                "source_record_id": f"restoration:{c.id}",
                "occurred_on": original.occurred_on,
                "action": "restore",
                "corrects": c.record_id,
                "evidence": f"restoration {c.id}: {reason}"[:2000],
            }
            result = self.ingest([(1, row)], origin=f"restoration {c.id}", principal=principal)
            if result.quarantined:
                raise ValueError("; ".join(r for q in result.quarantine for r in q.reasons))
            record_id = ledger.record_id_for(original.source, f"restoration:{c.id}")
        self._event(
            principal,
            c.id,
            "restoration",
            "decided",
            c.subject,
            {"granted": granted, "reason": reason, "record": record_id},
        )
        return self._restoration(c.id)

    def cases(
        self, *, principal: access.Principal, subject: str | None = None, open_only: bool = False
    ) -> list[Objection | Restoration]:
        """Objections and restoration applications: a subject's own, or all for an operator."""
        if principal.role != "operator":
            if subject is None:
                subject = principal.principal
            access.require(subject is not None and self._may_act_for(principal, subject), "see these cases")
        by_case: dict[str, list[CaseEvent]] = {}
        for e in self.store.case_events(subject=subject):
            by_case.setdefault(e.case_id, []).append(e)
        out: list[Objection | Restoration] = []
        for case_id, events in by_case.items():
            case = (
                self._objection(case_id) if events[0].case_kind == "objection" else self._restoration(case_id)
            )
            if not open_only or case.is_open:
                out.append(case)
        return out

    def overdue(self, *, principal: access.Principal) -> list[tuple[Objection | Restoration, list[str]]]:
        """Open cases past a deadline, for operators: what is late and since when."""
        access.require(principal.role == "operator", "see overdue deadlines")
        today = self.clock().date()
        return [
            (c, late) for c in self.cases(principal=principal, open_only=True) if (late := c.overdue(today))
        ]

    def notices(self, code: str, as_of: dt.datetime | None = None) -> list[Notice]:
        """The notices of listing a subject has been given (pending and past), with the grounds."""
        view = self.view(code, as_of)
        by_id = {r.record_id: r for r in view.records}
        out = []
        for e in view.entries:
            lst = self.registry.list_def(e.qualified_id)
            if not lst.notice.required:
                continue
            grounds = [by_id[g] for g in e.grounds if g in by_id]
            if not grounds and e.scheme in view.scores:
                grounds = [
                    by_id[c.record_id]
                    for c in view.scores[e.scheme].contributions
                    if c.points < 0 and c.record_id in by_id
                ]
            out.append(
                Notice(
                    list_id=e.qualified_id,
                    title=e.title,
                    subject=view.code,
                    noticed_on=e.noticed_on,
                    takes_effect_on=e.since,
                    status=e.status,
                    grounds=[
                        (r.record_id, self.registry.item_defs[r.item].title, r.occurred_on, r.evidence)
                        for r in grounds
                    ],
                    how_to_object=(
                        f"Object before {e.since.isoformat()} (file an objection to the entry or to any "
                        f"record named here, with your statement and evidence); it is reviewed within "
                        f"{self.registry.scheme(e.scheme).due_process.review_days} days."
                    ),
                    legal_basis=e.legal_basis,
                )
            )
        return out

    def pending_notices(self, *, principal: access.Principal) -> list[Notice]:
        """Listings noticed but not yet in effect, across subjects (operators)."""
        access.require(principal.role == "operator", "see pending notices")
        out: list[Notice] = []
        longest = max(
            (lst.notice.days for _s, lst in self.registry.lists() if lst.notice.required), default=0
        )
        if longest == 0:
            return []
        since = self.clock() - dt.timedelta(days=longest + 1)
        for code in self.store.subjects_reported_since(since):
            out.extend(n for n in self.notices(code) if n.status == "pending")
        return out

    def source_accuracy(self) -> list[SourceAccuracy]:
        """Rate the raters: each source's share of records overturned on objection, and its median
        days from objection to correction. Public."""
        reports = self.store.records_by_source()
        overturned: dict[str, int] = {}
        days: dict[str, list[float]] = {}
        for case in self.cases(principal=self.operator()):
            if isinstance(case, Objection) and case.corrected_at is not None:
                for rid in case.record_ids:
                    rec = self.store.record(rid)
                    if rec is None:
                        continue
                    overturned[rec.source] = overturned.get(rec.source, 0) + 1
                    days.setdefault(rec.source, []).append(
                        (case.corrected_at - case.filed_at).total_seconds() / 86400
                    )
        out = []
        for source in sorted(set(reports) | set(overturned)):
            n = reports.get(source, 0)
            k = overturned.get(source, 0)
            d = sorted(days.get(source, []))
            median = (
                (d[len(d) // 2] if len(d) % 2 else (d[len(d) // 2 - 1] + d[len(d) // 2]) / 2) if d else None
            )
            out.append(SourceAccuracy(source, n, k, k / n if n else 0.0, median))
        return out

    # ------------------------------------------------------------------ disclosure

    def public_list(self, list_id: str, as_of: dt.datetime | None = None) -> list[dict[str, Any]]:
        """The entries in force on a list, with exactly the fields the list publishes and nothing
        more (the court's rules: name, sex, age, masked ID number or the organisation's code and
        legal representative, obligation, performance, conduct, case number, court). Entries
        suspended by an open objection are not published; a representative listed through an
        organisation appears on the organisation's row, not as a row of their own."""
        try:
            lst = self.registry.list_def(list_id)
        except SchemeError:
            raise NotFound(f"list_id: no list {list_id!r}") from None
        at = as_of or self.clock()
        rows = []
        for s in self.scan(at):
            for e in s.entries:
                if e.qualified_id != list_id or e.status != "active" or e.suspended_by or e.via:
                    continue
                rows.append(self._published(s, e, lst.published_fields, at))
        return rows

    def _published(
        self, s: SubjectSummary, e: ListEntry, fields: Sequence[str], at: dt.datetime
    ) -> dict[str, Any]:
        grounds = [r for r in s.records if r.record_id in set(e.grounds)]
        details: dict[str, Any] = {}
        for r in grounds:
            for k, v in r.details.items():
                details.setdefault(k, v)
        name = s.row.name if s.row else None
        rep = s.row.legal_representative if s.row else None
        rep_row = self.store.subject(rep) if rep else None
        values: dict[str, Any] = {
            "name": name,
            "sex": ((s.row.sex if s.row else None) or codes.sex(s.code)) if s.kind == "person" else None,
            "age": _age(codes.birth_date(s.code), at.date()) if s.kind == "person" else None,
            "id_number_masked": codes.mask(s.code) if s.kind == "person" else s.code,
            "code": s.code if s.kind == "organisation" else codes.mask(s.code),
            "legal_representative": (
                (rep_row.name if rep_row and rep_row.name else "") + f" ({codes.mask(rep)})"
            ).strip()
            if rep
            else None,
            "obligation": details.get("obligation"),
            "performance": details.get("performance"),
            "conduct": "; ".join(sorted({self.registry.item_defs[r.item].title for r in grounds})) or None,
            "case_number": details.get("case_number"),
            "court": details.get("court"),
            "grade": s.scores.get(e.scheme, (None, None))[1],
            "district": s.row.district if s.row else None,
        }
        return {f: values.get(f) for f in fields}

    def public_lookup(self, code: str) -> dict[str, Any]:
        """What the public may see of a subject by code: for a kind the schemes open to lookup
        (organisations by default, as Credit China shows them), its records and current list
        entries; persons' records and scores stay private to them and authorised parties."""
        c = codes.validate(code)
        open_kinds = {k for s in self.registry.schemes.values() for k in s.public_lookup}
        if c.kind not in open_kinds:
            raise access.AccessDenied(f"look up a {c.kind}'s record: the schemes in force keep it private")
        view = self.view(c.value)
        scored = [s for s in self.registry.scored() if c.kind in s.public_lookup]
        return {
            "code": c.value,
            "kind": c.kind,
            "name": view.subject.name if view.subject else None,
            "records": [
                {
                    "item": r.item,
                    "title": self.registry.item_defs[r.item].title,
                    "occurred_on": r.occurred_on,
                    "source": r.source,
                }
                for r in view.records
            ],
            "lists": [
                {"list": e.qualified_id, "title": e.title, "since": e.since, "planned_end": e.planned_end}
                for e in view.entries
                if e.status == "active" and not e.suspended_by
            ],
            "scores": {
                s.id: {"score": view.scores[s.id].score, "grade": view.scores[s.id].grade} for s in scored
            },
        }

    def transparency(self, as_of: dt.datetime | None = None) -> dict[str, Any]:
        """The public transparency report: list sizes, measures applied, objections and their
        outcomes, resolution times, source accuracy, and score distributions by district and age
        band (so gaps between groups are visible)."""
        at = as_of or self.clock()
        scan = self.scan(at)
        list_sizes: Counter[str] = Counter()
        by_district: dict[str, dict[str, list[int]]] = {}
        by_age: dict[str, dict[str, list[int]]] = {}
        for s in scan:
            for e in s.entries:
                if e.status == "active" and not e.suspended_by:
                    list_sizes[e.qualified_id] += 1
            if s.kind != "person":
                continue
            district = (s.row.district if s.row else None) or "unknown"
            band = _age_band(_age(codes.birth_date(s.code), at.date()))
            for scheme_id, (score, _g) in s.scores.items():
                by_district.setdefault(scheme_id, {}).setdefault(district, []).append(score)
                by_age.setdefault(scheme_id, {}).setdefault(band, []).append(score)
        cases = self.cases(principal=self.operator())
        objections = [c for c in cases if isinstance(c, Objection)]
        resolved = sorted(
            (c.decided_at - c.filed_at).total_seconds() / 86400 for c in objections if c.decided_at
        )
        today = at.date()

        def summary(groups: dict[str, list[int]]) -> dict[str, dict[str, float]]:
            return {
                g: {"subjects": len(v), "mean": round(sum(v) / len(v), 1)} for g, v in sorted(groups.items())
            }

        return {
            "as_of": at,
            "subjects": len(scan),
            "records": self.store.count_records(),
            "lists": dict(sorted(list_sizes.items())),
            "measures_applied": self.store.decision_counts(),
            "objections": {
                "filed": len(objections),
                "upheld": sum(1 for c in objections if c.status == "corrected" or c.status == "upheld"),
                "rejected": sum(1 for c in objections if c.status in ("rejected", "closed")),
                "open": sum(1 for c in objections if c.is_open),
                "overdue": sum(1 for c in objections if c.overdue(today)),
                "median_days_to_decide": _median(resolved),
            },
            "restorations": {
                "applied": sum(1 for c in cases if isinstance(c, Restoration)),
                "granted": sum(1 for c in cases if isinstance(c, Restoration) and c.status == "granted"),
            },
            "source_accuracy": [a.__dict__ for a in self.source_accuracy()],
            "scores_by_district": {k: summary(v) for k, v in by_district.items()},
            "scores_by_age_band": {k: summary(v) for k, v in by_age.items()},
        }

    # ------------------------------------------------------------------ integrity

    def verify(self) -> dict[str, list[ledger.ChainProblem]]:
        return {
            "records": self.store.verify_records(),
            "audit": self.store.verify_audit(),
            "cases": self.store.verify_cases(),
        }

    # ------------------------------------------------------------------ keys

    def create_key(
        self,
        role: access.Role,
        principal: str | None,
        *,
        name: str = "",
        expires_at: dt.datetime | None = None,
    ) -> access.NewKey:
        key = access.new_key(role, principal, name=name, now=self.clock(), expires_at=expires_at)
        self.store.add_key(
            StoredKey(
                key.key_id,
                key.token_hash,
                key.role,
                key.principal,
                key.name,
                key.created_at,
                key.expires_at,
                None,
            )
        )
        return key

    def authenticate(self, token: str | None) -> access.Principal:
        """The principal of a presented token, or :class:`Unauthenticated`."""
        if not token:
            raise Unauthenticated("no API key given")
        key_id = access.split_token(token)
        stored = self.store.key(key_id) if key_id else None
        if stored is None or not access.tokens_match(token, stored.token_hash):
            raise Unauthenticated("unknown API key")
        now = self.clock()
        if stored.revoked_at is not None:
            raise Unauthenticated("this API key was revoked")
        if stored.expires_at is not None and stored.expires_at <= now:
            raise Unauthenticated("this API key has expired")
        role: access.Role = stored.role  # type: ignore[assignment]
        return access.Principal(stored.key_id, role, stored.principal, stored.name)

    def operator(self) -> access.Principal:
        """The principal of a local command-line user, who owns the installation."""
        return access.Principal("local", "operator", None, "command line")


def _age(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _age_band(age: int) -> str:
    for upper, label in ((25, "18-24"), (35, "25-34"), (45, "35-44"), (55, "45-54"), (65, "55-64")):
        if age < upper:
            return label if age >= 18 else "under 18"
    return "65+"


def _median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    v = sorted(values)
    mid = len(v) // 2
    return v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2


def _chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for r in rows:
        chunk.append(r)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
