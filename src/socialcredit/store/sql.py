"""The one write path to the ledger and the audit log, and the reads the services need.

Why one path: appending to a hash chain must be serialised (each link needs the one before), so
every append takes the chain's lock, deduplicates, links and inserts in one transaction. On
SQLite the lock is ``BEGIN IMMEDIATE`` (one writer across processes); on PostgreSQL it is a row
lock on the chain head (both: ``store/dialect.py``, where every difference between the two
backends is). Either way a crash leaves the chain at a committed batch boundary.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, update
from sqlalchemy.engine import Connection, RowMapping

from socialcredit import access, ledger
from socialcredit.dueprocess.cases import CaseEvent
from socialcredit.ledger import Quarantined, Record
from socialcredit.store import tables as t
from socialcredit.store.dialect import (
    DEFAULT_CACHE_MIB,
    PAGE_SIZE,
    READ,
    Dialect,
    dialect_for,
    sqlite_stored_row,
)
from socialcredit.subjects import SubjectRow

CHUNK = 500
CHAINS = ("records", "audit", "cases")
REGISTRY_MARKER = "registry"
"""A row of ``chain_heads`` that is no chain: its count goes up with every change to the subject
registry, so caches in any process (``service/views.py``) see registrations as they see new
records. Its head is the time of the last change."""
RECORD_COLUMNS = (
    "seq",
    "record_id",
    "subject",
    "subject_kind",
    "item",
    "source",
    "source_record_id",
    "occurred_on",
    "reported_at",
    "reported_given",
    "evidence",
    "action",
    "corrects",
    "details",
    "received_at",
    "batch_id",
    "content_hash",
    "claim_hash",
    "chain_hash",
)
# The order ingestion builds a record's row in: the sealed record (``ledger.SEALED_FIELDS``, known
# before the chain's lock is taken), then the batch's two values, then the two its position decides.
SEALED_COLUMNS = (*ledger.SEALED_FIELDS, "received_at", "batch_id", "seq", "chain_hash")
assert sorted(SEALED_COLUMNS) == sorted(RECORD_COLUMNS)
_RID, _SOURCE, _SRID, _ACTION, _CORRECTS, _CONTENT, _CLAIM = (
    ledger.SEALED_FIELDS.index(c)
    for c in ("record_id", "source", "source_record_id", "action", "corrects", "content_hash", "claim_hash")
)
__all__ = [
    "CHUNK",
    "DEFAULT_CACHE_MIB",
    "PAGE_SIZE",
    "RECORD_COLUMNS",
    "REGISTRY_MARKER",
    "SEALED_COLUMNS",
    "ChunkOutcome",
    "PendingChunk",
    "Store",
    "StoredKey",
    "SubjectRow",
    "default_url",
    "record_from_row",
    "sqlite_stored_row",
]


def default_url(home: Path) -> str:
    """The embedded default: one SQLite file in the data directory."""
    return f"sqlite:///{home / 'socialcredit.db'}"


@dataclass(frozen=True, slots=True)
class StoredKey:
    """An API key as stored: its hash, never the token."""

    key_id: str
    token_hash: str
    role: str
    principal: str | None
    name: str
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None


@dataclass(frozen=True, slots=True)
class ChunkOutcome:
    accepted: int
    duplicate: int
    quarantined: list[Quarantined]


@dataclass(frozen=True, slots=True)
class PendingChunk:
    """One validated chunk to append (see :meth:`Store.append_chunks`): ``rows``
    are its records sealed (``ledger.Sealed``) and converted for this store
    (:meth:`Store.stored_row`), in submission order, with their row numbers and submitted
    rows (quoted back if a record is refused); ``quarantined`` are the rows validation refused."""

    submitted: int
    rows: Sequence[tuple[Any, ...]]
    quarantined: Sequence[Quarantined]
    row_numbers: Sequence[int]
    raws: Sequence[Mapping[str, Any]]


def _dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def record_from_row(m: RowMapping | Mapping[str, Any]) -> Record:
    """Rebuild a :class:`Record` from a stored row, exactly as it was hashed."""
    return Record(
        record_id=m["record_id"],
        subject=m["subject"],
        subject_kind=m["subject_kind"],
        item=m["item"],
        source=m["source"],
        source_record_id=m["source_record_id"],
        occurred_on=m["occurred_on"],
        reported_at=m["reported_at"],
        reported_given=bool(m["reported_given"]),
        evidence=m["evidence"],
        action=m["action"],
        corrects=m["corrects"],
        details=json.loads(m["details"]),
        seq=m["seq"],
        received_at=m["received_at"],
        batch_id=m["batch_id"],
        content_hash=m["content_hash"],
        claim_hash=m["claim_hash"],
        chain_hash=m["chain_hash"],
    )


class Store:
    """A database holding one socialcredit installation."""

    def __init__(self, url: str, *, cache_mib: int | None = None) -> None:
        self.url = url
        self.dialect: Dialect = dialect_for(url, cache_mib=cache_mib)
        self.engine: Engine = self.dialect.create_engine(url)
        # Reads go through ``reader``: on SQLite they begin a deferred transaction (one consistent
        # snapshot in WAL mode) instead of taking the write lock, so concurrent questions do not
        # queue behind each other's reads and writers wait only for writers.
        self.reader: Engine = self.engine.execution_options(**{READ: True})
        # Bulk inserts of records bypass SQLAlchemy's per-row bind processing (most of the cost
        # of ingestion); values are converted here exactly as SQLAlchemy would store them.
        mark = self.dialect.mark
        cols = [c.name for c in t.records.columns]
        assert tuple(cols) == RECORD_COLUMNS, "append_chunk builds rows in RECORD_COLUMNS order"
        self._insert_records = (
            f"INSERT INTO records ({', '.join(cols)}) VALUES ({', '.join([mark] * len(cols))})"
        )
        self._insert_sealed = (
            f"INSERT INTO records ({', '.join(SEALED_COLUMNS)}) "
            f"VALUES ({', '.join([mark] * len(SEALED_COLUMNS))})"
        )
        # The dedup lookup of a whole chunk in one statement, probing the unique index.
        self._existing_records = "SELECT record_id, claim_hash, source FROM records WHERE " + (
            self.dialect.in_list("record_id")
        )
        self._create()

    def _create(self) -> None:
        """Create missing tables and the two chain heads."""
        t.metadata.create_all(self.engine)
        with self.engine.begin() as conn:
            have = {c for (c,) in conn.execute(select(t.chain_heads.c.chain))}
            for chain in CHAINS:
                if chain not in have:
                    conn.execute(t.chain_heads.insert().values(chain=chain, count=0, head=ledger.GENESIS))
            if REGISTRY_MARKER not in have:
                conn.execute(t.chain_heads.insert().values(chain=REGISTRY_MARKER, count=0, head=""))

    def close(self) -> None:
        self.engine.dispose()

    # ------------------------------------------------------------------ chain heads

    def _lock_head(self, conn: Connection, chain: str) -> tuple[int, str]:
        q = select(t.chain_heads.c.count, t.chain_heads.c.head).where(t.chain_heads.c.chain == chain)
        row = conn.execute(self.dialect.for_update(q)).one()
        return int(row[0]), str(row[1])

    def _set_head(self, conn: Connection, chain: str, count: int, head: str) -> None:
        conn.execute(
            update(t.chain_heads).where(t.chain_heads.c.chain == chain).values(count=count, head=head)
        )

    def head(self, chain: str) -> tuple[int, str]:
        with self.reader.connect() as conn:
            row = conn.execute(
                select(t.chain_heads.c.count, t.chain_heads.c.head).where(t.chain_heads.c.chain == chain)
            ).one()
            return int(row[0]), str(row[1])

    # ------------------------------------------------------------------ batches

    def begin_batch(
        self, *, batch_id: str, origin: str, source: str | None, submitted_by: str | None, at: dt.datetime
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                t.batches.insert().values(
                    batch_id=batch_id,
                    origin=origin[:500],
                    source=source,
                    submitted_by=submitted_by,
                    received_at=at,
                    submitted=0,
                    accepted=0,
                    duplicate=0,
                    quarantined=0,
                )
            )

    def stored_row(self) -> Callable[[ledger.Sealed], tuple[Any, ...]]:
        """The conversion of a sealed record to this store's values (dates and times as text on
        SQLite, exactly as SQLAlchemy stores them; as they are on PostgreSQL)."""
        return self.dialect.stored_row()

    def append_chunk(
        self,
        *,
        batch_id: str,
        submitted: int,
        records: Sequence[Record],
        quarantined: Sequence[Quarantined],
        row_numbers: Sequence[int],
        raws: Sequence[Mapping[str, Any]],
        received_at: dt.datetime,
        may_correct_any: bool,
    ) -> ChunkOutcome:
        """Deduplicate, link and insert validated records, and keep the quarantined rows, in one
        transaction together with the batch's running counts."""
        convert, seal = self.stored_row(), ledger.sealed
        rows = [convert(seal(r)) for r in records]
        return self._append_rows(
            PendingChunk(submitted, rows, quarantined, row_numbers, raws),
            batch_id,
            received_at,
            may_correct_any,
        )

    def _append_rows(
        self, c: PendingChunk, batch_id: str, received_at: dt.datetime, may_correct_any: bool
    ) -> ChunkOutcome:
        """The write transaction of one chunk: take the chain's lock, look up which of its ids
        (and the ids its corrections name) the ledger holds, then link and insert in order."""
        q_out = list(c.quarantined)
        link = ledger.chain_linker(received_at, batch_id)
        received = self.dialect.ts(received_at)
        wanted = list({row[_RID] for row in c.rows} | {row[_CORRECTS] for row in c.rows if row[_CORRECTS]})
        with self.engine.begin() as conn:
            count, head = self._lock_head(conn, "records")
            existing: dict[str, tuple[str, str]] = {}
            if wanted:
                param = self.dialect.in_list_param(wanted)
                for rid, chash, src in conn.exec_driver_sql(self._existing_records, (param,)):
                    existing[rid] = (chash, src)
            rows: list[tuple[Any, ...]] = []
            duplicate = 0
            for row, n, raw in zip(c.rows, c.row_numbers, c.raws, strict=True):
                # the common case, a new report, costs one dict probe; anything else is judged
                # by _refusal (duplicate, conflict, restoration, correction)
                if row[_CORRECTS] is not None or row[_ACTION] == "restore" or row[_RID] in existing:
                    refusal = self._refusal(row, existing, may_correct_any)
                    if refusal == "":
                        duplicate += 1
                        continue
                    if refusal is not None:
                        q_out.append(Quarantined(n, raw, (refusal,)))
                        continue
                count += 1
                head = link(head, count, row[_CONTENT])
                existing[row[_RID]] = (row[_CLAIM], row[_SOURCE])
                rows.append((*row, received, batch_id, count, head))
            if rows:
                conn.exec_driver_sql(self._insert_sealed, rows)
                self._set_head(conn, "records", count, head)
            if q_out:
                conn.execute(
                    t.quarantine.insert(),
                    [
                        {
                            "batch_id": batch_id,
                            "row_number": q.row_number,
                            "raw": _dumps(dict(q.raw))[:20000],
                            "reasons": _dumps(list(q.reasons)),
                        }
                        for q in q_out
                    ],
                )
            conn.execute(
                update(t.batches)
                .where(t.batches.c.batch_id == batch_id)
                .values(
                    submitted=t.batches.c.submitted + c.submitted,
                    accepted=t.batches.c.accepted + len(rows),
                    duplicate=t.batches.c.duplicate + duplicate,
                    quarantined=t.batches.c.quarantined + len(q_out),
                )
            )
        return ChunkOutcome(len(rows), duplicate, q_out)

    @staticmethod
    def _refusal(
        row: tuple[Any, ...], existing: Mapping[str, tuple[str, str]], may_correct_any: bool
    ) -> str | None:
        """Why a sealed record is not appended: "" for a duplicate, a reason for quarantine, None
        to append. ``existing`` maps the ids already in the ledger (or earlier in this chunk)
        that it names to their (claim hash, source)."""
        record_id, source, srid, corrects = row[_RID], row[_SOURCE], row[_SRID], row[_CORRECTS]
        seen = existing.get(record_id)
        if seen is not None:
            if seen[0] == row[_CLAIM]:
                return ""
            return (
                f"source_record_id: {srid!r} from {source} was already "
                f"accepted with different content (record {record_id}); send a "
                "record with action 'correct' that references it instead"
            )
        if row[_ACTION] == "restore" and not may_correct_any:
            return "action: only an operator records a credit restoration"
        if corrects is not None:
            target = existing.get(corrects)
            if target is None:
                return f"corrects: no record {corrects!r} in the ledger"
            if target[1] != source and not may_correct_any:
                return (
                    f"corrects: record {corrects} came from {target[1]}; only that source "
                    "or an operator may correct it"
                )
        return None

    def append_chunks(
        self,
        chunks: Iterable[PendingChunk],
        *,
        batch_id: str,
        received_at: dt.datetime,
        may_correct_any: bool,
    ) -> Iterator[tuple[PendingChunk, ChunkOutcome]]:
        """Append chunks one after the other, each in its own transaction, yielding each chunk
        with its outcome; an error stops the batch there (the chunks before it stay committed).

        Why not on a writer thread, overlapping the caller's validation of the next chunk:
        measured, it was slower (17,000 against 27,600 records/s at 200,000 records). ``sqlite3``
        releases the GIL inside each row's step but needs it back to bind the next row, and
        while the other thread runs Python it gets it back only every switch interval (5 ms),
        so the insert crawls until the validation is done. Handing SQLite a whole chunk in one
        GIL-free statement (rows as one JSON array) cost more CPU than it could save on two
        cores shared with other work (docs/decisions/0011-ingest-throughput.md)."""
        for c in chunks:
            yield c, self._append_rows(c, batch_id, received_at, may_correct_any)

    def batch(self, batch_id: str) -> dict[str, Any] | None:
        with self.reader.connect() as conn:
            row = conn.execute(select(t.batches).where(t.batches.c.batch_id == batch_id)).mappings().first()
            return dict(row) if row else None

    def batches_by_origin(self) -> dict[str, list[dict[str, Any]]]:
        """Batches grouped by where they came from (files, HTTP, the demo)."""
        out: dict[str, list[dict[str, Any]]] = {}
        with self.reader.connect() as conn:
            for m in conn.execute(select(t.batches).order_by(t.batches.c.received_at)).mappings():
                out.setdefault(m["origin"], []).append(dict(m))
        return out

    def reset(self) -> None:
        """Drop and recreate every table. Only the demo uses this, on a database it built."""
        t.metadata.drop_all(self.engine)
        self._create()

    def quarantine_of(self, batch_id: str, limit: int = 1000) -> list[dict[str, Any]]:
        with self.reader.connect() as conn:
            rows = conn.execute(
                select(t.quarantine)
                .where(t.quarantine.c.batch_id == batch_id)
                .order_by(t.quarantine.c.row_number)
                .limit(limit)
            ).mappings()
            return [{**r, "raw": json.loads(r["raw"]), "reasons": json.loads(r["reasons"])} for r in rows]

    # ------------------------------------------------------------------ records

    def records_for(self, code: str) -> list[Record]:
        """A subject's records plus every correction or withdrawal that touches them, so the
        effective view can be computed (a record corrected onto another subject disappears)."""
        with self.reader.connect() as conn:
            found = {
                m["record_id"]: record_from_row(m)
                for m in conn.execute(select(t.records).where(t.records.c.subject == code)).mappings()
            }
            frontier = list(found)
            while frontier:
                nxt = []
                for i in range(0, len(frontier), CHUNK):
                    part = frontier[i : i + CHUNK]
                    for m in conn.execute(select(t.records).where(t.records.c.corrects.in_(part))).mappings():
                        if m["record_id"] not in found:
                            found[m["record_id"]] = record_from_row(m)
                            nxt.append(m["record_id"])
                frontier = nxt
        return sorted(found.values(), key=lambda r: r.seq)

    def record(self, record_id: str) -> Record | None:
        with self.reader.connect() as conn:
            m = conn.execute(select(t.records).where(t.records.c.record_id == record_id)).mappings().first()
            return record_from_row(m) if m else None

    def iter_records(self, batch_size: int = 50_000) -> Iterator[list[Record]]:
        """Every record in ledger order, in pages (keyset pagination on seq)."""
        last = 0
        while True:
            with self.reader.connect() as conn:
                page = [
                    record_from_row(m)
                    for m in conn.execute(
                        select(t.records)
                        .where(t.records.c.seq > last)
                        .order_by(t.records.c.seq)
                        .limit(batch_size)
                    ).mappings()
                ]
            if not page:
                return
            yield page
            last = page[-1].seq

    def iter_by_subject(self) -> Iterator[tuple[str, list[Record]]]:
        """Every subject's records, one subject at a time, streamed in subject order."""
        with self.reader.connect().execution_options(yield_per=20_000) as conn:
            current: str | None = None
            group: list[Record] = []
            for m in conn.execute(
                select(t.records).order_by(t.records.c.subject, t.records.c.seq)
            ).mappings():
                if m["subject"] != current:
                    if current is not None:
                        yield current, group
                    current, group = m["subject"], []
                group.append(record_from_row(m))
            if current is not None:
                yield current, group

    def superseded_ids(self) -> set[str]:
        """Ids of every record some correction or withdrawal references. Restorations are left to
        ``ledger.effective`` over the subject's own records, which knows which ones count (a
        restoration never ends a judicial record: ``dueprocess.restoration``)."""
        with self.reader.connect() as conn:
            return {
                c
                for (c,) in conn.execute(
                    select(t.records.c.corrects).where(
                        t.records.c.corrects.is_not(None), t.records.c.action != "restore"
                    )
                )
            }

    def count_records(self) -> int:
        with self.reader.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(t.records)).scalar_one())

    def verify_records(self) -> list[ledger.ChainProblem]:
        """Recompute every record's content and chain hash from what is stored now."""
        head = self.head("records")
        prev = ledger.GENESIS

        def rows() -> Iterator[tuple[int, str, str, str, str]]:
            nonlocal prev
            for page in self.iter_records():
                for r in page:
                    assert r.received_at is not None and r.batch_id is not None
                    content = ledger.content_hash(r)
                    recomputed = ledger.chain_hash(prev, r.seq, content, r.received_at, r.batch_id)
                    if ledger.claim_hash(r) != r.claim_hash:  # the dedup key, derived from the same fields
                        recomputed = "claim hash altered"
                    yield r.seq, r.record_id, content, r.chain_hash, recomputed
                    prev = r.chain_hash

        return list(ledger.verify_chain(rows(), head=head))

    # ------------------------------------------------------------------ subjects

    def upsert_subjects(self, rows: Sequence[SubjectRow], at: dt.datetime) -> tuple[int, int, int]:
        """Register subjects or update their registration; returns (added, updated, unchanged).
        (The registry is not the ledger: a new legal representative replaces the old one.)"""
        if not rows:
            return 0, 0, 0
        latest = {r.code: r for r in rows}
        added = updated = unchanged = 0
        with self.engine.begin() as conn:
            codes = list(latest)
            have: dict[str, SubjectRow] = {}
            for i in range(0, len(codes), CHUNK):
                for m in conn.execute(
                    select(t.subjects).where(t.subjects.c.code.in_(codes[i : i + CHUNK]))
                ).mappings():
                    have[m["code"]] = _subject(m)
            new = []
            for code, r in latest.items():
                old = have.get(code)
                if old is None:
                    new.append({**asdict(r), "registered_at": at})
                    added += 1
                elif old == r:
                    unchanged += 1
                else:
                    conn.execute(update(t.subjects).where(t.subjects.c.code == code).values(**asdict(r)))
                    updated += 1
            if new:
                conn.execute(t.subjects.insert(), new)
            if added or updated:  # in the same transaction: the marker moves exactly when they land
                conn.execute(
                    update(t.chain_heads)
                    .where(t.chain_heads.c.chain == REGISTRY_MARKER)
                    .values(count=t.chain_heads.c.count + 1, head=at.isoformat())
                )
        return added, updated, unchanged + len(rows) - len(latest)

    def subject(self, code: str) -> SubjectRow | None:
        with self.reader.connect() as conn:
            m = conn.execute(select(t.subjects).where(t.subjects.c.code == code)).mappings().first()
        return _subject(m) if m is not None else None

    def represented_by(self, person: str) -> list[str]:
        """Organisations whose legal representative is ``person``."""
        with self.reader.connect() as conn:
            return [
                c
                for (c,) in conn.execute(
                    select(t.subjects.c.code).where(t.subjects.c.legal_representative == person)
                )
            ]

    def representatives(self) -> dict[str, str]:
        """Organisation code -> legal representative code, for population runs."""
        with self.reader.connect() as conn:
            return {
                o: p
                for o, p in conn.execute(
                    select(t.subjects.c.code, t.subjects.c.legal_representative).where(
                        t.subjects.c.legal_representative.is_not(None)
                    )
                )
            }

    def subject_rows(self) -> list[SubjectRow]:
        with self.reader.connect() as conn:
            return [_subject(m) for m in conn.execute(select(t.subjects)).mappings()]

    # ------------------------------------------------------------------ audit

    def append_audit(self, entries: Sequence[Mapping[str, Any]], *, durable: bool = False) -> None:
        """Append audit entries to their chain in one transaction; committed before the answer
        is returned. ``durable`` asks SQLite to sync the commit to disk (``synchronous=FULL``, on
        a connection of its own: ``store/auditsqlite.py``): the group commit of decisions uses
        it, so an acknowledged decision survives a power cut and not only a crash of the
        process; one fsync is shared by every entry in the group. (PostgreSQL commits are
        durable already.)"""
        if not entries:
            return
        if durable:
            appender = self.dialect.durable_audit(self)
            if appender is not None:
                appender.append(entries)
                return
        with self.engine.begin() as conn:
            count, head = self._lock_head(conn, "audit")
            statements, count, head = self.audit_statements(count, head, entries)
            for sql, params in statements:
                conn.exec_driver_sql(sql, params)
            self._set_head(conn, "audit", count, head)

    def audit_statements(
        self, count: int, head: str, entries: Sequence[Mapping[str, Any]]
    ) -> tuple[list[tuple[str, tuple[Any, ...]]], int, str]:
        """The INSERT statements that append ``entries`` after (``count``, ``head``), and the
        chain's new count and head. One multi-row INSERT per 500 entries, not an executemany:
        the DB-API driver releases the GIL around every statement step, and a writer thread
        that must win the GIL back from a busy event loop once per row was what made group
        commits slow. A ``detail`` mapping shared by many entries (a prepared decision's) is
        serialised once per call."""
        mark, ts = self.dialect.mark, self.dialect.ts
        one = "(" + ", ".join([mark] * len(AUDIT_COLUMNS)) + ")"
        statements: list[tuple[str, tuple[Any, ...]]] = []
        values: list[Any] = []
        details: dict[int, str] = {}
        for n, e in enumerate(entries, start=1):
            count += 1
            row = {k: e.get(k) for k in AUDIT_FIELDS}
            detail = e.get("detail", {})
            text = details.get(id(detail))
            if text is None:
                text = details[id(detail)] = _dumps(detail)
            row["detail"] = text
            at = e["at"]
            head = ledger.chain_hash(head, count, _audit_content(row), at, "audit")
            values += [count, ts(at), *(row[k] for k in AUDIT_FIELDS[1:]), text, head]
            if n % AUDIT_ROWS_PER_INSERT == 0 or n == len(entries):
                rows = len(values) // len(AUDIT_COLUMNS)
                sql = f"INSERT INTO audit ({', '.join(AUDIT_COLUMNS)}) VALUES {', '.join([one] * rows)}"
                statements.append((sql, tuple(values)))
                values = []
        return statements, count, head

    def heads(self) -> dict[str, tuple[int, str]]:
        """Every chain's (count, head) in one read: the cheap marker a cache compares to learn
        whether anything was appended since it last looked (by this process or another)."""
        with self.reader.connect() as conn:
            return {
                str(c): (int(n), str(h))
                for c, n, h in conn.execute(
                    select(t.chain_heads.c.chain, t.chain_heads.c.count, t.chain_heads.c.head)
                )
            }

    def audit_entries(
        self, *, subject: str | None = None, limit: int = 100, before: int | None = None
    ) -> list[dict[str, Any]]:
        q = select(t.audit).order_by(t.audit.c.seq.desc()).limit(limit)
        if subject is not None:
            q = q.where(t.audit.c.subject == subject)
        if before is not None:
            q = q.where(t.audit.c.seq < before)
        with self.reader.connect() as conn:
            return [{**m, "detail": json.loads(m["detail"])} for m in conn.execute(q).mappings()]

    def decision_counts(self) -> dict[str, dict[str, int]]:
        """Decisions answered per measure and answer, from the audit log (measures applied)."""
        out: dict[str, dict[str, int]] = {}
        with self.reader.connect() as conn:
            for measure, answer, n in conn.execute(
                select(t.audit.c.measure, t.audit.c.answer, func.count())
                .where(t.audit.c.action == "decision")
                .group_by(t.audit.c.measure, t.audit.c.answer)
            ):
                out.setdefault(measure, {})[answer] = int(n)
        return dict(sorted(out.items()))

    def verify_audit(self) -> list[ledger.ChainProblem]:
        head = self.head("audit")
        prev = ledger.GENESIS

        def rows() -> Iterator[tuple[int, str, str, str, str]]:
            nonlocal prev
            with self.reader.connect() as conn:
                for m in conn.execute(select(t.audit).order_by(t.audit.c.seq)).mappings():
                    row = dict(m)
                    content = _audit_content(row)
                    at: dt.datetime = row["at"]
                    recomputed = ledger.chain_hash(prev, row["seq"], content, at, "audit")
                    yield row["seq"], f"audit#{row['seq']}", content, row["chain_hash"], recomputed
                    prev = row["chain_hash"]

        return list(ledger.verify_chain(rows(), head=head))

    # ------------------------------------------------------------------ due-process cases

    def append_case_event(self, e: CaseEvent) -> CaseEvent:
        """Append one step of an objection or restoration case to its chain."""
        with self.engine.begin() as conn:
            count, head = self._lock_head(conn, "cases")
            count += 1
            payload = _dumps(dict(e.payload))
            content = _dumps(
                [e.case_id, e.case_kind, e.kind, ledger.iso_dt(e.at), e.subject, e.key_id, e.role, payload]
            )
            head = ledger.chain_hash(head, count, content, e.at, "cases")
            conn.execute(
                t.case_events.insert().values(
                    seq=count,
                    case_id=e.case_id,
                    case_kind=e.case_kind,
                    kind=e.kind,
                    at=e.at,
                    subject=e.subject,
                    key_id=e.key_id,
                    role=e.role,
                    payload=payload,
                    chain_hash=head,
                )
            )
            self._set_head(conn, "cases", count, head)
        return CaseEvent(e.case_id, e.case_kind, e.kind, e.at, e.subject, e.key_id, e.role, e.payload, count)

    def case_events(
        self, *, case_id: str | None = None, subject: str | None = None, case_kind: str | None = None
    ) -> list[CaseEvent]:
        """Case events in order, filtered; the service folds them into cases."""
        q = select(t.case_events).order_by(t.case_events.c.seq)
        if case_id is not None:
            q = q.where(t.case_events.c.case_id == case_id)
        if subject is not None:
            q = q.where(t.case_events.c.subject == subject)
        if case_kind is not None:
            q = q.where(t.case_events.c.case_kind == case_kind)
        with self.reader.connect() as conn:
            return [
                CaseEvent(
                    m["case_id"],
                    m["case_kind"],
                    m["kind"],
                    m["at"],
                    m["subject"],
                    m["key_id"],
                    m["role"],
                    json.loads(m["payload"]),
                    m["seq"],
                )
                for m in conn.execute(q).mappings()
            ]

    def verify_cases(self) -> list[ledger.ChainProblem]:
        head = self.head("cases")
        prev = ledger.GENESIS

        def rows() -> Iterator[tuple[int, str, str, str, str]]:
            nonlocal prev
            with self.reader.connect() as conn:
                for m in conn.execute(select(t.case_events).order_by(t.case_events.c.seq)).mappings():
                    content = _dumps(
                        [
                            m["case_id"],
                            m["case_kind"],
                            m["kind"],
                            ledger.iso_dt(m["at"]),
                            m["subject"],
                            m["key_id"],
                            m["role"],
                            m["payload"],
                        ]
                    )
                    recomputed = ledger.chain_hash(prev, m["seq"], content, m["at"], "cases")
                    yield (
                        m["seq"],
                        f"case event #{m['seq']} ({m['case_id']})",
                        content,
                        m["chain_hash"],
                        recomputed,
                    )
                    prev = m["chain_hash"]

        return list(ledger.verify_chain(rows(), head=head))

    def subjects_touched_since(self, records_seq: int, cases_seq: int) -> set[str]:
        """Subjects whose answers may have changed since these chain positions: subjects of new
        records, of the records new corrections supersede, and of new case events."""
        r2 = t.records.alias("target")
        with self.reader.connect() as conn:
            found = {
                c for (c,) in conn.execute(select(t.records.c.subject).where(t.records.c.seq > records_seq))
            }
            found |= {
                c
                for (c,) in conn.execute(
                    select(r2.c.subject)
                    .select_from(t.records.join(r2, t.records.c.corrects == r2.c.record_id))
                    .where(t.records.c.seq > records_seq)
                )
            }
            found |= {
                c
                for (c,) in conn.execute(
                    select(t.case_events.c.subject).where(t.case_events.c.seq > cases_seq)
                )
            }
        return found

    def records_by_source(self) -> dict[str, int]:
        """How many reports each source has in the ledger (for its accuracy figure)."""
        with self.reader.connect() as conn:
            return {
                s: int(n)
                for s, n in conn.execute(
                    select(t.records.c.source, func.count())
                    .where(t.records.c.action == "report")
                    .group_by(t.records.c.source)
                )
            }

    def subjects_with_items(self, items: Sequence[str]) -> list[str]:
        """Subjects having any record of these items: the candidates for an item-based list."""
        if not items:
            return []
        with self.reader.connect() as conn:
            return sorted(
                {
                    c
                    for (c,) in conn.execute(
                        select(t.records.c.subject).where(t.records.c.item.in_(list(items))).distinct()
                    )
                }
            )

    def subjects_reported_since(self, since: dt.datetime) -> list[str]:
        """Subjects with a record reported since ``since`` (candidates for pending notices)."""
        with self.reader.connect() as conn:
            return sorted(
                {
                    c
                    for (c,) in conn.execute(
                        select(t.records.c.subject).where(t.records.c.reported_at >= since).distinct()
                    )
                }
            )

    # ------------------------------------------------------------------ keys

    def add_key(self, key: StoredKey) -> None:
        with self.engine.begin() as conn:
            conn.execute(t.api_keys.insert().values(**asdict(key)))

    def key(self, key_id: str) -> StoredKey | None:
        with self.reader.connect() as conn:
            m = conn.execute(select(t.api_keys).where(t.api_keys.c.key_id == key_id)).mappings().first()
        return StoredKey(**m) if m else None

    def list_keys(self) -> list[StoredKey]:
        with self.reader.connect() as conn:
            return [
                StoredKey(**m)
                for m in conn.execute(select(t.api_keys).order_by(t.api_keys.c.created_at)).mappings()
            ]

    def revoke_key(self, key_id: str, at: dt.datetime) -> bool:
        with self.engine.begin() as conn:
            res = conn.execute(
                update(t.api_keys)
                .where(t.api_keys.c.key_id == key_id, t.api_keys.c.revoked_at.is_(None))
                .values(revoked_at=at)
            )
            return bool(res.rowcount)

    def rotate_key(
        self, key_id: str, at: dt.datetime, *, expires_at: dt.datetime | None | bool = True
    ) -> access.NewKey | None:
        """Replace an active key by a new token for the same role and principal, revoking the old
        one in the same transaction (so a leaked token is dead the moment its successor exists).
        ``expires_at=True`` keeps the old key's expiry; a key already expired needs a new one.
        Returns None when there is no active key ``key_id``."""
        with self.engine.begin() as conn:
            q = select(t.api_keys).where(t.api_keys.c.key_id == key_id, t.api_keys.c.revoked_at.is_(None))
            m = conn.execute(self.dialect.for_update(q)).mappings().first()
            if m is None:
                return None
            old = StoredKey(**m)
            expiry = old.expires_at if expires_at is True else expires_at or None
            if expiry is not None and expiry <= at:
                raise ValueError(f"key {key_id} has expired; give the new key an expiry in the future")
            role: access.Role = old.role  # type: ignore[assignment]
            # an operator key made before holders were named stands for itself (its id): its
            # successor is named after it, so the decisions of both are one principal's
            principal = access.holder_of(old.key_id, old.principal) if role == "operator" else old.principal
            new = access.new_key(role, principal, name=old.name, now=at, expires_at=expiry)
            conn.execute(update(t.api_keys).where(t.api_keys.c.key_id == key_id).values(revoked_at=at))
            conn.execute(
                t.api_keys.insert().values(
                    **asdict(
                        StoredKey(
                            new.key_id, new.token_hash, new.role, new.principal, new.name, at, expiry, None
                        )
                    )
                )
            )
            return new


def _subject(m: RowMapping) -> SubjectRow:
    return SubjectRow(
        m["code"],
        m["kind"],
        m["name"],
        m["sex"],
        m["district"],
        m["legal_representative"],
        m["representative_since"],
    )


AUDIT_FIELDS = ("at", "key_id", "role", "principal", "action", "subject", "measure", "purpose", "answer")
AUDIT_COLUMNS = ("seq", *AUDIT_FIELDS, "detail", "chain_hash")
AUDIT_ROWS_PER_INSERT = 500


def _audit_content(row: Mapping[str, Any]) -> str:
    at = row["at"]
    return _dumps(
        [
            ledger.iso_dt(at) if isinstance(at, dt.datetime) else at,
            row.get("key_id"),
            row.get("role"),
            row.get("principal"),
            row.get("action"),
            row.get("subject"),
            row.get("measure"),
            row.get("purpose"),
            row.get("answer"),
            row["detail"],
        ]
    )
