"""The store: one object over the database, written by concern and composed here.

Why one object over several modules: callers (the service, the export, the backup, the command
line) hold one ``Store`` and ask it for anything, while each concern is read and changed on its
own: records and ingest batches (``records.py``), the audit log (``audit.py``), due-process case
events (``cases.py``), API keys (``keys.py``), the subject registry (``subjects.py``), the
documents linked to subjects (``documents.py``), the public pages' snapshot
(``snapshots.py``) and each subject's materialised decision state (``decisionstate.py``). Each is
a class over :class:`~socialcredit.store.base.StoreBase`, which holds the engines, the chain
heads and the :class:`~socialcredit.store.dialect.Dialect`, the one place SQLite and PostgreSQL
differ (``docs/decisions/0029-store-by-concern.md``).

The one write path stays one: every chain append takes its chain's lock, links and inserts in one
transaction (``BEGIN IMMEDIATE`` on SQLite, a row lock on the chain head on PostgreSQL), so a
crash leaves each chain at a committed boundary.
"""

from __future__ import annotations

import datetime as dt

from socialcredit.settings import get_settings
from socialcredit.shredding import Vault
from socialcredit.store import caseepochs, epochs, quarantinekeys, registryepochs
from socialcredit.store.audit import AUDIT_COLUMNS, AUDIT_FIELDS, AuditStore
from socialcredit.store.base import CHAINS, CHUNK, REGISTRY_MARKER, default_url
from socialcredit.store.cases import CaseStore
from socialcredit.store.decisionstate import DecisionStateStore
from socialcredit.store.dialect import DEFAULT_CACHE_MIB, PAGE_SIZE, sqlite_stored_row
from socialcredit.store.documents import DocumentLink, DocumentStore
from socialcredit.store.erasedreads import ErasedReads
from socialcredit.store.exportlog import ExportReads
from socialcredit.store.keys import KeyStore, StoredKey
from socialcredit.store.records import (
    RECORD_COLUMNS,
    SEALED_COLUMNS,
    ChunkOutcome,
    PendingChunk,
    RecordStore,
    record_from_row,
)
from socialcredit.store.schemeversions import SchemeVersionStore
from socialcredit.store.snapshots import Snapshot, SnapshotStore
from socialcredit.store.subjects import SubjectStore, needs_fold
from socialcredit.store.tlog import LOGS, TlogStore
from socialcredit.subjects import SubjectRow

__all__ = [
    "AUDIT_COLUMNS",
    "AUDIT_FIELDS",
    "CHAINS",
    "CHUNK",
    "LOGS",
    "DEFAULT_CACHE_MIB",
    "PAGE_SIZE",
    "RECORD_COLUMNS",
    "REGISTRY_MARKER",
    "SEALED_COLUMNS",
    "Snapshot",
    "ChunkOutcome",
    "DocumentLink",
    "PendingChunk",
    "Store",
    "StoredKey",
    "SubjectRow",
    "default_url",
    "record_from_row",
    "sqlite_stored_row",
]


class Store(
    RecordStore,
    AuditStore,
    CaseStore,
    KeyStore,
    SubjectStore,
    SchemeVersionStore,
    DocumentStore,
    SnapshotStore,
    TlogStore,
    DecisionStateStore,
    ErasedReads,
    ExportReads,
):
    """A database holding one socialcredit installation."""

    def __init__(self, url: str, *, cache_mib: int | None = None, vault: Vault | None = None) -> None:
        super().__init__(url, cache_mib=cache_mib, vault=vault)
        # each chain stored in the clear is sealed once, as a new epoch (store/epochs.py): the
        # records after schema 0006, the audit log after 0011 (decision 0060), the cases after 0012
        if epochs.has_clear_records(self):
            epochs.seal_clear_records(self, *_epoch_signer())
            self.regrow("records")  # the log covers the sealed form from its first leaf on
        if epochs.has_clear_audit(self) and epochs.seal_clear_audit(self, *_epoch_signer()):
            self.regrow("audit")
        if caseepochs.has_clear_cases(self):
            caseepochs.seal_clear_cases(self, *_epoch_signer())
            self.regrow("cases")
        # erasure requests filed before decision 0071 moved off their year's case key (0094)
        if caseepochs.has_old_requests(self) and caseepochs.move_old_requests(self, *_epoch_signer()):
            self.regrow("cases")
        # the registry after 0015 (decision 0074): sealed as a new epoch, its state folded again
        if registryepochs.has_clear_registry(self) and registryepochs.seal_clear_registry(
            self, *_epoch_signer()
        ):
            self.regrow("registry")
        if needs_fold(self):
            self.fold_registry()
        if quarantinekeys.has_clear(self.engine):  # once, after schema 0012 (decision 0061)
            quarantinekeys.seal_clear(self.engine, self.sealing.vault)

    def subjects_touched_since(self, records_seq: int, cases_seq: int) -> set[str]:
        """Subjects whose answers may have changed since these chain positions: subjects of new
        records, of the records new corrections supersede, and of new case events. Here, where
        the record and case stores meet, each reading its own chain in one snapshot."""
        with self.reader.connect() as conn:
            return self.record_subjects_since(conn, records_seq) | self.case_subjects_since(conn, cases_seq)


def _epoch_signer() -> tuple[epochs.Signer, dt.datetime]:
    """The installation's checkpoint signer and the time, for a chain's one-time sealing epoch."""
    from socialcredit import checkpoints  # imported here: it imports the store

    key = checkpoints.load_or_create_key(get_settings().home)
    return (lambda payload: checkpoints.sign(payload, key)), dt.datetime.now(dt.UTC).replace(tzinfo=None)
