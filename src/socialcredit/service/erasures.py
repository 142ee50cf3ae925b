"""Erasure on request (issue 21 point 3, decision 0054): a subject, or an operator on their behalf,
asks for a record to be erased; an operator decides it as a case, with a reason, within the review
period; granted, the record's data key is destroyed at once by the vault that ``retention run``
uses (``shredding.Vault.erase``), and the erasure log names the rule ("erasure on request, case
N"). The records then read "erased on D under rule R" as any erased record does.

What may be erased, and why a whole year: a data key is per subject and year (decision 0046), so
destroying it erases every record of that subject and year known by then; the subject's later
records of that year are sealed under a new class of the year (``YEAR.1``: ``store/sealedrows``),
so that asking cannot shed records still to come. A request is granted only when every
one of them may be erased on request: a record withdrawn as wrong (an upheld objection's
withdrawal, with the withdrawing record itself), or a record whose item only schemes allowing it
know (``Scheme.erasure_on_request: any``: Sesame, the opt-in private scheme, whose members may
have their own data erased). Never while one of them grounds a list entry in force or pending
(the rule ``retention run`` keeps: an entry stands on its grounds until removed).

Why the audit entry masks the subject: the entry outlives the erased records, and the audit log
is read by auditors who need to know that an erasure was decided, not whose.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Sequence

from socialcredit import access, codes, ledger
from socialcredit.dueprocess.cases import ErasureRequest, Objection
from socialcredit.errors import Conflict, Refused
from socialcredit.i18n import N_, Text
from socialcredit.ledger import Record
from socialcredit.service.casefiles import Case, CaseFiles, NotFound
from socialcredit.service.context import Context, operator
from socialcredit.service.decisions import Decisions
from socialcredit.service.duties import Duties
from socialcredit.service.retention import IN_FORCE
from socialcredit.shredding import Erasure

RULE = ledger.ON_REQUEST + ", case {case_id}"
"""The rule the erasure log names for a granted request (the portal words it again:
``web.base.erasure_rule``)."""


class Erasures:
    """Erasure requests and their decisions: read from the case files, checked against the
    subject's records and view, recorded as case events naming their decider (``Duties``), and a
    granted one carried out by destroying the data key (``shredding.Vault.erase``)."""

    def __init__(
        self,
        context: Context,
        *,
        casefiles: CaseFiles,
        decisions: Decisions,
        duties: Duties,
        purge: Callable[[], object] | None = None,
    ) -> None:
        self.context = context
        self.purge = purge
        """What removes exports, outputs and kept snapshots made before an erasure that hold
        erased records (``Retention.purge``, decision 0055): run after every grant, as after
        every retention run."""
        self.casefiles = casefiles
        self.decisions = decisions
        self.duties = duties

    def erasable_items(self) -> frozenset[str]:
        """Items whose records may be erased on request without having been withdrawn: those
        known only to schemes that allow it."""
        allows: dict[str, bool] = {}
        for scheme in self.context.registry.schemes.values():
            for item in scheme.items:
                allows[item.code] = allows.get(item.code, True) and scheme.erasure_on_request == "any"
        return frozenset(code for code, ok in allows.items() if ok)

    def key_group(self, code: str, record_id: str) -> tuple[Record, list[Record]]:
        """The record ``record_id`` of subject ``code`` and every record of the subject under
        the same data key (same year), in ledger order. NotFound if it is not the subject's
        readable record."""
        mine = [r for r in self.context.store.records_for(code) if r.subject == code]
        record = next((r for r in mine if r.record_id == record_id), None)
        if record is None or record.stored is None:
            raise NotFound(
                N_("no record {record_id!r} of this subject to erase", record_id=record_id), field="record_id"
            )
        klass = record.stored[0]
        return record, [r for r in mine if r.stored is not None and r.stored[0] == klass]

    def erasable(self, code: str) -> list[Record]:
        """The subject's records an erasure request may name now (the whole key of each may go:
        :meth:`refusal` finds nothing), withdrawals left out (each goes with what it withdrew):
        what the portal offers."""
        groups: dict[str, list[Record]] = {}
        for r in self.context.store.records_for(code):
            if r.subject == code and r.stored is not None:
                groups.setdefault(r.stored[0], []).append(r)
        return [
            r
            for group in groups.values()
            if self.refusal(group) is None
            for r in group
            if r.action != "withdraw"
        ]

    def refusal(self, group: Sequence[Record]) -> Text | None:
        """Why the records under one key may not be erased on request (naming the first that
        may not and the rule), or None if they all may. A record counts as withdrawn whichever
        key its withdrawal is under (an agency's withdrawal is dated when it is sent, often a
        later year); a withdrawal may go only with what it withdrew, or once that is erased:
        erased alone, it would let the wrong record count again."""
        code = group[0].subject if group else None
        readable = self.context.store.records_for(code) if code is not None else []
        withdrawn = {r.corrects for r in readable if r.action == "withdraw" and r.corrects}
        ids = {r.record_id for r in group}
        left = {r.record_id for r in readable} - ids  # readable, and not going with this key
        free = self.erasable_items()
        for r in group:
            if r.record_id in withdrawn or (
                r.action == "withdraw" and r.corrects is not None and r.corrects not in left
            ):
                continue
            if r.item not in free:
                return N_(
                    "record {record_id} ({item}, {year}) is kept under the same data key and may "
                    "not be erased on request: a record may be erased on request only if it was "
                    "withdrawn as wrong, or if every scheme that knows its item allows erasure on "
                    "request (Scheme.erasure_on_request: any)",
                    record_id=r.record_id,
                    item=r.item,
                    year=r.occurred_on.year,
                )
        return None

    def in_force(self, code: str, group: Sequence[Record]) -> Text | None:
        """Why the key may not go now: one of its records grounds a list entry in force or
        pending (as ``retention run`` refuses), or None."""
        ids = {r.record_id for r in group}
        for e in self.decisions.view(code).entries:
            if e.status in IN_FORCE and ids & set(e.grounds):
                return N_(
                    "a record under this key grounds the entry on {list_id} ({status}); a data key "
                    "is never destroyed while a record under it grounds an entry in force or "
                    "pending (the retention rule, decision 0046)",
                    list_id=e.qualified_id,
                    status=e.status,
                )
        return None

    def file_erasure(
        self, *, principal: access.Principal, subject: str, record_id: str, statement: str
    ) -> ErasureRequest:
        """Ask for a record (and every record of its subject and year) to be erased. Refused at
        once, naming the rule, when the schemes do not allow it."""
        code = codes.validate(subject).value
        access.require(self.casefiles.may_act_for(principal, code), N_("ask for an erasure for this subject"))
        statement = statement.strip()
        if not 1 <= len(statement) <= 4000:
            raise Refused(N_("must be 1 to 4000 characters"), field="statement")
        record, group = self.key_group(code, record_id)
        why = self.refusal(group)
        if why is not None:
            raise Refused(why, field="record_id")
        year = record.stored[0] if record.stored else str(record.occurred_on.year)
        if any(
            isinstance(c, ErasureRequest) and c.is_open and c.year == year
            for c in self.casefiles.cases(principal=operator(), subject=code)
        ):
            raise Conflict(
                N_("an erasure request for the records of {year} is already open", year=year),
                field="record_id",
            )
        case_id = "era-" + secrets.token_hex(6)
        self.duties.append_event(
            principal,
            case_id,
            "erasure",
            "filed",
            code,
            {
                "record_id": record_id,
                "year": year,
                "record_ids": [r.record_id for r in group],
                "statement": statement,
                **({"filed_by": principal.holder} if principal.role == "operator" else {}),
            },
        )
        return self.casefiles.erasure(case_id)

    def decide_erasure(
        self, *, principal: access.Principal, case_id: str, granted: bool, reason: str
    ) -> ErasureRequest:
        """Grant (the data key is destroyed at once) or refuse, with reasons. A grant is checked
        again: the schemes or the subject's listings may have changed since the filing."""
        access.require(principal.role == "operator", N_("decide erasure requests"))
        c = self.casefiles.erasure(case_id)
        if c.status != "under review":
            raise Conflict(
                N_("erasure request {case_id} is {status}, not under review", case_id=c.id, status=c.status),
                field="case_id",
            )
        if self._filed_by(principal, c):
            raise access.AccessDenied(
                N_(
                    "decide erasure request {case_id}: you filed it on the subject's behalf, and a "
                    "request is decided by an operator not involved in it (decision 0027)",
                    case_id=c.id,
                )
            )
        if not reason.strip():
            raise Refused(N_("a decision must give its reason"), field="reason")
        rule = None
        if granted:
            _, group = self.key_group(c.subject, c.record_id)
            why = self.refusal(group) or self.in_force(c.subject, group)
            if why is not None:
                raise Refused(why, field="upheld")
            rule = RULE.format(case_id=c.id)
            self._destroy(c.subject, c.year, rule, {r.record_id for r in group})
        self.duties.append_event(
            principal,
            c.id,
            "erasure",
            "decided",
            c.subject,
            {"granted": granted, "reason": reason.strip(), "rule": rule},
        )
        self.context.audit(
            principal,
            "case-decide",
            subject=codes.mask(c.subject),
            answer="granted" if granted else "refused",
            detail={"case_id": c.id, "kind": "erasure", "step": "decision", "rule": rule},
        )
        return self.casefiles.erasure(c.id)

    def _filed_by(self, principal: access.Principal, c: ErasureRequest) -> bool:
        """Whether ``principal`` is the operator who filed the request (its holder, as the filing
        recorded it)."""
        filed = c.events[0]
        return filed.role == "operator" and filed.payload.get("filed_by") == principal.holder

    def _destroy(self, code: str, year: str, rule: str, erased: set[str]) -> None:
        """Destroy the subject's data key of ``year`` through the vault, as ``retention run``
        does, with the keys of its case files about the ``erased`` records, and forget every
        view computed from its records."""
        store = self.context.store
        vault = store.sealing.vault
        pseudonym = vault.pseudonym(code)
        w = vault.store.wrapped_keys([(pseudonym, year)]).get((pseudonym, year))
        if w is None:  # erased since the check (a retention run): nothing left to destroy
            return
        at = self.context.clock()
        vault.erase([Erasure(pseudonym, year, w.key_id, at, rule)])
        self._erase_case_files(code, pseudonym, erased, at, rule)
        store.erase_audit_keys([pseudonym], at, rule)  # its last record key: the audit's too (0060)
        store.erase_registry_keys([pseudonym], at, rule)  # and a person's registration (0074)
        store.empty_decision_states([code])  # its inputs lost records: computed again
        store.mark_erasure(at)  # and every process's views forget them (decision 0094)
        self.context.views.invalidate()
        if self.purge is not None:  # exports, outputs and snapshots holding what was erased
            self.purge()

    def _erase_case_files(
        self, code: str, pseudonym: str, erased: set[str], at: dt.datetime, rule: str
    ) -> int:
        """Destroy the keys of the subject's case files about the erased records (decision 0071):
        a case key (``cases.YEAR``: every case the subject filed that year) goes when every case
        under it is closed and names only records in ``erased``. A key is kept while a case under
        it is open (it is decided from its file), names a record that stays (its file is that
        record's due process), or is an erasure request (the decision is read from it; requests
        are filed under a class of their own, ``cases.era.YEAR``). Returns how many keys
        were destroyed."""
        store = self.context.store
        vault = store.sealing.vault
        live = {c.id: c for c in self.casefiles.cases(principal=operator(), subject=code)}
        due = []
        for klass, ids in store.case_classes_of(pseudonym).items():
            if all((c := live.get(i)) is not None and _only_about(c, erased) for i in ids):
                due.append((pseudonym, klass))
        found = vault.store.wrapped_keys(due) if due else {}
        return vault.erase([Erasure(p, k, w.key_id, at, rule) for (p, k), w in found.items()]) if found else 0


def _only_about(case: Case, erased: set[str]) -> bool:
    """Whether ``case`` is closed, not an erasure request, and names records all in ``erased``."""
    if isinstance(case, ErasureRequest) or case.is_open:
        return False
    named = set(case.record_ids) if isinstance(case, Objection) else {case.record_id}
    return bool(named) and named <= erased
