"""Population scans and disclosure: the grade distribution, public lists with exactly their
published fields, public lookups where a scheme allows them, the sources' accuracy and the
transparency report."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from socialcredit import access, codes, fairness, ledger
from socialcredit.dueprocess.cases import (
    Objection,
    Restoration,
)
from socialcredit.dueprocess.suspension import apply_suspensions
from socialcredit.errors import NotPublic
from socialcredit.i18n import N_
from socialcredit.ledger import Record
from socialcredit.lists import ListEntry, entries_for
from socialcredit.rules.days import day_of
from socialcredit.schemes.loader import SchemeError
from socialcredit.scoring import scores_for
from socialcredit.service.casefiles import CaseFiles, NotFound
from socialcredit.service.context import Context, operator
from socialcredit.service.decisions import Decisions
from socialcredit.service.enrolments import consented
from socialcredit.service.publiclists import PER_PAGE, ListCensus, PublicPage, census, search_page
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
class SourceAccuracy:
    """A data source's public accuracy figure."""

    source: str
    records: int
    overturned: int
    overturned_share: float
    median_days_to_correct: float | None
    removals: int = 0
    """List entries its records removed (each once: not again through a representative)."""
    removed_late: int = 0
    """Of those, removals it reported after they were due (``ListEntry.days_late``)."""
    median_days_late: float | None = None
    """The median days late of those late removals (None: none late)."""


@dataclass(frozen=True)
class PopulationSummary:
    as_of: dt.datetime
    subjects: int
    records: int
    grades: dict[str, dict[str, int]]
    lists: dict[str, int]
    examples: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class LateRemoval:
    """A listing whose removal was reported after it was due: its removal ground (the record of
    a removal item, reported by ``source``) occurred on ``occurred_on``, so the entry had to be off
    the list by ``removal_due`` (the list's working days after that, SPC Art. 10: 3), but the
    record came on ``ended_on``. The system removes an entry the moment the record arrives, so
    the lateness is the source's: shown on the operator desk, in ``cases overdue`` and in the
    source's accuracy figures."""

    list_id: str
    title: str
    subject: str
    occurred_on: dt.date | None
    removal_due: dt.date
    ended_on: dt.date
    days_late: int
    record_id: str
    item: str | None
    source: str | None

    @property
    def late(self) -> list[str]:
        """What is late, in the words ``cases overdue`` uses for a case."""
        ground = (
            N_("{item} of {day}", item=self.item, day=self.occurred_on)
            if self.item
            else N_("its removal ground")
        )
        return [
            N_(
                "removal due by {due} ({ground}), reported by {source} on {day}: {days} days late",
                due=self.removal_due,
                ground=ground,
                source=self.source or N_("its source"),
                day=self.ended_on,
                days=self.days_late,
            )
        ]

    def as_dict(self) -> dict[str, Any]:
        """As ``GET /overdue`` and ``cases overdue --json`` list it, beside the late cases (dates
        as ISO text)."""
        fields = {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in asdict(self).items()}
        return {"kind": "late removal", **fields, "late": self.late}


class Disclosure:
    """Population-wide services, over the case files (open objections suspend measures; the
    cases' outcomes are reported) and the subjects' views (a rescan recomputes the touched ones
    through them). The last scan is kept here."""

    def __init__(self, context: Context, *, casefiles: CaseFiles, decisions: Decisions) -> None:
        self.context = context
        self.casefiles = casefiles
        self.decisions = decisions
        self._scan_cache: tuple[tuple[tuple[int, int], dt.date], list[SubjectSummary]] | None = None

    def late_removals(
        self, *, principal: access.Principal, as_of: dt.datetime | None = None
    ) -> list[LateRemoval]:
        """Every list entry removed later than it was due (operators): the removal record came
        after the deadline counted from the removal ground's own date (``ListEntry.days_late``)."""
        access.require(principal.role == "operator", "see late removals")
        out = []
        for s, e, r in self._removals(as_of or self.context.clock()):
            if e.days_late and e.removal_due is not None and e.ended_on is not None:
                out.append(
                    LateRemoval(
                        e.qualified_id,
                        e.title,
                        s.code,
                        r.occurred_on if r else None,
                        e.removal_due,
                        e.ended_on,
                        e.days_late,
                        e.ended_by or "",
                        r.item if r else None,
                        r.source if r else None,
                    )
                )
        return sorted(out, key=lambda x: (x.removal_due, x.list_id, x.subject))

    def _removals(self, at: dt.datetime) -> list[tuple[SubjectSummary, ListEntry, Record | None]]:
        """Each entry a record removed, with that record, once (not again through a representative)."""
        out: list[tuple[SubjectSummary, ListEntry, Record | None]] = []
        for s in self.scan(at):
            by_id = {r.record_id: r for r in s.records}
            out.extend((s, e, by_id.get(e.ended_by)) for e in s.entries if e.ended_by and not e.via)
        return out

    def source_accuracy(self) -> list[SourceAccuracy]:
        """Rate the raters: each source's share of records overturned on objection, its median
        days from objection to correction, and the removals it reported: how many, how many late,
        and the median days late of those (a removal reported after its deadline, SPC Art. 10).
        Public."""
        store = self.context.store
        reports = store.records_by_source()
        overturned: Counter[str] = Counter()
        days: dict[str, list[float]] = {}
        for case in self.casefiles.cases(principal=operator()):
            # a review set aside a listing by rule, not a source's error: not counted
            if isinstance(case, Objection) and case.kind == "objection" and case.corrected_at is not None:
                for rid in case.record_ids:
                    rec = store.record(rid)
                    if rec is None:
                        continue
                    overturned[rec.source] += 1
                    days.setdefault(rec.source, []).append(
                        (case.corrected_at - case.filed_at).total_seconds() / 86400
                    )
        removals: Counter[str] = Counter()
        late: dict[str, list[float]] = {}
        for _s, e, r in self._removals(self.context.clock()):
            if r is not None:
                removals[r.source] += 1
                if e.days_late:
                    late.setdefault(r.source, []).append(float(e.days_late))
        out = []
        for source in sorted(set(reports) | set(overturned)):
            n, k = reports.get(source, 0), overturned[source]
            out.append(
                SourceAccuracy(
                    source,
                    n,
                    k,
                    k / n if n else 0.0,
                    _median(days.get(source, [])),
                    removals=removals[source],
                    removed_late=len(late.get(source, [])),
                    median_days_late=_median(late.get(source, [])),
                )
            )
        return out

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
        :meth:`scan`, and not cached, since it answers for a past moment, not for now."""
        seen = {code for code, _recs in self.context.store.iter_by_subject()}
        seen |= {row.code for row in self.context.store.subject_rows()}
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
        self, as_of: dt.datetime | None = None, progress: Callable[[int], None] | None = None
    ) -> PopulationSummary:
        """Grade distribution per scheme (residents', or organisations' for a scheme that rates only
        organisations) and active list sizes, with examples."""
        at = as_of or self.context.clock()
        by_kind: dict[str, dict[str, Counter[str]]] = {
            "person": {s.id: Counter() for s in self.context.registry.scored()},
            "organisation": {s.id: Counter() for s in self.context.registry.scored()},
        }
        lists: Counter[str] = Counter()
        examples: dict[str, list[str]] = {}
        for s in self.scan(at, progress):
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
            len(self._scan_cache[1]) if self._scan_cache else 0,
            self.context.store.count_records(),
            {
                k: dict(sorted((v or by_kind["organisation"][k]).items()))
                for k, v in by_kind["person"].items()
            },
            dict(sorted(lists.items())),
            examples,
        )

    def public_list(
        self, list_id: str, as_of: dt.datetime | None = None, known_at: dt.datetime | None = None
    ) -> list[dict[str, Any]]:
        """The entries in force on a list, with exactly the fields the list publishes and nothing
        more (the court's rules: name, sex, age, masked ID number or the organisation's code and
        legal representative, obligation, performance, conduct, case number, court). Entries
        suspended by an open objection are not published; a representative listed through an
        organisation appears on the organisation's row, not as a row of their own; a list that
        names only with consent leaves out who has not consented. With ``known_at``, the list as it
        stood at ``as_of`` from what the system had received by then (:meth:`known_scan`): what was
        published then, not what is known now about then. In a stable order: by the published
        fields, as read (name first where a list publishes it)."""
        return [row for _kind, row in self.public_entries(list_id, as_of, known_at)]

    def public_entries(
        self, list_id: str, as_of: dt.datetime | None = None, known_at: dt.datetime | None = None
    ) -> list[tuple[codes.SubjectKind, dict[str, Any]]]:
        """:meth:`public_list`'s rows, each with the kind of its subject (which is not itself
        published: the portal's download leaves persons out, decision 0039)."""
        try:
            lst = self.context.registry.list_def(list_id)
        except SchemeError:
            raise NotFound(N_("no list {list_id!r}", list_id=list_id), field="list_id") from None
        at = as_of or self.context.clock()
        rows = []
        for s in self.scan(at) if known_at is None else self.known_scan(at, known_at):
            for e in s.entries:
                if e.qualified_id != list_id or e.status != "active" or e.suspended_by or e.via:
                    continue
                if not consented(lst, s.records, at).given:  # named in public only with consent
                    continue
                rows.append((s.kind, self._published(s, e, lst.published_fields, at)))
        rows.sort(key=lambda kr: tuple("" if v is None else str(v) for v in kr[1].values()))
        return rows

    def public_page(
        self,
        list_id: str,
        *,
        search: str = "",
        page: int = 1,
        per_page: int = PER_PAGE,
        as_of: dt.datetime | None = None,
        known_at: dt.datetime | None = None,
    ) -> PublicPage:
        """One page of a public list, after a search by a fragment of any published field (a
        name, a masked ID number's visible digits, an organisation's code, a case number): a
        search never reaches further than what the list publishes, so it cannot confirm a full ID
        number. The portal, the API and the command line page alike."""
        return search_page(self.public_entries(list_id, as_of, known_at), search, page, per_page)

    def list_census(self, as_of: dt.datetime | None = None) -> dict[str, ListCensus]:
        """What each list holds, counted the ways the pages count it, so that they reconcile: the
        rows a list page publishes, the representatives listed through an organisation (on its
        row), the entries suspended while a case is open (not published), and the pending ones
        (notice given, not yet in force)."""
        lists = [f"{s.id}/{lst.id}" for s, lst in self.context.registry.lists()]
        at = as_of or self.context.clock()
        registry = self.context.registry

        def named(list_id: str, s: SubjectSummary) -> bool:
            return consented(registry.list_def(list_id), s.records, at).given

        return census(self.scan(at), lists, named)

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
        rep_row = self.context.store.subject(rep) if rep else None
        values: dict[str, Any] = {
            "name": name,
            "sex": ((s.row.sex if s.row else None) or codes.sex(s.code)) if s.kind == "person" else None,
            "age": _age(codes.birth_date(s.code), day_of(at)) if s.kind == "person" else None,
            "id_number_masked": codes.mask(s.code) if s.kind == "person" else s.code,
            "code": s.code if s.kind == "organisation" else codes.mask(s.code),
            "legal_representative": (
                (rep_row.name if rep_row and rep_row.name else "") + f" ({codes.mask(rep)})"
            ).strip()
            if rep
            else None,
            "obligation": details.get("obligation"),
            "performance": details.get("performance"),
            "conduct": "; ".join(sorted({self.context.registry.item_defs[r.item].title for r in grounds}))
            or None,
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
        open_kinds = {k for s in self.context.registry.schemes.values() for k in s.public_lookup}
        if c.kind not in open_kinds:
            raise NotPublic(
                N_("a person's record is private: only the person sees it, by logging in with their key")
                if c.kind == "person"
                else N_("an organisation's record: the schemes in force keep it private")
            )
        view = self.decisions.view(c.value)
        # a look by the public is a look too: audited (anonymously) and shown to the subject
        self.context.store.append_audit(
            [
                {
                    "at": self.context.clock(),
                    "key_id": None,
                    "role": "public",
                    "principal": None,
                    "action": "read",
                    "subject": c.value,
                    "purpose": "public lookup",
                    "answer": "shown",
                    "detail": {},
                }
            ]
        )
        scored = [s for s in self.context.registry.scored() if c.kind in s.public_lookup]
        return {
            "code": c.value,
            "kind": c.kind,
            "name": view.subject.name if view.subject else None,
            "records": [
                {
                    "item": r.item,
                    "title": self.context.registry.item_defs[r.item].title,
                    "occurred_on": r.occurred_on,
                    "source": r.source,
                }
                for r in view.records
            ],
            "lists": [
                {"list": e.qualified_id, "title": e.title, "since": e.since, "planned_end": e.planned_end}
                for e in view.entries
                if e.status == "active"
                and not e.suspended_by
                and consented(self.context.registry.list_def(e.qualified_id), view.records, view.as_of).given
            ],
            "scores": {
                s.id: {"score": view.scores[s.id].score, "grade": view.scores[s.id].grade}
                for s in scored
                if s.id in view.scores  # a model may rate one kind only (the enterprise rating)
            },
        }

    def transparency(self, as_of: dt.datetime | None = None) -> dict[str, Any]:
        """The public transparency report: list sizes, measures applied, objections and their
        outcomes, resolution times, source accuracy, and score distributions by district and age
        band (so gaps between groups are visible)."""
        at = as_of or self.context.clock()
        scan = self.scan(at)
        list_sizes: Counter[str] = Counter()
        by_district: dict[str, dict[str, list[tuple[int, str]]]] = {}
        by_age: dict[str, dict[str, list[tuple[int, str]]]] = {}
        decided = self.context.store.decisions_by_subject()
        listed_people: list[tuple[dict[str, str], int, int]] = []
        refused_people: list[tuple[dict[str, str], int, int]] = []
        for s in scan:
            active = [e for e in s.entries if e.status == "active" and not e.suspended_by]
            for e in active:
                list_sizes[e.qualified_id] += 1
            if s.kind != "person":
                continue
            district = (s.row.district if s.row else None) or "unknown"
            band = _age_band(_age(codes.birth_date(s.code), day_of(at)))
            groups = {"district": district, "age_band": band, "sex": codes.sex(s.code)}
            listed_people.append((groups, 1, 1 if active else 0))
            asked, denied = decided.get(s.code, (0, 0))
            if asked:
                refused_people.append((groups, asked, denied))
            for scheme_id, scored in s.scores.items():
                by_district.setdefault(scheme_id, {}).setdefault(district, []).append(scored)
                by_age.setdefault(scheme_id, {}).setdefault(band, []).append(scored)
        cases = self.casefiles.cases(principal=operator())
        objections = [c for c in cases if isinstance(c, Objection) and c.kind == "objection"]
        reviews = [c for c in cases if isinstance(c, Objection) and c.kind == "review"]
        resolved = sorted(
            (c.decided_at - c.filed_at).total_seconds() / 86400 for c in objections if c.decided_at
        )
        today = day_of(at)

        tiers = {
            s.id for s in self.context.registry.scored() if s.model is not None and s.model.kind == "tier"
        }

        def summary(scheme_id: str, groups: dict[str, list[tuple[int, str]]]) -> dict[str, dict[str, Any]]:
            """Each group's size, grades and mean score; no mean for a tier rating, whose score is
            a tier level (a mean of levels means nothing)."""
            return {
                g: {
                    "subjects": len(v),
                    "mean": None if scheme_id in tiers else round(sum(x for x, _ in v) / len(v), 1),
                    "grades": dict(sorted(Counter(grade for _, grade in v).items())),
                }
                for g, v in sorted(groups.items())
            }

        return {
            "as_of": at,
            "subjects": len(scan),
            "records": self.context.store.count_records(),
            "lists": dict(sorted(list_sizes.items())),
            "measures_applied": self.context.store.decision_counts(),
            "objections": {
                "filed": len(objections),
                "upheld": sum(1 for c in objections if c.status == "corrected" or c.status == "upheld"),
                "rejected": sum(1 for c in objections if c.status in ("rejected", "closed")),
                "open": sum(1 for c in objections if c.is_open),
                "overdue": sum(1 for c in objections if c.overdue(today)),
                "median_days_to_decide": _median(resolved),
            },
            "reviews": {  # human reviews of listings derived by rule
                "filed": len(reviews),
                "set_aside": sum(1 for c in reviews if c.status in ("corrected", "upheld")),
                "confirmed": sum(1 for c in reviews if c.status in ("rejected", "closed")),
                "open": sum(1 for c in reviews if c.is_open),
                "overdue": sum(1 for c in reviews if c.overdue(today)),
            },
            "restorations": {
                "applied": sum(1 for c in cases if isinstance(c, Restoration)),
                "granted": sum(1 for c in cases if isinstance(c, Restoration) and c.status == "granted"),
            },
            "source_accuracy": [a.__dict__ for a in self.source_accuracy()],
            "scores_by_district": {k: summary(k, v) for k, v in by_district.items()},
            "scores_by_age_band": {k: summary(k, v) for k, v in by_age.items()},
            "fairness": {  # each attribute on its own; formulas in fairness.py and docs/fairness.md
                "listed": fairness.by_attribute(listed_people, FAIRNESS_ATTRIBUTES),
                "refused": fairness.by_attribute(refused_people, FAIRNESS_ATTRIBUTES),
            },
        }


FAIRNESS_ATTRIBUTES = ("district", "age_band", "sex")


def _median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    v = sorted(values)
    mid = len(v) // 2
    return v[mid] if len(v) % 2 else (v[mid - 1] + v[mid]) / 2


def _age(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _age_band(age: int) -> str:
    for upper, label in ((25, "18-24"), (35, "25-34"), (45, "35-44"), (55, "45-54"), (65, "55-64")):
        if age < upper:
            return label if age >= 18 else "under 18"
    return "65+"
