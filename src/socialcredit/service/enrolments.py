"""Opt-in schemes and consent to publicity from the subject's side: where a subject stands, and
joining, leaving, giving or withdrawing consent.

Why a service of its own: an opt-in scheme (Sesame Credit, Honest Shanghai) scores only those who
joined it, and a member must be able to leave without asking anyone (PIPL Art. 15: consent may be
withdrawn; Art. 47: the data is then no longer used). Leaving is a record of the scheme's
withdrawal item, reported by the subject itself (source ``self``) through the ledger's one write
path (``Records.submit_own``), so it is chained, audited by its batch and reproducible like any
other fact. From its ``reported_at`` on, the scheme has no score for the subject and reads none of
the records known by then (``scoring.dispatch.usable``; on the engines
``relational.withdrawal_cuts``), even if the subject joins again. Applying is the same record of
the scheme's enrolment item, where the scheme lets the subject report it (Honest Shanghai; Sesame
joins on the platform's identity check, which no subject may report).

Consent to publicity (decision 0042) works the same way for a list with ``publication_consent``
(Rongcheng's honour roll): the subject's own record of the consent item, or of its withdrawal
item; ``consented`` reads the latest, so a withdrawal stops publication at once.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Literal

from socialcredit import access, codes
from socialcredit.errors import Conflict, NotFound, Refused
from socialcredit.i18n import N_, Lines
from socialcredit.ledger import Record
from socialcredit.rules.days import day_of
from socialcredit.schemes.model import ListDef, Scheme
from socialcredit.service.casefiles import CaseFiles
from socialcredit.service.context import Context
from socialcredit.service.decisions import Decisions
from socialcredit.service.records import Records

Status = Literal["member", "left", "not a member"]


@dataclass(frozen=True)
class Enrolment:
    """Where a subject stands with one opt-in scheme: ``since`` is when it joined (a member) or
    left (``left``); ``may_leave`` whether the scheme has a withdrawal item, ``may_apply`` whether
    the subject may report its enrolment item itself (source ``self``)."""

    scheme: str
    title: str
    status: Status
    since: dt.datetime | None
    may_leave: bool
    may_apply: bool = False


def standing(scheme: Scheme, records: list[Record], as_of: dt.datetime) -> Enrolment:
    """The subject's standing with an opt-in scheme from its records at ``as_of``: the latest
    enrolment or withdrawal record decides, as ``scoring.dispatch.enrolled`` does."""
    rule = scheme.enrolment
    assert rule is not None
    marks = [r for r in records if r.reported_at <= as_of and r.item in (rule.item, rule.withdrawal_item)]
    latest = max(marks, key=lambda r: (r.reported_at, r.seq), default=None)
    status: Status = "not a member"
    if latest is not None:
        status = "member" if latest.item == rule.item else "left"
    since = latest.reported_at if latest is not None else None
    joins = scheme.item(rule.item)
    may_apply = joins is not None and "self" in joins.sources
    return Enrolment(scheme.id, scheme.title, status, since, rule.withdrawal_item is not None, may_apply)


@dataclass(frozen=True)
class Consent:
    """Whether a subject consents to publication on one list (``list`` qualified as
    ``scheme/list``): ``since`` is when it last gave or withdrew consent."""

    list: str
    title: str
    given: bool
    since: dt.datetime | None


def consented(lst: ListDef, records: list[Record], as_of: dt.datetime) -> Consent:
    """The subject's consent to publication on ``lst`` at ``as_of``: the latest record of the
    consent item or its withdrawal decides; a list without ``publication_consent`` needs none."""
    rule = lst.publication_consent
    if rule is None:
        return Consent(lst.id, lst.title, True, None)
    marks = [r for r in records if r.reported_at <= as_of and r.item in (rule.item, rule.withdrawal_item)]
    latest = max(marks, key=lambda r: (r.reported_at, r.seq), default=None)
    return Consent(
        lst.id,
        lst.title,
        latest is not None and latest.item == rule.item,
        latest.reported_at if latest is not None else None,
    )


class Enrolments:
    """A subject's opt-in schemes, and leaving one."""

    def __init__(
        self, context: Context, *, casefiles: CaseFiles, decisions: Decisions, records: Records
    ) -> None:
        self.context = context
        self.casefiles = casefiles
        self.decisions = decisions
        self.records = records

    def enrolments(self, code: str, principal: access.Principal) -> list[Enrolment]:
        """The subject's standing with every opt-in scheme in force that rates its kind; only the
        subject, its legal representative or an operator may see it."""
        c = codes.validate(code)
        access.require(self.casefiles.may_act_for(principal, c.value), N_("see this subject's enrolments"))
        view = self.decisions.view(c.value)
        return [standing(s, view.records, view.as_of) for s in self._opt_in(c.kind)]

    def withdraw(self, code: str, scheme_id: str, principal: access.Principal) -> Enrolment:
        """Leave an opt-in scheme now, at the subject's own request (its own key, or its legal
        representative's): a record of the scheme's withdrawal item, source ``self``. Refused for
        a scheme that is not opt-in or has no way to leave, and for a subject that is not a
        member."""
        return self._enrol(code, scheme_id, principal, join=False)

    def apply(self, code: str, scheme_id: str, principal: access.Principal) -> Enrolment:
        """Apply to (join) an opt-in scheme now, at the subject's own request: a record of the
        scheme's enrolment item, source ``self``. Refused for a scheme that is not opt-in or whose
        enrolment item the subject may not report (Sesame joins on the platform's identity
        check), and for a subject that is already a member."""
        return self._enrol(code, scheme_id, principal, join=True)

    def consents(self, code: str, principal: access.Principal) -> list[Consent]:
        """The subject's consent to each list that publishes only with it; only the subject, its
        legal representative or an operator may see it."""
        c = codes.validate(code)
        access.require(self.casefiles.may_act_for(principal, c.value), N_("see this subject's consents"))
        view = self.decisions.view(c.value)
        return [
            _qualified(s, lst, consented(lst, view.records, view.as_of))
            for s, lst in self._consent_lists(c.kind)
        ]

    def consent(self, code: str, list_id: str, principal: access.Principal, *, give: bool) -> Consent:
        """Give (``give``) or withdraw consent to publication on a list, at the subject's own
        request: a record of the list's consent or withdrawal item, source ``self``. Withdrawing
        takes the subject off the published list at once; the entry and its benefits stand."""
        c = codes.validate(code)
        self._own(principal, c.value, "give or withdraw consent for this subject")
        found = {f"{s.id}/{lst.id}": (s, lst) for s, lst in self._consent_lists(c.kind)}
        if list_id not in found:
            raise NotFound(
                N_("no list {list_id!r} asks this subject's consent to publication", list_id=list_id),
                field="list",
            )
        scheme, lst = found[list_id]
        rule = lst.publication_consent
        assert rule is not None
        view = self.decisions.view(c.value)
        if consented(lst, view.records, view.as_of).given == give:
            raise Conflict(
                N_("{code} already consents to {list_id}", code=c.value, list_id=list_id)
                if give
                else N_("{code} does not consent to {list_id}", code=c.value, list_id=list_id),
                field="list",
            )
        verb = "gave" if give else "withdrew"
        self._record(
            c.value,
            rule.item if give else rule.withdrawal_item,
            f"consent:{list_id}",
            f"{verb} consent to publication on {list_id} (key {principal.key_id})",
            principal,
            field="list",
        )
        after = self.decisions.view(c.value)
        return _qualified(scheme, lst, consented(lst, after.records, after.as_of))

    def _enrol(self, code: str, scheme_id: str, principal: access.Principal, *, join: bool) -> Enrolment:
        c = codes.validate(code)
        self._own(
            principal,
            c.value,
            "join a scheme for this subject" if join else "leave a scheme for this subject",
        )
        scheme = self.context.registry.schemes.get(scheme_id)
        if scheme is None:
            raise NotFound(N_("no scheme {scheme_id!r} is in force", scheme_id=scheme_id), field="scheme")
        rule = scheme.enrolment
        if rule is None or (not join and rule.withdrawal_item is None):
            raise Refused(
                N_("scheme {scheme_id} is not an opt-in scheme one can join", scheme_id=scheme_id)
                if join
                else N_("scheme {scheme_id} is not an opt-in scheme one can leave", scheme_id=scheme_id),
                field="scheme",
            )
        if scheme.model is None or c.kind not in scheme.model.subjects:
            raise Refused(
                N_("scheme {scheme_id} does not rate a subject of this kind", scheme_id=scheme_id),
                field="scheme",
            )
        item = rule.item if join else rule.withdrawal_item
        assert item is not None
        if join and "self" not in self.context.registry.item_defs[item].sources:
            raise Refused(
                N_(
                    "one joins {scheme_id} by a record from {sources}, not by applying",
                    scheme_id=scheme_id,
                    sources=", ".join(self.context.registry.item_defs[item].sources),
                ),
                field="scheme",
            )
        view = self.decisions.view(c.value)
        status = standing(scheme, view.records, view.as_of).status
        if join and status == "member":
            raise Conflict(
                N_("{code} is already a member of {scheme_id}", code=c.value, scheme_id=scheme_id),
                field="scheme",
            )
        if not join and status != "member":
            raise Conflict(
                N_("{code} is not a member of {scheme_id}", code=c.value, scheme_id=scheme_id), field="scheme"
            )
        self._record(
            c.value,
            item,
            f"{'apply' if join else 'withdraw'}:{scheme_id}",
            f"{'applied to' if join else 'left'} {scheme_id} at the subject's request "
            f"(key {principal.key_id})",
            principal,
            field="scheme",
        )
        after = self.decisions.view(c.value)
        return standing(scheme, after.records, after.as_of)

    def _own(self, principal: access.Principal, code: str, action: str) -> None:
        """Only the subject's own key (or its legal representative's) acts for it here."""
        access.require(principal.role == "subject" and self.casefiles.may_act_for(principal, code), action)

    def _record(
        self, code: str, item: str, what: str, evidence: str, principal: access.Principal, *, field: str
    ) -> None:
        """The subject's own record, through the ledger's one write path (chained, audited)."""
        now = self.context.clock()
        row = {
            "subject": code,
            "item": item,
            "source": "self",
            "source_record_id": f"{what}:{secrets.token_hex(8)}",
            "occurred_on": day_of(now).isoformat(),
            "evidence": evidence,
        }
        result = self.records.submit_own(row, origin=what, principal=principal)
        if result.quarantined:  # the item refuses the source or the subject: say why
            raise Refused(Lines((r for q in result.quarantine for r in q.reasons), "; "), field=field)

    def _consent_lists(self, kind: str) -> list[tuple[Scheme, ListDef]]:
        return [
            (s, lst)
            for s in self.context.registry.schemes.values()
            for lst in s.lists
            if lst.publication_consent is not None
            and kind in self.context.registry.item_defs[lst.publication_consent.item].subjects
        ]

    def _opt_in(self, kind: str) -> list[Scheme]:
        return [
            s
            for s in self.context.registry.schemes.values()
            if s.enrolment is not None and s.model is not None and kind in s.model.subjects
        ]


def _qualified(scheme: Scheme, lst: ListDef, c: Consent) -> Consent:
    return Consent(f"{scheme.id}/{lst.id}", lst.title, c.given, c.since)
