"""Opt-in schemes from the member's side: where a subject stands with each, and leaving one.

Why a service of its own: an opt-in scheme (Sesame Credit, Honest Shanghai) scores only those who
joined it, and a member must be able to leave without asking anyone (PIPL Art. 15: consent may be
withdrawn; Art. 47: the data is then no longer used). Leaving is a record of the scheme's
withdrawal item, reported by the subject itself (source ``self``) through the ledger's one write
path (``Records.submit_own``), so it is chained, audited by its batch and reproducible like any
other fact. From its ``reported_at`` on, the scheme has no score for the subject and reads none of
the records known by then (``scoring.dispatch.usable``; on the engines
``relational.withdrawal_cuts``), even if the subject joins again.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Literal

from socialcredit import access, codes
from socialcredit.errors import Conflict, NotFound, Refused
from socialcredit.ledger import Record
from socialcredit.rules.days import day_of
from socialcredit.schemes.model import Scheme
from socialcredit.service.casefiles import CaseFiles
from socialcredit.service.context import Context
from socialcredit.service.decisions import Decisions
from socialcredit.service.records import Records

Status = Literal["member", "left", "not a member"]


@dataclass(frozen=True)
class Enrolment:
    """Where a subject stands with one opt-in scheme: ``since`` is when it joined (a member) or
    left (``left``); ``may_leave`` whether the scheme has a withdrawal item."""

    scheme: str
    title: str
    status: Status
    since: dt.datetime | None
    may_leave: bool


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
    return Enrolment(scheme.id, scheme.title, status, since, rule.withdrawal_item is not None)


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
        access.require(self.casefiles.may_act_for(principal, c.value), "see this subject's enrolments")
        view = self.decisions.view(c.value)
        return [standing(s, view.records, view.as_of) for s in self._opt_in(c.kind)]

    def withdraw(self, code: str, scheme_id: str, principal: access.Principal) -> Enrolment:
        """Leave an opt-in scheme now, at the subject's own request (its own key, or its legal
        representative's): a record of the scheme's withdrawal item, source ``self``. Refused for
        a scheme that is not opt-in or has no way to leave, and for a subject that is not a
        member."""
        c = codes.validate(code)
        access.require(
            principal.role == "subject" and self.casefiles.may_act_for(principal, c.value),
            "leave a scheme for this subject",
        )
        scheme = self.context.registry.schemes.get(scheme_id)
        if scheme is None:
            raise NotFound(f"no scheme {scheme_id!r} is in force", field="scheme")
        rule = scheme.enrolment
        if rule is None or rule.withdrawal_item is None:
            raise Refused(f"scheme {scheme_id} is not an opt-in scheme one can leave", field="scheme")
        if scheme.model is None or c.kind not in scheme.model.subjects:
            raise Refused(f"scheme {scheme_id} does not rate a subject of this kind", field="scheme")
        view = self.decisions.view(c.value)
        if standing(scheme, view.records, view.as_of).status != "member":
            raise Conflict(f"{c.value} is not a member of {scheme_id}", field="scheme")
        now = self.context.clock()
        row = {
            "subject": c.value,
            "item": rule.withdrawal_item,
            "source": "self",
            "source_record_id": f"withdraw:{scheme_id}:{secrets.token_hex(8)}",
            "occurred_on": day_of(now).isoformat(),
            "evidence": f"left {scheme_id} at the subject's request (key {principal.key_id})",
        }
        result = self.records.submit_own(row, origin=f"withdrawal from {scheme_id}", principal=principal)
        if result.quarantined:  # the scheme's item refuses the source or the subject: say why
            raise Refused("; ".join(r for q in result.quarantine for r in q.reasons), field="scheme")
        after = self.decisions.view(c.value)
        return standing(scheme, after.records, after.as_of)

    def _opt_in(self, kind: str) -> list[Scheme]:
        return [
            s
            for s in self.context.registry.schemes.values()
            if s.enrolment is not None and s.model is not None and kind in s.model.subjects
        ]
