"""Records and subjects in: a batch of records validated, deduplicated, chained and stored in
committed chunks, and the subject registry's rows. The one write path of the ledger for every
caller (a file, an API batch, an upheld objection's corrections, a granted restoration)."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from socialcredit import access, ledger
from socialcredit.errors import NotFound
from socialcredit.i18n import N_
from socialcredit.ledger import IngestResult, Quarantined
from socialcredit.service.context import Context
from socialcredit.service.sealing import Row as Row
from socialcredit.service.sealing import Sealer, sealed_chunks
from socialcredit.subjects import SubjectRow, validate_subject

# what a key of another role is told: "your key may not submit records: only ..."
SUBMIT_RECORDS = N_("submit records: only agencies and operators do")
SEE_BATCHES = N_("see batches: only agencies and operators do")


@dataclass(frozen=True)
class RegisterResult:
    """Subjects submitted = added + updated + unchanged + quarantined."""

    submitted: int
    added: int
    updated: int
    unchanged: int
    quarantined: int
    quarantine: tuple[Quarantined, ...] = ()


class Records:
    """Ingestion of records and registration of subjects."""

    def __init__(self, context: Context) -> None:
        self.context = context

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
        finds the committed rows as duplicates. Rows are validated and sealed (everything but
        their place in the chain) before the store takes the chain's lock for the chunk; in a big
        batch a helper process seals ahead while this one stores (``service/sealing.py``)."""
        if principal.role not in ("agency", "operator"):
            raise access.AccessDenied(SUBMIT_RECORDS)
        source = principal.principal if principal.role == "agency" else None
        return self._ingest(rows, origin, source, principal, chunk_size, progress)

    def submit_own(self, row: Mapping[str, Any], *, origin: str, principal: access.Principal) -> IngestResult:
        """One record a subject reports about itself, source ``self`` (joining or leaving an
        opt-in scheme: ``service.enrolments``), through the same validation and chain as an
        agency's; the item must allow the source ``self``, which the validation checks."""
        access.require(principal.role == "subject" and row.get("source") == "self", N_("report records"))
        return self._ingest([(1, row)], origin, "self", principal, 1, None)

    def _ingest(
        self,
        rows: Iterable[Row],
        origin: str,
        source: str | None,
        principal: access.Principal,
        chunk_size: int,
        progress: Callable[[int], None] | None,
    ) -> IngestResult:
        store = self.context.store
        now = self.context.clock()
        batch_id = secrets.token_hex(8)
        store.begin_batch(
            batch_id=batch_id, origin=origin, source=source, submitted_by=principal.key_id, at=now
        )
        sealer = Sealer(
            self.context.registry,
            now,
            source,
            store.stored_row(),
            store.helper_vault(),
            content=store.stores_clear(),
        )
        chunks = sealed_chunks(_chunks(rows, chunk_size), sealer)

        totals = Counter[str]()
        sample: list[Quarantined] = []
        for chunk, out in store.append_chunks(
            chunks, batch_id=batch_id, received_at=now, may_correct_any=principal.role == "operator"
        ):
            totals.update(
                submitted=chunk.submitted,
                accepted=out.accepted,
                duplicate=out.duplicate,
                quarantined=len(out.quarantined),
            )
            if len(sample) < 100:
                sample.extend(out.quarantined[: 100 - len(sample)])
            if progress is not None:
                progress(chunk.submitted)
        result = IngestResult(
            batch_id,
            totals["submitted"],
            totals["accepted"],
            totals["duplicate"],
            totals["quarantined"],
            tuple(sorted(sample, key=lambda q: q.row_number)),
        )
        # every batch, whoever submitted it and however, is an administrative act: audited with
        # its counts (never its rows, which the ledger keeps)
        self.context.audit(
            principal,
            "ingest",
            detail={
                "batch_id": batch_id,
                "origin": origin,
                "submitted": result.submitted,
                "accepted": result.accepted,
                "duplicate": result.duplicate,
                "quarantined": result.quarantined,
            },
        )
        return result

    def batches(self, principal: access.Principal, limit: int = 50) -> list[dict[str, Any]]:
        """The batches ``principal`` may see, newest first: an agency's own (those it submitted
        as itself, by file, form or API), every batch for an operator."""
        if principal.role not in ("agency", "operator"):
            raise access.AccessDenied(SEE_BATCHES)
        source = principal.principal if principal.role == "agency" else None
        return self.context.store.batches(source=source, limit=limit)

    def batch(
        self, principal: access.Principal, batch_id: str
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """One batch and its quarantined rows (row number, the row as sent, the reasons), for the
        agency that submitted it or an operator; another agency's batch is not found, as if it
        did not exist."""
        if principal.role not in ("agency", "operator"):
            raise access.AccessDenied(SEE_BATCHES)
        found = self.context.store.batch(batch_id)
        if found is None or (principal.role == "agency" and found["source"] != principal.principal):
            raise NotFound(N_("no batch {batch_id!r}", batch_id=batch_id[:32]), field="batch_id")
        return found, self.context.store.quarantine_of(batch_id, limit=10_000)

    def register(self, subjects: Iterable[SubjectRow]) -> tuple[int, int, int]:
        """Register already-validated subjects: (added, updated, unchanged). Cached views are
        dropped: a new legal representative moves an organisation's listings between persons."""
        try:
            return self.context.store.upsert_subjects(list(subjects), self.context.clock())
        finally:
            self.context.views.invalidate()

    def register_rows(self, rows: Iterable[Row], *, principal: access.Principal) -> RegisterResult:
        """Register submitted subject rows (operators only); each row is added, updated,
        unchanged, or quarantined with the reasons."""
        access.require(principal.role == "operator", N_("register subjects"))
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
        counts = {"submitted": n_rows, "added": added, "updated": updated, "unchanged": unchanged}
        self.context.audit(principal, "subject-register", detail={**counts, "quarantined": len(bad)})
        return RegisterResult(n_rows, added, updated, unchanged, len(bad), tuple(bad[:100]))


def _chunks(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for r in rows:
        chunk.append(r)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
