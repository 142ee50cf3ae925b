"""Credit restoration as a service: an application after a negative record's minimum
publication period, decided with reasons; a granted one is a ``restore`` record, so scores, lists
and decisions follow at once (national credit restoration measures). Only records the measures
cover may be restored: never a judicial record or one that can start a judicial listing
(``dueprocess.restoration``)."""

from __future__ import annotations

import secrets

from socialcredit import access, codes
from socialcredit.dueprocess import restoration
from socialcredit.dueprocess.cases import Restoration, restoration_eligible_from
from socialcredit.errors import Conflict, Refused
from socialcredit.i18n import N_, Lines, word
from socialcredit.rules.days import day_of
from socialcredit.service.casefiles import CaseFiles, NotFound
from socialcredit.service.context import Context, operator
from socialcredit.service.decisions import Decisions
from socialcredit.service.duties import Duties
from socialcredit.service.records import Records


class Restorations:
    """Restoration applications and their decisions: read from the case files, checked against
    the subject's view, recorded as case events naming their decider (``Duties``), and a granted
    one ingested as a ``restore`` record (``Records``)."""

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
        """Apply to restore credit after a negative record's minimum publication period. A
        judicial record, or one that can put a subject on a judicial list, is refused at once,
        naming the rule (``dueprocess.restoration``): restoration never ends a court listing."""
        code = codes.validate(subject).value
        access.require(
            self.casefiles.may_act_for(principal, code), N_("apply for restoration for this subject")
        )
        record = next((r for r in self.decisions.view(code).records if r.record_id == record_id), None)
        if record is None:
            raise NotFound(
                N_("no record {record_id!r} in force for this subject", record_id=record_id),
                field="record_id",
            )
        item = self.context.registry.item_defs[record.item]
        if item.polarity != "negative":
            raise Refused(N_("{item} is not a negative record", item=record.item), field="record_id")
        self._require_restorable(record.item, "record_id")
        for name, text in (
            ("conduct_corrected", conduct_corrected),
            ("obligations_fulfilled", obligations_fulfilled),
            ("commitment", commitment),
        ):
            if not 1 <= len(text.strip()) <= 4000:
                raise Refused(
                    N_("required (1 to 4000 characters): the national measures ask for it"), field=name
                )
        eligible = restoration_eligible_from(record.occurred_on, item.severity)
        if day_of(self.context.clock()) < eligible:
            raise Refused(
                N_(
                    "a {severity} record may be restored from {day} (minimum publication period)",
                    severity=word(item.severity),
                    day=eligible.isoformat(),
                ),
                field="record_id",
            )
        if any(
            isinstance(c, Restoration) and c.record_id == record_id and c.is_open
            for c in self.casefiles.cases(principal=operator(), subject=code)
        ):
            raise Conflict(
                N_("an application for {record} is already under review", record=record_id), field="record_id"
            )
        case_id = "res-" + secrets.token_hex(6)
        self.duties.append_event(
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
        return self.casefiles.restoration(case_id)

    def decide_restoration(
        self, *, principal: access.Principal, case_id: str, granted: bool, reason: str
    ) -> Restoration:
        """Grant (a restore record ends the record's effect from now) or refuse, with reasons."""
        access.require(principal.role == "operator", N_("decide restoration applications"))
        c = self.casefiles.restoration(case_id)
        if c.status != "under review":
            raise Conflict(
                N_(
                    "application {case_id} is {status}, not under review", case_id=c.id, status=word(c.status)
                ),
                field="case_id",
            )
        if not reason.strip():
            raise Refused(N_("a decision must give its reason"), field="reason")
        record_id = None
        if granted:
            original = self.context.store.record(c.record_id)
            assert original is not None
            # an application filed before the rule, or under schemes since changed: refuse it
            self._require_restorable(original.item, "upheld")
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
            result = self.records.ingest([(1, row)], origin=f"restoration {c.id}", principal=principal)
            if result.quarantined:  # built from a stored record: only schemes changed since refuse it
                raise Conflict(Lines((r for q in result.quarantine for r in q.reasons), "; "))
            record_id = self.context.store.stored_record_id(original.source, f"restoration:{c.id}")
        self.duties.append_event(
            principal,
            c.id,
            "restoration",
            "decided",
            c.subject,
            {"granted": granted, "reason": reason, "record": record_id},
        )
        self.duties.audit_decision(principal, c.id, "restoration", c.subject, upheld=granted, step="decision")
        return self.casefiles.restoration(c.id)

    def _require_restorable(self, item: str, field: str) -> None:
        """Refuse (naming ``field`` and the rule) a restoration of a record of ``item`` that the
        national measures do not allow (``dueprocess.restoration``)."""
        if item in self.context.unrestorable_items():
            why = restoration.refusal(item, self.context.registry.schemes.values())
            raise Refused(why or N_("{item} may not be restored", item=item), field=field)
