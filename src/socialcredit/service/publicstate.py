"""The public state: everything the public pages show that follows the subjects (each list's
published rows, what each list holds, the transparency report's subject parts, the removals
reported late and each source's accuracy), derived once from a population scan and kept, so a
page is a read of it, never a scan (issue 20 point 6, docs/decisions/0049-public-pages-from-state.md).

Why derived whole and kept as a snapshot: a started server keeps it current as records and cases
arrive (the scan recomputes only the subjects touched since, ``service/scans.py``); a freshly
started one has no scan in memory, so it serves the last one kept in the store
(``store/snapshots.py``), labelled with the moment it describes, while it rescores.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from socialcredit import codes
from socialcredit.dueprocess.cases import Objection
from socialcredit.i18n import N_
from socialcredit.ledger import Record
from socialcredit.lists import ListEntry
from socialcredit.rules.days import day_of
from socialcredit.service import transparency
from socialcredit.service.casefiles import CaseFiles
from socialcredit.service.context import Context, operator
from socialcredit.service.enrolments import consented
from socialcredit.service.publiclists import ListCensus, census
from socialcredit.service.scans import SubjectSummary
from socialcredit.store.snapshots import Snapshot

SNAPSHOT = "public"
"""The name of the public pages' snapshot in the store."""

Key = tuple[int, int, str]
"""What a state was computed from: the record and case chains' lengths, the schemes in force."""

Rows = list[tuple[codes.SubjectKind, dict[str, Any]]]


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

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LateRemoval:
        """Back from :meth:`as_dict` (the snapshot keeps it so)."""
        day = dt.date.fromisoformat
        return cls(
            d["list_id"],
            d["title"],
            d["subject"],
            day(d["occurred_on"]) if d["occurred_on"] else None,
            day(d["removal_due"]),
            day(d["ended_on"]),
            d["days_late"],
            d["record_id"],
            d["item"],
            d["source"],
        )


@dataclass(frozen=True)
class PublicState:
    """The public pages at ``as_of``, from ``key``. ``rescore_of`` is set when the state is served
    as it was kept (not live): the moment it describes, which every page names ("as of the rescore
    of ..."); None when it is current."""

    as_of: dt.datetime
    key: Key
    lists: dict[str, Rows]
    census: dict[str, ListCensus]
    report: dict[str, Any]
    late: list[LateRemoval]
    accuracy: list[SourceAccuracy]
    pending: list[str]
    """The subjects with an entry waiting for its notice period (pending notices read them)."""
    groups: transparency.Groups = dataclasses.field(default_factory=dict)
    """Each person's groups (kept in memory only: refusals are counted under them when live)."""
    rescore_of: dt.datetime | None = None

    def kept(self) -> PublicState:
        """This state served as kept: labelled with the moment it describes."""
        return dataclasses.replace(self, rescore_of=self.as_of)

    def snapshot(self) -> Snapshot:
        """As the store keeps it."""
        payload = {
            "lists": {k: [[kind, row] for kind, row in rows] for k, rows in self.lists.items()},
            "census": {k: asdict(c) for k, c in self.census.items()},
            "report": {**self.report, "as_of": self.as_of.isoformat()},
            "late": [x.as_dict() for x in self.late],
            "accuracy": [asdict(a) for a in self.accuracy],
            "pending": self.pending,
        }
        return Snapshot(SNAPSHOT, self.as_of, self.key[0], self.key[1], self.key[2], payload)

    @classmethod
    def of_snapshot(cls, kept: Snapshot) -> PublicState:
        """A state kept in the store, labelled as kept."""
        p = kept.payload
        return cls(
            kept.as_of,
            (kept.records_head, kept.cases_head, kept.schemes),
            {k: [(kind, row) for kind, row in rows] for k, rows in p["lists"].items()},
            {k: ListCensus(**c) for k, c in p["census"].items()},
            {**p["report"], "as_of": kept.as_of},
            [LateRemoval.from_dict(x) for x in p["late"]],
            [SourceAccuracy(**a) for a in p["accuracy"]],
            list(p["pending"]),
            rescore_of=kept.as_of,
        )


def schemes_fingerprint(context: Context) -> str:
    """The schemes in force, as one hash of their files' content hashes."""
    hashes = sorted(s.content_hash for s in context.registry.schemes.values())
    return hashlib.sha256("\n".join(hashes).encode()).hexdigest()


def derive(
    context: Context, casefiles: CaseFiles, scan: Sequence[SubjectSummary], at: dt.datetime, key: Key
) -> PublicState:
    """The public state of the population ``scan`` at ``at``."""
    lists = public_rows(context, scan, at)
    registry = context.registry

    def named(list_id: str, s: SubjectSummary) -> bool:
        return consented(registry.list_def(list_id), s.records, at).given

    held = census(scan, [f"{s.id}/{lst.id}" for s, lst in registry.lists()], named)
    removed = removals(scan)
    accuracy = source_accuracy(context, casefiles, removed)
    report, groups = transparency.report(context, casefiles, scan, at, [asdict(a) for a in accuracy])
    pending = sorted({s.code for s in scan for e in s.entries if e.status == "pending"})
    return PublicState(at, key, lists, held, report, late_removals(removed), accuracy, pending, groups)


def public_rows(
    context: Context, scan: Iterable[SubjectSummary], at: dt.datetime, only: str | None = None
) -> dict[str, Rows]:
    """Each list's published rows (``only`` that list): entries in force, not suspended, the
    subject's own (a representative is on the organisation's row), named only with consent where a
    list asks it; with exactly the list's published fields, in a stable order (by those fields)."""
    registry = context.registry
    out: dict[str, Rows] = {f"{s.id}/{lst.id}": [] for s, lst in registry.lists()}
    if only is not None:
        out = {only: []}
    for s in scan:
        for e in s.entries:
            if (
                e.status != "active"
                or e.suspended_by
                or e.via
                or (only is not None and e.qualified_id != only)
            ):
                continue
            lst = registry.list_def(e.qualified_id)
            if not consented(lst, s.records, at).given:  # named in public only with consent
                continue
            out.setdefault(e.qualified_id, []).append(
                (s.kind, published(context, s, e, lst.published_fields, at))
            )
    for rows in out.values():
        rows.sort(key=lambda kr: tuple("" if v is None else str(v) for v in kr[1].values()))
    return out


def published(
    context: Context, s: SubjectSummary, e: ListEntry, fields: Sequence[str], at: dt.datetime
) -> dict[str, Any]:
    """An entry's row with exactly ``fields`` (the court's rules: name, sex, age, masked ID number
    or the organisation's code and legal representative's name, obligation, performance, conduct,
    case number, court)."""
    grounds = [r for r in s.records if r.record_id in set(e.grounds)]
    details: dict[str, Any] = {}
    for r in grounds:
        for k, v in r.details.items():
            details.setdefault(k, v)
    name = s.row.name if s.row else None
    rep = s.row.legal_representative if s.row else None
    rep_row = context.store.subject(rep) if rep else None
    values: dict[str, Any] = {
        "name": name,
        "sex": ((s.row.sex if s.row else None) or codes.sex(s.code)) if s.kind == "person" else None,
        "age": transparency.age(codes.birth_date(s.code), day_of(at)) if s.kind == "person" else None,
        "id_number_masked": codes.mask(s.code) if s.kind == "person" else s.code,
        "code": s.code if s.kind == "organisation" else codes.mask(s.code),
        # Art. 6: the legal representative's name, nothing more; their masked code only where
        # the registry holds no name, so the row still says the organisation has one
        "legal_representative": ((rep_row.name if rep_row and rep_row.name else None) or codes.mask(rep))
        if rep
        else None,
        "obligation": details.get("obligation"),
        "performance": details.get("performance"),
        "conduct": "; ".join(sorted({context.registry.item_defs[r.item].title for r in grounds})) or None,
        "case_number": details.get("case_number"),
        "court": details.get("court"),
        "grade": s.scores.get(e.scheme, (None, None))[1],
        "district": s.row.district if s.row else None,
    }
    return {f: values.get(f) for f in fields}


Removal = tuple[SubjectSummary, ListEntry, Record | None]


def removals(scan: Iterable[SubjectSummary]) -> list[Removal]:
    """Each entry a record removed, with that record, once (not again through a representative)."""
    out: list[Removal] = []
    for s in scan:
        by_id = {r.record_id: r for r in s.records}
        out.extend((s, e, by_id.get(e.ended_by)) for e in s.entries if e.ended_by and not e.via)
    return out


def late_removals(removed: Iterable[Removal]) -> list[LateRemoval]:
    """Every list entry removed later than it was due (the removal record came after the deadline
    counted from the removal ground's own date, ``ListEntry.days_late``)."""
    out = []
    for s, e, r in removed:
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


def source_accuracy(
    context: Context, casefiles: CaseFiles, removed: Iterable[Removal], known_at: dt.datetime | None = None
) -> list[SourceAccuracy]:
    """Rate the raters: each source's share of records overturned on objection, its median days
    from objection to correction, and the removals it reported: how many, how many late, and the
    median days late of those (a removal reported after its deadline, SPC Art. 10). With
    ``known_at``, as the figures stood then (records and case events known by then; ``removed``
    from a scan as known then)."""
    store = context.store
    reports = store.records_by_source(known_at)
    overturned: Counter[str] = Counter()
    days: dict[str, list[float]] = {}
    for case in casefiles.cases(principal=operator(), known_at=known_at):
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
    counted: Counter[str] = Counter()
    late: dict[str, list[float]] = {}
    for _s, e, r in removed:
        if r is not None:
            counted[r.source] += 1
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
                transparency.median(days.get(source, [])),
                removals=counted[source],
                removed_late=len(late.get(source, [])),
                median_days_late=transparency.median(late.get(source, [])),
            )
        )
    return out
