"""The tables. One schema for the embedded default (SQLite) and PostgreSQL.

The ledger and the audit log are append-only: no code path updates or deletes their rows, and
each row carries a chain hash over its content and its predecessor, so an edit made behind the
application's back is caught by ``verify``. ``chain_heads`` keeps the count and last hash of each
chain apart from the rows, so that cutting off the newest rows is caught too.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    func,
    text,
)

metadata = MetaData()

subjects = Table(
    "subjects",
    metadata,
    # Each registered subject's latest registration, folded from the ``registry`` chain. Named by
    # the keyed pseudonym ``records.subject`` holds; its code, name, sex, district and legal
    # representative are in ``sealed``, under its registry key (decision 0074).
    Column("subject", String(64), primary_key=True),
    Column("kind", String(12), nullable=False),
    Column("legal_representative", String(64), index=True),  # the representative's pseudonym
    Column("klass", String(24), nullable=False),
    Column("sealed", Text, nullable=False),
    Column("registered_at", DateTime, nullable=False),
)

scheme_versions = Table(
    "scheme_versions",
    metadata,
    # Every version of a scheme file ever in force, by the SHA-256 of its text: a decision's
    # receipt names these hashes, and a past answer is computed again under the very files.
    Column("content_hash", String(64), primary_key=True),
    Column("scheme_id", String(64), nullable=False, index=True),
    Column("version", String(32), nullable=False),
    Column("effective_from", Date, nullable=True),
    Column("first_in_force_at", DateTime, nullable=False),
    Column("yaml", Text, nullable=False),
)

registry = Table(
    "registry",
    metadata,
    # The registry's history: every registration and every change of one, hash-chained as the
    # ledger's records are (``chain_heads`` row ``registry``). ``subjects`` is its latest state.
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("at", DateTime, nullable=False),
    # the subject's keyed pseudonym (its code before schema 0015), and the payload sealed under
    # its registry key in ``sealed`` (``payload`` then ""; decision 0074)
    Column("code", String(64), nullable=False, index=True),
    Column("kind", String(12), nullable=False),
    Column("payload", Text, nullable=False),
    Column("chain_hash", String(64), nullable=False),
    Column("klass", String(24)),
    Column("sealed", Text),
    Column("own_hash", String(64)),  # ``chaincheck.own_hash``; null before schema 0015
)

tenures = Table(
    "tenures",
    metadata,
    # Each legal representative's term in valid time, folded from ``registry`` by
    # ``subjects.tenures`` in the transaction that appends the change; derived, in no chain.
    # Both named by keyed pseudonym, their codes sealed under the organisation's registry key.
    Column("organisation", String(64), primary_key=True),
    Column("opened", BigInteger, primary_key=True, autoincrement=False),
    Column("person", String(64), nullable=False, index=True),
    Column("valid_from", Date),
    Column("valid_to", Date),
    Column("closed", BigInteger),
    Column("klass", String(24), nullable=False),
    Column("sealed", Text, nullable=False),
)

document_links = Table(
    "document_links",
    metadata,
    # The documents linked to each subject (passports, travel permits, ...), folded from the
    # registry's chain entries that link and unlink them (``store/documents.py``). A link is never
    # deleted: an unlink sets ``valid_to`` and ``ended`` (its registry entry) and ``ended_by`` (the
    # upheld objection). At most one link of a document is current (the partial unique index).
    # The document by a keyed hash of its written form, the subject by its keyed pseudonym; the
    # number, the code and the evidence sealed under the subject's registry key (decision 0074).
    Column("linked", BigInteger, primary_key=True, autoincrement=False),
    Column("document", String(64), nullable=False, index=True),
    Column("type", String(20), nullable=False),
    Column("subject", String(64), nullable=False, index=True),
    Column("passport_type", String(2)),
    Column("evidence", Text, nullable=False),
    Column("klass", String(24), nullable=False),
    Column("sealed", Text, nullable=False),
    Column("valid_from", DateTime, nullable=False),
    Column("valid_to", DateTime),
    Column("ended", BigInteger),
    Column("ended_by", String(40)),
    Index(
        "ux_document_links_current",
        "document",
        unique=True,
        sqlite_where=text("valid_to IS NULL"),
        postgresql_where=text("valid_to IS NULL"),
    ),
)

subject_numbers = Table(
    "subject_numbers",
    metadata,
    # The dense integer each subject has in ledger exports (``subject_no``: the population job's
    # grouping key), assigned once by the export that first sees the subject and never changed
    # (store/subjectnumbers.py). Kept here, not in the export's memory, so an export of a
    # national ledger holds no map of a billion codes; derived, in no chain. Keyed by the
    # subject's keyed pseudonym (what ``records.subject`` holds), never its code (decision 0075).
    Column("subject_no", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("subject", String(64), nullable=False, unique=True),
    Column("kind", String(12), nullable=False),
)

public_snapshots = Table(
    "public_snapshots",
    metadata,
    # The public pages as the last full rescore of the population left them (the lists' rows,
    # their census, the transparency report, late removals): what a freshly started server shows,
    # labelled with ``as_of``, while it rescores (store/snapshots.py, decision 0049). Derived, in
    # no chain, replaced by each rescore: one row per ``name``.
    Column("name", String(32), primary_key=True),
    Column("as_of", DateTime, nullable=False),
    Column("records_head", BigInteger, nullable=False),
    Column("cases_head", BigInteger, nullable=False),
    Column("schemes", String(64), nullable=False),
    Column("payload", Text, nullable=False),
)

records = Table(
    "records",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("record_id", String(32), nullable=False, unique=True),
    # the subject's keyed pseudonym (``shredding.Vault.pseudonym``); a code only in rows stored
    # in the clear before schema 0006
    Column("subject", String(64), nullable=False, index=True),
    Column("subject_kind", String(12), nullable=False),
    Column("item", String(64), nullable=False, index=True),
    Column("source", String(64), nullable=False),
    Column("source_record_id", String(128), nullable=False),
    Column("occurred_on", Date, nullable=False),
    Column("reported_at", DateTime, nullable=False),
    Column("reported_given", Boolean, nullable=False),
    Column("evidence", Text),
    Column("action", String(10), nullable=False),
    Column("corrects", String(32)),
    Column("details", Text, nullable=False),
    Column("received_at", DateTime, nullable=False),
    # Not indexed: nothing reads records by batch (a batch's counts and quarantined rows have
    # tables of their own), and the index cost a tenth of every record's insert.
    Column("batch_id", String(32), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("claim_hash", String(64), nullable=False),
    Column("chain_hash", String(64), nullable=False),
    # crypto-shredding (decision 0046): the retention class of the record's data key and the
    # base64 AES-GCM ciphertext of its subject's code, evidence and details (``store/sealedrows.py``)
    Column("klass", String(16)),
    Column("sealed", Text),
    # Partial: only corrections and withdrawals reference a record, so an index of every row
    # would be almost all NULLs, maintained on every insert for nothing (a tenth of the cost
    # of inserting a record). Lookups by ``corrects`` (=, IN, a join, IS NOT NULL) use it.
    Index(
        "ix_records_corrects",
        "corrects",
        sqlite_where=text("corrects IS NOT NULL"),
        postgresql_where=text("corrects IS NOT NULL"),
    ),
)

epochs = Table(
    "epochs",
    metadata,
    # Each time a chain was re-linked over a new stored form (schema 0006 sealed every record
    # stored in the clear: decision 0046), with the signed checkpoint naming the old chain's and
    # the new chain's heads at that moment (``store/epochs.py``).
    Column("chain", String(16), primary_key=True),
    Column("epoch", Integer, primary_key=True, autoincrement=False),
    Column("at", DateTime, nullable=False),
    Column("count", BigInteger, nullable=False),
    Column("old_head", String(64), nullable=False),
    Column("new_head", String(64), nullable=False),
    Column("checkpoint", Text, nullable=False),
)

batches = Table(
    "batches",
    metadata,
    Column("batch_id", String(32), primary_key=True),
    Column("origin", Text, nullable=False),
    Column("source", String(64)),
    Column("submitted_by", String(32)),
    Column("received_at", DateTime, nullable=False),
    Column("submitted", Integer, nullable=False),
    Column("accepted", Integer, nullable=False),
    Column("duplicate", Integer, nullable=False),
    Column("quarantined", Integer, nullable=False),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("batch_id", String(32), nullable=False, index=True),
    Column("row_number", Integer, nullable=False),
    # the submitted row: base64 AES-GCM ciphertext under the quarantine key of ``klass``
    # (``quarantine.YYYY-MM`` of the batch's month, decision 0061); clear JSON where ``klass`` is
    # NULL (before schema 0012); "" once retention destroyed the key
    Column("raw", Text, nullable=False),
    Column("reasons", Text, nullable=False),
    Column("klass", String(24)),
)

audit = Table(
    "audit",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("at", DateTime, nullable=False),
    Column("key_id", String(32)),
    Column("role", String(16)),
    Column("principal", String(64)),
    Column("action", String(16), nullable=False),
    # the subject's keyed pseudonym (as in ``records``); its code only inside ``sealed``
    Column("subject", String(64)),
    Column("measure", String(64)),
    Column("purpose", Text),
    Column("answer", String(16)),
    Column("detail", Text, nullable=False),
    Column("chain_hash", String(64), nullable=False),
    # a decision's id from its receipt (in ``detail``), kept beside it for the indexed lookup of
    # ``GET /decisions/{id}``; derived, so not part of the chained content (decision 0041)
    Column("decision_id", String(24), nullable=True),
    # the subject's code (and a subject principal's) sealed under its audit key, prefixed by the
    # key's class (``store/auditseal.py``, decision 0060); chained where set
    Column("sealed", Text, nullable=True),
    # the entry's own hash (``chaincheck.own_hash``, decision 0071): names an edit beside a
    # removal; null in entries stored before schema 0014
    Column("own_hash", String(64)),
    # no index of its own on (subject, at) since revision 0018 (decision 0100): the person index
    # below serves a subject's entries (``store/audit.py``, ``about``)
    Index("ix_audit_decision_id", "decision_id"),
)

AUDIT_PERSON = func.coalesce(audit.c.subject, audit.c.principal)
"""The person an audit entry is about: its subject, or for a look without one the principal
that acted (a subject reading their own record). ``AuditStore.stale_audit_keys`` groups by it."""

Index(
    "ix_audit_person_at",
    AUDIT_PERSON,
    audit.c.at,
    sqlite_where=audit.c.sealed.is_not(None),
    postgresql_where=audit.c.sealed.is_not(None),
)
"""The lookups-only retention query's one indexed pass (decision 0094, revision 0017): the
sealed entries by person and time, so the newest entry of each person is read in index order,
without sorting the audit log. Partial: only sealed entries have an audit key to destroy. Since
revision 0018 also the index of a subject's entries (``AuditStore``'s ``about``): every entry
naming a subject is sealed (decision 0060), so one random index, not two, is written a decision
(decision 0100)."""

case_events = Table(
    "case_events",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("case_id", String(32), nullable=False, index=True),
    Column("case_kind", String(16), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("at", DateTime, nullable=False),
    # the subject's keyed pseudonym; a code only in events stored in the clear before schema 0012
    Column("subject", String(64), nullable=False, index=True),
    Column("key_id", String(32)),
    Column("role", String(16)),
    # "" for a sealed event; its code and payload are in ``sealed`` (decision 0061)
    Column("payload", Text, nullable=False),
    Column("chain_hash", String(64), nullable=False),
    # crypto-shredding (decision 0061): the class of the subject's data key (``cases.YEAR`` of
    # the filing) and the base64 AES-GCM ciphertext of the code and payload (``store/sealedcases.py``)
    Column("klass", String(16)),
    Column("sealed", Text),
    # the event's own hash (``chaincheck.own_hash``, decision 0071); null before schema 0014
    Column("own_hash", String(64)),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("token_hash", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("principal", String(64)),
    Column("name", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("expires_at", DateTime),
    Column("revoked_at", DateTime),
)

chain_heads = Table(
    "chain_heads",
    metadata,
    Column("chain", String(16), primary_key=True),
    Column("count", BigInteger, nullable=False),
    Column("head", String(64), nullable=False),
)

tlog_tiles = Table(
    "tlog_tiles",
    metadata,
    # Each chain's Merkle tree (the transparency log, docs/transparency.md) as C2SP tlog-tiles:
    # tile ``idx`` of ``level`` holds up to 256 concatenated 32-byte hashes of subtrees of height
    # 8 * level. Only the rightmost tile of a level is partial and is rewritten, longer, as the
    # chain grows, in the transaction that appends (``store/tiles.py``); derived from the chains.
    Column("chain", String(16), primary_key=True),
    Column("level", Integer, primary_key=True, autoincrement=False),
    Column("idx", BigInteger, primary_key=True, autoincrement=False),
    Column("hashes", LargeBinary, nullable=False),
)

tlog_cosignatures = Table(
    "tlog_cosignatures",
    metadata,
    # Witnesses' cosignatures (C2SP tlog-cosignature) of a chain's checkpoint of ``size`` entries,
    # as each witness submitted its signature line (POST /log/{chain}/cosignature), served with
    # the checkpoint of that size while the witness is known (decision 0056). Checked again when
    # served, against the tree as it is then.
    Column("chain", String(16), primary_key=True),
    Column("size", BigInteger, primary_key=True, autoincrement=False),
    Column("witness", String(128), primary_key=True),
    Column("key_id", String(8), primary_key=True),
    Column("line", Text, nullable=False),
    Column("at", DateTime, nullable=False),
)

decision_state = Table(
    "decision_state",
    metadata,
    # Each subject's decisions, materialised (store/decisionstate.py, decision 0048): derived from
    # the ledger, the cases and the registry, in no chain. ``epoch`` moves in every transaction
    # that changes what the state is computed from (and empties it: a tombstone), so a state
    # computed from older inputs is never written over a newer change. A subject is named by its
    # keyed pseudonym (the one ``records.subject`` holds), never its code (decision 0068).
    Column("subject", String(64), primary_key=True),
    Column("epoch", BigInteger, nullable=False),
    Column("basis", String(64)),
    Column("as_of", DateTime),
    Column("valid_until", DateTime, index=True),
    Column("payload", Text),
)
