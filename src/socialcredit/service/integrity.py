"""The installation's own trail: the audit log for those who may read it, and the verification
of the three hash chains (records, audit, cases)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from socialcredit import access
from socialcredit.chaincheck import ChainProblem
from socialcredit.service.context import Context


class Integrity:
    """Reading the audit log and verifying the chains."""

    def __init__(self, context: Context) -> None:
        self.context = context

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
        return self.context.store.audit_entries(subject=subject, limit=limit, before=before)

    def looks_about(
        self, principal: access.Principal, subject: str, *, limit: int = 200
    ) -> tuple[list[dict[str, Any]], int, dt.datetime | None]:
        """A subject page's "who asked": the others' looks, and the subject's own counted apart
        (``AuditStore.looks_about``), for the subject itself or whoever may read the audit log."""
        if principal.role == "subject":
            subject = principal.principal or ""
        else:
            access.require(access.may_read_audit(principal), "read the audit log")
        return self.context.store.looks_about(subject, limit=limit)

    def verify(self) -> dict[str, list[ChainProblem]]:
        """Every chain's faults, each named once (``chaincheck``); empty lists when intact."""
        return {
            "records": self.context.store.verify_records(),
            "audit": self.context.store.verify_audit(),
            "cases": self.context.store.verify_cases(),
            "registry": self.context.store.verify_registry(),
        }
