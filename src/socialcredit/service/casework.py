"""Due process as services: objections, reviews and appeals, notices and deadlines
(restoration: ``restorations.py``; who may decide: ``duties.py``; the sources' accuracy:
``disclosure.py``). Every step is a case event naming its decider; an upheld objection is new
ledger records, so scores, lists and decisions follow at once, or, for an objection to a document
wrongly linked to the subject, the end of that link (nothing erased: the link keeps its row)."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from socialcredit import access, codes, documents
from socialcredit.dueprocess import restoration, review
from socialcredit.dueprocess.cases import CaseKind, Objection
from socialcredit.errors import Conflict, Refused
from socialcredit.i18n import N_, Lines, fill, word
from socialcredit.ledger import Quarantined
from socialcredit.rules.days import day_of
from socialcredit.schemes.loader import SchemeError
from socialcredit.scoring.result import Title
from socialcredit.service.casefiles import Case, CaseFiles, NotFound
from socialcredit.service.context import Context, operator
from socialcredit.service.decisions import Decisions
from socialcredit.service.duties import Duties
from socialcredit.service.records import Records, Row


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


class Casework:
    """Objections, reviews, appeals and notices: read from the case files, checked against the
    subject's view, recorded as case events naming their decider (``Duties``), and an upheld one's
    corrections ingested as records (``Records``)."""

    def __init__(
        self,
        context: Context,
        *,
        casefiles: CaseFiles,
        decisions: Decisions,
        records: Records,
        duties: Duties,
    ) -> None:
        self.context = context
        self.casefiles = casefiles
        self.decisions = decisions
        self.records = records
        self.duties = duties
        # The subjects with a listing noticed, not yet in effect, from the public state
        # (``Disclosure.pending_subjects``, set by ``System``); without it, the subjects reported
        # to within the longest notice period are read.
        self.pending_subjects: Callable[[], Iterable[str]] | None = None

    def file_objection(
        self,
        *,
        principal: access.Principal,
        subject: str,
        record_id: str | None = None,
        list_id: str | None = None,
        document: str | None = None,
        statement: str,
        evidence: Sequence[str] = (),
    ) -> Objection:
        """Object to one of the subject's records, to a list entry, or to a document linked to
        the subject (``type:number``, e.g. ``passport:CHN:E12345678``). The deadlines start now."""
        return self._file("objection", principal, subject, record_id, list_id, statement, evidence, document)

    def file_review(
        self,
        *,
        principal: access.Principal,
        subject: str,
        list_id: str,
        statement: str,
        evidence: Sequence[str] = (),
    ) -> Objection:
        """Ask for a person to review a listing the system derived by rule (GDPR Art. 22; which
        listings: ``dueprocess.review``). Filed, suspending measures (per the list's
        ``during_objection``), decided and appealed as an objection to the listing is, within 15
        days, by an operator not involved in the subject's cases so far (``Duties``)."""
        return self._file("review", principal, subject, None, list_id, statement, evidence)

    def lists_by_rule(self) -> frozenset[str]:
        """The lists (``scheme/list``) whose entries the system derives by rule, with no decision
        by a named official, so a subject may ask for human review of them
        (``dueprocess.review``)."""
        registry = self.context.registry
        judicial = restoration.judicial_items(registry.schemes.values())
        lists = registry.lists()
        return frozenset(f"{s.id}/{x.id}" for s, x in lists if not review.decided_by_official(x, judicial))

    def _file(
        self,
        kind: CaseKind,
        principal: access.Principal,
        subject: str,
        record_id: str | None,
        list_id: str | None,
        statement: str,
        evidence: Sequence[str],
        document: str | None = None,
    ) -> Objection:
        """File an objection or a review (one path: they differ only in what may be reviewed and
        who may decide)."""
        code = codes.validate(subject).value
        what = (
            N_("object on behalf of this subject")
            if kind == "objection"
            else N_("ask for a review on behalf of this subject")
        )
        access.require(self.casefiles.may_act_for(principal, code), what)
        if [record_id, list_id, document].count(None) != 2:
            raise Refused(
                N_("give either a record_id or a list_id (or a linked document) to object to"),
                field="record_id",
            )
        statement = statement.strip()
        if not 1 <= len(statement) <= 4000:
            raise Refused(N_("must be 1 to 4000 characters"), field="statement")
        evidence = [e.strip() for e in evidence if e and e.strip()]
        if len(evidence) > 20 or any(len(e) > 500 for e in evidence):
            raise Refused(N_("at most 20 references of at most 500 characters"), field="evidence")
        registry = self.context.registry
        view = self.decisions.view(code)
        stay = False
        extra: dict[str, str | None] = {}
        record_ids: list[str] = []
        if document is not None:
            key = str(documents.parse(document))
            if self.context.store.document_subject(key) != code:
                raise NotFound(N_("the document is not linked to this subject now"), field="document")
            extra = {"document": key}
        elif record_id is not None:
            if record_id not in {r.record_id for r in view.records}:
                raise NotFound(
                    N_("no record {record_id!r} in force for this subject", record_id=record_id),
                    field="record_id",
                )
            record_ids = [record_id]
            for _s, lst in registry.lists():
                item = next(r.item for r in view.records if r.record_id == record_id)
                if item in lst.qualifying_items and lst.during_objection == "stay":
                    stay = True
        else:
            assert list_id is not None
            try:
                lst = registry.list_def(list_id)
            except SchemeError:
                raise NotFound(N_("no list {list_id!r}", list_id=list_id), field="list_id") from None
            entry = next(
                (e for e in view.entries if e.qualified_id == list_id and e.status in ("active", "pending")),
                None,
            )
            if entry is None:
                raise NotFound(
                    N_("the subject has no current entry on {list_id}", list_id=list_id), field="list_id"
                )
            if kind == "review":
                judicial = restoration.judicial_items(registry.schemes.values())
                why = review.refusal(lst, list_id, judicial)
                if why is not None:
                    raise Refused(why, field="list_id")
                extra = {"via": entry.via, "since": entry.since.isoformat()}
            record_ids = [g for g in entry.grounds if g in {r.record_id for r in view.records}]
            if not record_ids:  # a grade-based list: its grounds are the records that lowered the score
                scheme = registry.scheme(entry.scheme)
                score = view.scores.get(scheme.id)
                record_ids = [c.record_id for c in score.contributions if c.points < 0] if score else []
            stay = lst.during_objection == "stay"
        open_same = [
            o
            for o in self.casefiles.cases(principal=operator(), subject=code, open_only=True)
            if isinstance(o, Objection)
            and o.kind == kind
            and set(o.record_ids) == set(record_ids)
            and o.list_id == list_id
            and o.document == extra.get("document")
        ]
        if open_same:
            field = "document" if document else "record_id" if list_id is None else "list_id"
            raise Conflict(
                N_(
                    "{kind} {case_id} about the same thing is still open",
                    kind=word(kind),
                    case_id=open_same[0].id,
                ),
                field=field,
            )
        case_id = ("obj-" if kind == "objection" else "rev-") + secrets.token_hex(6)
        self.duties.append_event(
            principal,
            case_id,
            kind,
            "filed",
            code,
            {
                "record_ids": record_ids,
                "list_id": list_id,
                "statement": statement,
                "evidence": evidence,
                "measures_stay": stay,
                **extra,
            },
        )
        return self.casefiles.objection(case_id)

    def _carry_out(self, principal: access.Principal, o: Objection, reason: str) -> None:
        """What an upheld objection changes, as its ``corrected`` event: the records it names
        withdrawn, or the document link it names ended."""
        if o.document is not None:
            self.context.store.unlink_document(o.subject, o.document, o.id, self.context.clock())
            payload: dict[str, object] = {"records": [], "document": o.document}
        else:
            payload = {"records": self._correct(principal, o, reason)}
        self.duties.append_event(principal, o.id, o.kind, "corrected", o.subject, payload)

    def _correct(self, principal: access.Principal, objection: Objection, reason: str) -> list[str]:
        """Withdraw the records an upheld objection names: new records that reference them."""
        rows: list[Row] = []
        for n, rid in enumerate(objection.record_ids, start=1):
            original = self.context.store.record(rid)
            if original is None:
                continue
            rows.append(
                (
                    n,
                    {
                        "subject": original.subject,
                        "item": original.item,
                        "source": original.source,
                        "source_record_id": f"{objection.kind}:{objection.id}:{n}",
                        "occurred_on": original.occurred_on,
                        "action": "withdraw",
                        "corrects": rid,
                        "evidence": f"{objection.kind} {objection.id} upheld: {reason}"[:2000],
                    },
                )
            )
        result = self.records.ingest(rows, origin=f"{objection.kind} {objection.id}", principal=principal)
        if result.quarantined:  # built from stored records: only schemes changed since refuse them
            raise Conflict(Lines((r for q in result.quarantine for r in q.reasons), "; "))
        return [
            self.context.store.stored_record_id(r[1]["source"], r[1]["source_record_id"])
            for r in rows
            if not isinstance(r, Quarantined)
        ]

    def decide_objection(
        self, *, principal: access.Principal, objection_id: str, upheld: bool, reason: str
    ) -> Objection:
        """An operator's review of an objection, or a human review of a listing (by an operator
        not involved so far). Upheld: the records named are withdrawn at once, so scores, lists
        and decisions change at once."""
        access.require(principal.role == "operator", N_("decide objections"))
        o = self.casefiles.objection(objection_id)
        if o.status != "under review":
            raise _wrong_state(o, N_("{kind} {case_id} is {status}, not under review"))
        if o.kind == "review":
            self.duties.require_uninvolved(principal, o)
        if not reason.strip():
            raise Refused(N_("a decision must give its reason"), field="reason")
        self.duties.append_event(
            principal, o.id, o.kind, "decided", o.subject, {"upheld": upheld, "reason": reason}
        )
        if upheld:
            self._carry_out(principal, o, reason)
        self.duties.audit_decision(principal, o.id, o.kind, o.subject, upheld=upheld, step="decision")
        return self.casefiles.objection(o.id)

    def appeal(
        self,
        *,
        principal: access.Principal,
        objection_id: str,
        statement: str,
        kind: CaseKind | None = None,
    ) -> Objection:
        """Appeal a rejected objection (or review) within the appeal period; ``kind``, if given,
        is the kind of case the caller means (another is not found)."""
        o = self.casefiles.objection(objection_id)
        if kind is not None and o.kind != kind:
            raise NotFound(
                N_("no {kind} {case_id!r}", kind=word(kind), case_id=objection_id), field=f"{kind}_id"
            )
        access.require(self.casefiles.may_act_for(principal, o.subject), N_("appeal for this subject"))
        if o.status != "rejected":
            raise Conflict(
                N_(
                    "only a rejected objection or review can be appealed (it is {status})",
                    status=word(o.status),
                ),
                field="objection_id",
            )
        assert o.appeal_until is not None
        if day_of(self.context.clock()) > o.appeal_until:
            raise Conflict(
                N_("the appeal period ended on {day}", day=o.appeal_until.isoformat()), field="objection_id"
            )
        if not 1 <= len(statement.strip()) <= 4000:
            raise Refused(N_("must be 1 to 4000 characters"), field="statement")
        self.duties.append_event(
            principal, o.id, o.kind, "appealed", o.subject, {"statement": statement.strip()}
        )
        return self.casefiles.objection(o.id)

    def decide_appeal(
        self, *, principal: access.Principal, objection_id: str, upheld: bool, reason: str
    ) -> Objection:
        """An operator's decision on an appeal, by someone other than the objection's decider
        (``Duties.require_appeal_decider``). Upheld: the records are withdrawn at once."""
        access.require(principal.role == "operator", N_("decide appeals"))
        o = self.casefiles.objection(objection_id)
        if o.status != "under appeal":
            raise _wrong_state(o, N_("{kind} {case_id} is {status}, not under appeal"))
        self.duties.require_appeal_decider(principal, o)
        if not reason.strip():
            raise Refused(N_("a decision must give its reason"), field="reason")
        self.duties.append_event(
            principal, o.id, o.kind, "appeal_decided", o.subject, {"upheld": upheld, "reason": reason}
        )
        if upheld:
            self._carry_out(principal, o, reason)
        self.duties.audit_decision(principal, o.id, o.kind, o.subject, upheld=upheld, step="appeal decision")
        return self.casefiles.objection(o.id)

    def overdue(self, *, principal: access.Principal) -> list[tuple[Case, list[str]]]:
        """Open cases past a deadline, for operators: what is late and since when."""
        access.require(principal.role == "operator", N_("see overdue deadlines"))
        today = day_of(self.context.clock())
        return [
            (c, late)
            for c in self.casefiles.cases(principal=principal, open_only=True)
            if (late := c.overdue(today))
        ]

    def notices(self, code: str, as_of: dt.datetime | None = None) -> list[Notice]:
        """The notices of listing a subject has been given (pending and past), with the grounds."""
        registry = self.context.registry
        view = self.decisions.view(code, as_of)
        by_id = {r.record_id: r for r in view.records}
        out = []
        for e in view.entries:
            lst = registry.list_def(e.qualified_id)
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
                    title=Title("list", e.list_id, e.title, e.scheme),
                    subject=view.code,
                    noticed_on=e.noticed_on,
                    takes_effect_on=e.since,
                    status=e.status,
                    grounds=[
                        (
                            r.record_id,
                            Title("item", r.item, registry.item_defs[r.item].title),
                            r.occurred_on,
                            r.evidence,
                        )
                        for r in grounds
                    ],
                    how_to_object=N_(
                        "Object before {day} (file an objection to the entry or to any record named "
                        "here, with your statement and evidence); it is reviewed within {days} days.",
                        day=e.since.isoformat(),
                        days=registry.scheme(e.scheme).due_process.review_days,
                    ),
                    legal_basis=e.legal_basis,
                )
            )
        return out

    def pending_notices(self, *, principal: access.Principal) -> list[Notice]:
        """Listings noticed but not yet in effect, across subjects (operators)."""
        access.require(principal.role == "operator", N_("see pending notices"))
        out: list[Notice] = []
        longest = max(
            (lst.notice.days for _s, lst in self.context.registry.lists() if lst.notice.required), default=0
        )
        if longest == 0:
            return []
        if self.pending_subjects is not None:  # from the public state: no population scan
            subjects: Iterable[str] = self.pending_subjects()
        else:
            since = self.context.clock() - dt.timedelta(days=longest + 1)
            subjects = self.context.store.subjects_reported_since(since)
        for code in subjects:
            out.extend(n for n in self.notices(code) if n.status == "pending")
        return out


def _wrong_state(o: Objection, template: str) -> Conflict:
    """A case not in the state a step needs, its kind and state in the reader's words."""
    return Conflict(
        fill(template, kind=word(o.kind), case_id=o.id, status=word(o.status)), field="objection_id"
    )
