"""The installation's own trail: the audit log for those who may read it (filtered, and exported
as CSV, the export itself audited), and the verification of the chains (records, audit, cases,
registry)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterator
from typing import Any

from socialcredit import access, codes
from socialcredit.chaincheck import ChainProblem
from socialcredit.i18n import N_
from socialcredit.service.context import Context
from socialcredit.shredding import ERASED_CODE
from socialcredit.store import AuditQuery

EXPORT_COLUMNS = (
    "seq",
    "at",
    "key_id",
    "role",
    "principal",
    "action",
    "subject",
    "measure",
    "purpose",
    "answer",
    "detail",
)
EXPORT_PAGE = 5_000
# a cell a spreadsheet would run as a formula (a relying party's purpose is free text): quoted
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def masked(viewer: access.Principal, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Audit entries as ``viewer`` may see them: an operator sees subjects' codes whole; anyone
    else (an auditor audits the trail, not the people in it) sees them masked, in the subject
    column and where a subject acted, except a subject's own code."""
    if viewer.role == "operator":
        return rows

    def shown(code: str | None) -> str | None:
        if code is None or code == viewer.principal or code == ERASED_CODE:
            return code
        return codes.mask(code)

    return [
        {
            **r,
            "subject": shown(r["subject"]),
            "principal": shown(r["principal"]) if r["role"] == "subject" else r["principal"],
        }
        for r in rows
    ]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


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
        query: AuditQuery | None = None,
    ) -> list[dict[str, Any]]:
        """The audit log for auditors and operators, filtered by ``query``; a subject sees the
        entries about itself (and only those, whatever the filters)."""
        if principal.role == "subject":
            subject = principal.principal
        else:
            access.require(access.may_read_audit(principal), N_("read the audit log"))
        return self.context.store.audit_entries(subject=subject, limit=limit, before=before, query=query)

    def export_audit(self, principal: access.Principal, query: AuditQuery) -> Iterator[str]:
        """The filtered audit log as CSV lines (newest first, subjects masked as the log shows
        them to ``principal``), for auditors and operators. The export is audited
        (``audit-export``, naming its filters) before the first line is given: a copy of the
        trail leaving the system is itself an act on it."""
        access.require(principal.role in ("auditor", "operator"), N_("export the audit log"))
        self.context.audit(principal, "audit-export", detail={"filters": query.stated()})
        return self._lines(principal, query)

    def _lines(self, principal: access.Principal, query: AuditQuery) -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(EXPORT_COLUMNS)
        before: int | None = None
        while True:
            rows = self.context.store.audit_entries(limit=EXPORT_PAGE, before=before, query=query)
            for r in masked(principal, rows):
                writer.writerow(
                    [
                        _cell(json.dumps(r[c], ensure_ascii=False, sort_keys=True) if c == "detail" else r[c])
                        for c in EXPORT_COLUMNS
                    ]
                )
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
            if len(rows) < EXPORT_PAGE:
                return
            before = rows[-1]["seq"]

    def looks_about(
        self,
        principal: access.Principal,
        subject: str,
        *,
        limit: int = 200,
        known_at: dt.datetime | None = None,
    ) -> tuple[list[dict[str, Any]], int, dt.datetime | None]:
        """A subject page's "who asked": the others' looks, and the subject's own counted apart
        (``AuditStore.looks_about``), for the subject itself or whoever may read the audit log;
        with ``known_at``, as the log stood then."""
        subject = self._looked_at(principal, subject)
        return self.context.store.looks_about(subject, limit=limit, until=known_at)

    def looks_after(self, principal: access.Principal, subject: str, known_at: dt.datetime) -> int:
        """How many entries about the subject the log gained after ``known_at`` (what a page as
        known then leaves out), for whoever may see its looks."""
        return self.context.store.looks_after(self._looked_at(principal, subject), known_at)

    def _looked_at(self, principal: access.Principal, subject: str) -> str:
        """The subject whose looks ``principal`` may see: its own, or any for an auditor."""
        if principal.role == "subject":
            return principal.principal or ""
        access.require(access.may_read_audit(principal), N_("read the audit log"))
        return subject

    def verify(self) -> dict[str, list[ChainProblem]]:
        """Every chain's faults, each named once (``chaincheck``); empty lists when intact."""
        return {
            "records": self.context.store.verify_records(),
            "audit": self.context.store.verify_audit(),
            "cases": self.context.store.verify_cases(),
            "registry": self.context.store.verify_registry(),
        }
