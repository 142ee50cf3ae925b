"""The ledger's concern in the store: ingest batches, the one append path, and record reads.

Why one path: appending to a hash chain must be serialised (each link needs the one before), so
every append takes the chain's lock, deduplicates, links and inserts in one transaction. On
SQLite the lock is ``BEGIN IMMEDIATE`` (one writer across processes); on PostgreSQL it is a row
lock on the chain head (both: ``store/dialect.py``). Either way a crash leaves the chain at a
committed batch boundary.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection, RowMapping

from socialcredit import ledger
from socialcredit.chaincheck import ChainProblem, Entry, verify_chain
from socialcredit.ledger import Quarantined, Record
from socialcredit.rules.days import day_of
from socialcredit.shredding import Vault
from socialcredit.store import quarantinekeys
from socialcredit.store import tables as t
from socialcredit.store.base import CHUNK
from socialcredit.store.decisionstate import touch
from socialcredit.store.logged import LoggedLeaves
from socialcredit.store.pipeline import Prepared, pipelined
from socialcredit.store.recordids import ChunkIds, predating
from socialcredit.store.sealedrows import STORED_FIELDS, ErasedRow, Sealing, own_hash_ok
from socialcredit.store.sealedstore import SealedStore

RECORD_COLUMNS: tuple[str, ...] = tuple(c.name for c in t.records.columns)
"""The records table's columns in the table's order: rows are built and read in this order."""
# The order ingestion builds a record's row in: the sealed record (``ledger.SEALED_FIELDS``, known
# before the chain's lock is taken), then the batch's two values, then the two its position decides.
SEALED_COLUMNS = (*STORED_FIELDS, "received_at", "batch_id", "seq", "chain_hash")
assert sorted(SEALED_COLUMNS) == sorted(RECORD_COLUMNS)
QUARANTINE_COLUMNS = ("batch_id", "row_number", "raw", "reasons", "klass")
"""The quarantine's columns an append writes, by the same bulk path as the records (its id is
the table's own)."""
_FIELDS = "record_id source source_record_id action corrects content_hash claim_hash subject subject_kind"
_RID, _SOURCE, _SRID, _ACTION, _CORRECTS, _CONTENT, _CLAIM, _SUBJECT, _KIND = (
    ledger.SEALED_FIELDS.index(c) for c in _FIELDS.split()
)


@dataclass(frozen=True, slots=True)
class ChunkOutcome:
    """What appending one chunk did: records appended, duplicates of records already in the
    ledger (skipped, not an error), and every quarantined row with its reasons (validation's
    and the append's own: a conflicting resubmission, a correction of nothing)."""

    accepted: int
    duplicate: int
    quarantined: list[Quarantined]


Presealed = tuple[list[tuple[Any, ...] | None], dict[int, ErasedRow]]
"""What ``Sealing.seal_chunk`` gives: each row as stored (None where its key was destroyed) and
why to quarantine each of those by position."""


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
    sealed: Presealed | None = None
    """``rows`` already encrypted (``Sealing.seal_chunk`` of them, in a helper process: decision
    0069), or of their first rows only (the helper's share, decision 0105), or None:
    :meth:`RecordStore._append_rows` encrypts the rest."""


def record_from_row(m: RowMapping | Mapping[str, Any]) -> Record:
    """Rebuild a :class:`Record` from a row stored in the clear (before schema 0006), exactly as
    it was hashed; a sealed row is opened by :meth:`RecordStore.open_records`."""
    return Sealing.plain(m)


def record_entry(m: RowMapping | Mapping[str, Any]) -> Entry:
    """A record as its chain covers it, from its stored row: the content hash recomputed from the
    stored form (``sealedrows.own_hash_ok``: no key is needed, so an erased record counts too),
    so an edit behind the application's back changes it. What ``verify`` checks and what its leaf
    in the transparency log is (``Entry.leaf``)."""
    content, own_ok = own_hash_ok(m)
    return Entry(m["seq"], m["record_id"], content, m["received_at"], m["batch_id"], m["chain_hash"], own_ok)


class RecordStore(SealedStore):
    """Batches, the append of validated records to the records chain, and reads of records."""

    def __init__(self, url: str, *, cache_mib: int | None = None, vault: Vault | None = None) -> None:
        super().__init__(url, cache_mib=cache_mib, vault=vault)
        # Bulk inserts of records bypass SQLAlchemy's per-row bind processing (most of the cost
        # of ingestion): values are converted exactly as SQLAlchemy would store them and handed to
        # the backend's bulk path (dialect.insert_rows: executemany on SQLite, COPY on PostgreSQL),
        # and so are the quarantined rows and the decision states a chunk empties (merge_rows).
        # The dedup lookup of a whole chunk in one statement, probing the unique index.
        self._existing_records = (
            "SELECT record_id, claim_hash, source, sealed IS NULL, subject, klass FROM records WHERE "
            + (self.dialect.in_list("record_id"))
        )

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
        rows = [convert(seal(r)) for r in records]  # sealed for storage by _append_rows
        return self._append_rows(
            PendingChunk(submitted, rows, quarantined, row_numbers, raws),
            batch_id,
            received_at,
            may_correct_any,
        )

    def _append_rows(
        self, c: PendingChunk, batch_id: str, received_at: dt.datetime, may_correct_any: bool
    ) -> ChunkOutcome:
        """One chunk: encrypted (:meth:`_prepare`), then written (:meth:`_write`)."""
        return self._write(self._prepare(c, received_at), batch_id, received_at, may_correct_any)

    def _prepare(self, c: PendingChunk, received_at: dt.datetime) -> Prepared:
        """A chunk's work before the chain's lock: its records encrypted (unless the helper
        process did) and the rows whose key was destroyed set aside with their reason. It writes
        nothing but new data keys (their own connection), so on PostgreSQL it runs for the next
        chunk while the ledger writer writes this one (decision 0104)."""
        q_out = list(c.quarantined)
        # encrypted before the chain's lock is taken: the key lookups and AES-GCM calls of the
        # chunk never hold up another writer
        maybe, refused = self._sealed(c)
        named = self._held_ids(refused.values()) if refused else {}
        for i, erased_row in refused.items():
            reason = erased_row.reason(named.get(erased_row.unkeyed_id, erased_row.keyed_id))
            q_out.append(Quarantined(c.row_numbers[i], c.raws[i], (reason,)))
        # every row was sealed but those refused (None)
        stored = [row for row in maybe if row is not None] if refused else cast(list[tuple[Any, ...]], maybe)
        # each stored row's record in the clear (its subject: the decision states it empties)
        plains, numbers, raws = c.rows, c.row_numbers, c.raws
        if refused:
            plains = [plain for plain, row in zip(c.rows, maybe, strict=True) if row is not None]
            numbers = [n for n, row in zip(c.row_numbers, maybe, strict=True) if row is not None]
            raws = [raw for raw, row in zip(c.raws, maybe, strict=True) if row is not None]
        qclass, qcipher = quarantinekeys.cipher_for(self.sealing.vault, received_at)
        return Prepared(c, maybe, stored, plains, numbers, raws, q_out, qclass, qcipher)

    def _write(
        self, p: Prepared, batch_id: str, received_at: dt.datetime, may_correct_any: bool
    ) -> ChunkOutcome:
        """The write transaction of one chunk: take the chain's lock, look up which of its ids
        (and the ids its corrections name) the ledger holds, then link and insert in order."""
        c, maybe, stored, q_out, qclass, qcipher = p.chunk, p.maybe, p.stored, p.q_out, p.qclass, p.qcipher
        plains, numbers, raws = p.plains, p.numbers, p.raws
        leaves: list[bytes] = []
        link = ledger.chain_linker(received_at, batch_id, leaves)
        received = self.dialect.ts(received_at)
        keyed = self.sealing.keyed_claim
        with self.engine.begin() as conn:
            count, head = self._lock_head(conn, "records")
            # the ids each row may be known by: keyed, or unkeyed if stored before (decision 0080)
            ids = ChunkIds.of(c.rows, maybe, self.sealing, predating(conn, count))
            judge = ids.judge if ids.active else None
            wanted = ids.wanted(stored)
            existing: dict[str, tuple[str, str]] = {}
            if wanted:
                param = self.dialect.in_list_param(wanted)
                sealed_at: dict[str, tuple[str, str]] = {}
                for rid, chash, src, clear, subject, klass in conn.exec_driver_sql(
                    self._existing_records, (param,)
                ):
                    # a record stored in the clear (before 0006) kept its claim hash unkeyed
                    existing[rid] = (keyed(chash) if clear else chash, src)
                    if not clear:
                        sealed_at[rid] = (subject, klass)
                erased = self._erased(sealed_at)
            else:
                erased = {}
            rows: list[tuple[Any, ...]] = []
            appended: list[tuple[Any, ...]] = []  # their records in the clear
            duplicate = 0
            for row, plain, n, raw in zip(stored, plains, numbers, raws, strict=True):
                rid = row[_RID]
                if judge is not None:  # by the id the ledger may hold it or its target under
                    row, rid = judge(row, existing)
                if erased:
                    gone = erased.get(rid) or (erased.get(row[_CORRECTS]) if row[_CORRECTS] else None)
                    if gone is not None:  # an erased record is never taken in again, nor corrected
                        q_out.append(Quarantined(n, raw, (gone,)))
                        continue
                # the common case, a new report, costs one dict probe; anything else is judged
                # by _refusal (duplicate, conflict, restoration, correction), quoting the
                # agency's reference as sent (the row holds it sealed)
                if row[_CORRECTS] is not None or row[_ACTION] == "restore" or rid in existing:
                    refusal = self._refusal(row, existing, may_correct_any, plain[_SRID], rid)
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
                appended.append(plain)
            if rows:
                self.dialect.insert_rows(conn, "records", SEALED_COLUMNS, rows)
                self._set_head(conn, "records", count, head, leaves)
                self._touch_states(conn, appended, rows)
            if q_out:  # sealed under the month's quarantine key (decision 0061)
                seal = quarantinekeys.seal_row
                sealed = [seal(qcipher, batch_id, q.row_number, q.raw, q.reasons) for q in q_out]
                rows_q = [
                    (batch_id, q.row_number, raw, why, qclass)
                    for q, (raw, why) in zip(q_out, sealed, strict=True)
                ]
                self.dialect.insert_rows(conn, "quarantine", QUARANTINE_COLUMNS, rows_q)
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

    def _sealed(self, c: PendingChunk) -> Presealed:
        """The chunk's rows as stored: what the helper process encrypted (decision 0069), which
        since decision 0105 may be its first rows only, and the rest sealed here by the same
        ``Sealing.seal_chunk`` (the helper's pseudonyms learnt: later reads open no row)."""
        if c.sealed is None:
            return self.sealing.seal_chunk(c.rows)
        maybe, refused = c.sealed
        done = len(maybe)
        self.sealing.learn(c.rows[:done], maybe)
        if done == len(c.rows):
            return maybe, refused
        rest, gone = self.sealing.seal_chunk(c.rows[done:])
        return [*maybe, *rest], {**refused, **{done + i: why for i, why in gone.items()}}

    def _held_ids(self, refused: Iterable[ErasedRow]) -> dict[str, str]:
        """Of these refused rows' unkeyed ids, those the ledger holds a record under (stored
        before keyed ids, decision 0080), each to itself: the id an erased re-send's reason
        names, the one the agency can find (decision 0094). One indexed read of the erased
        rows only (rare)."""
        ids = sorted({r.unkeyed_id for r in refused if r.unkeyed_id != r.keyed_id})
        if not ids:
            return {}
        c = t.records.c
        with self.reader.connect() as conn:
            held = conn.execute(select(c.record_id).where(c.record_id.in_(ids)))
            return {str(rid): str(rid) for (rid,) in held}

    def _erased(self, sealed_at: Mapping[str, tuple[str, str]]) -> dict[str, str]:
        """The reason to quarantine each of these record ids whose key was destroyed."""
        if not sealed_at:
            return {}
        log = self.sealing.vault.erased()
        out = {}
        for rid, pair in sealed_at.items():
            e = log.get(pair)
            if e is not None:
                out[rid] = (
                    f"source_record_id: record {rid} was erased on {day_of(e.at)} under rule "
                    f"{e.rule!r}; an erased record is not taken in again"
                )
        return out

    def _touch_states(
        self, conn: Connection, plains: Sequence[tuple[Any, ...]], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        """Empty the decision state of the subjects these records change (``plains``: each
        appended row's converted record in the clear, with its code and kind) and of the subjects
        of the records they correct (opened from their stored rows: a correction may move a record
        to another subject), as ``subjects_touched_since`` finds them, in this transaction."""
        codes = {plain[_SUBJECT] for plain in plains}
        orgs = {plain[_SUBJECT] for plain in plains if plain[_KIND] == "organisation"}
        corrected = sorted({row[_CORRECTS] for row in rows if row[_CORRECTS]})
        for i in range(0, len(corrected), CHUNK):
            q = select(t.records).where(t.records.c.record_id.in_(corrected[i : i + CHUNK]))
            for r in self.sealing.open_rows(conn.execute(q).mappings()):
                codes.add(r.subject)
                if r.subject_kind == "organisation":
                    orgs.add(r.subject)
        touch(conn, self.sealing.pseudonym, codes, orgs, dialect=self.dialect)

    @staticmethod
    def _refusal(
        row: tuple[Any, ...],
        existing: Mapping[str, tuple[str, str]],
        may_correct_any: bool,
        srid: str | None = None,
        record_id: str | None = None,
    ) -> str | None:
        """Why a sealed record is not appended: "" for a duplicate, a reason for quarantine, None
        to append. ``existing`` maps the ids already in the ledger (or earlier in this chunk)
        that it names to their (claim hash, source); ``srid`` is the agency's reference as sent
        (a stored row holds it sealed: decision 0075); ``record_id`` the id it is judged by (its
        unkeyed one where a record stored before holds it: decision 0080)."""
        source, corrects = row[_SOURCE], row[_CORRECTS]
        record_id = row[_RID] if record_id is None else record_id
        srid = row[_SRID] if srid is None else srid
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
        cores shared with other work (docs/decisions/0011-ingest-throughput.md).

        The pseudonym key is made first, if new: each chunk's transaction names the decision
        states it empties by pseudonym, and the key table is written by a connection of its own,
        which would wait on SQLite's write lock this transaction holds (found by the ingest bench's
        floor, which stores records in the clear and so made no key while sealing)."""
        self.sealing.vault.keyed()
        if self.dialect.writes_alongside:  # PostgreSQL: the next chunk encrypted meanwhile (0104)
            yield from pipelined(
                chunks,
                lambda c: self._prepare(c, received_at),
                lambda p: self._write(p, batch_id, received_at, may_correct_any),
            )
            return
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

    def batches(self, *, source: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """The newest ``limit`` batches, newest first; with ``source``, only the batches an
        agency submitted as itself (an agency's history)."""
        q = select(t.batches).order_by(t.batches.c.received_at.desc(), t.batches.c.batch_id).limit(limit)
        if source is not None:
            q = q.where(t.batches.c.source == source)
        with self.reader.connect() as conn:
            return [dict(m) for m in conn.execute(q).mappings()]

    def quarantine_classes(self) -> list[str]:
        """The quarantine keys' classes in use (``store/quarantinekeys.py``), for retention."""
        with self.reader.connect() as conn:
            q = select(t.quarantine.c.klass).where(t.quarantine.c.klass.is_not(None)).distinct()
            return sorted(k for (k,) in conn.execute(q))

    def quarantine_of(self, batch_id: str, limit: int = 1000) -> list[dict[str, Any]]:
        with self.reader.connect() as conn:
            rows = conn.execute(
                select(t.quarantine)
                .where(t.quarantine.c.batch_id == batch_id)
                .order_by(t.quarantine.c.row_number)
                .limit(limit)
            ).mappings()
            return quarantinekeys.open_rows(self.sealing.vault, rows)

    # ------------------------------------------------------------------ records

    def records_for(self, code: str) -> list[Record]:
        """A subject's records plus every correction or withdrawal that touches them, so the
        effective view can be computed (a record corrected onto another subject disappears)."""
        keys = self.subject_keys(code)
        with self.reader.connect() as conn:
            found = {
                r.record_id: r
                for r in self.open_records(
                    conn.execute(select(t.records).where(t.records.c.subject.in_(keys))).mappings()
                )
            }
            frontier = list(found)
            while frontier:
                nxt = []
                for i in range(0, len(frontier), CHUNK):
                    part = frontier[i : i + CHUNK]
                    rows = conn.execute(select(t.records).where(t.records.c.corrects.in_(part))).mappings()
                    for r in self.open_records(rows):
                        if r.record_id not in found:
                            found[r.record_id] = r
                            nxt.append(r.record_id)
                frontier = nxt
        return sorted(found.values(), key=lambda r: r.seq)

    def record(self, record_id: str) -> Record | None:
        with self.reader.connect() as conn:
            m = conn.execute(select(t.records).where(t.records.c.record_id == record_id)).mappings().first()
            opened = self.open_records([m]) if m else []
            return opened[0] if opened else None

    def iter_records(self, batch_size: int = 50_000) -> Iterator[list[Record]]:
        """Every readable record in ledger order, in pages (keyset pagination on seq); erased
        records are left out (a page may be short or, rarely, empty)."""
        for rows in self.row_pages(batch_size):
            yield self.open_records(rows)

    def row_pages(self, batch_size: int = 50_000) -> Iterator[list[RowMapping]]:
        """Every stored row in ledger order, in pages."""
        last = 0
        while True:
            with self.reader.connect() as conn:
                rows = list(
                    conn.execute(
                        select(t.records)
                        .where(t.records.c.seq > last)
                        .order_by(t.records.c.seq)
                        .limit(batch_size)
                    ).mappings()
                )
            if not rows:
                return
            yield rows
            last = rows[-1]["seq"]

    def iter_by_subject(self) -> Iterator[tuple[str, list[Record]]]:
        """Every subject's records, one subject at a time, streamed in subject order."""
        with self.reader.connect().execution_options(yield_per=20_000) as conn:
            current: str | None = None
            rows: list[RowMapping] = []
            for m in conn.execute(
                select(t.records).order_by(t.records.c.subject, t.records.c.seq)
            ).mappings():
                if m["subject"] != current:
                    if current is not None:
                        yield from self._group(rows)
                    current, rows = m["subject"], []
                rows.append(m)
            if current is not None:
                yield from self._group(rows)

    def _group(self, rows: list[RowMapping]) -> Iterator[tuple[str, list[Record]]]:
        """One subject's stored rows, opened (nothing if every one is erased)."""
        group = self.open_records(rows)
        if group:
            yield group[0].subject, group

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

    def count_records(self, known_at: dt.datetime | None = None) -> int:
        """How many records the ledger holds, or held at ``known_at`` (received by then)."""
        q = select(func.count()).select_from(t.records)
        if known_at is not None:
            q = q.where(t.records.c.received_at <= known_at)
        with self.reader.connect() as conn:
            return int(conn.execute(q).scalar_one())

    def verify_records(self) -> list[ChainProblem]:
        """Recompute every record's content, claim and chain hash from what is stored now."""
        head = self.head("records")

        def entries() -> Iterator[Entry]:
            # the stored rows, not the records: no key is needed, so erased records count too
            for page in self.row_pages():
                for m in page:
                    yield record_entry(m)

        return verify_chain(entries(), head=head, logged=LoggedLeaves(self, "records"))

    def records_by_source(self, known_at: dt.datetime | None = None) -> dict[str, int]:
        """How many reports each source has in the ledger (for its accuracy figure), or had at
        ``known_at`` (received by then)."""
        q = select(t.records.c.source, func.count()).where(t.records.c.action == "report")
        if known_at is not None:
            q = q.where(t.records.c.received_at <= known_at)
        with self.reader.connect() as conn:
            return {s: int(n) for s, n in conn.execute(q.group_by(t.records.c.source))}

    def subjects_with_items(self, items: Sequence[str]) -> list[str]:
        """Subjects having any record of these items: the candidates for an item-based list."""
        if not items:
            return []
        with self.reader.connect() as conn:
            found = conn.execute(
                select(t.records.c.subject).where(t.records.c.item.in_(list(items))).distinct()
            )
            return sorted(self.codes_of(conn, (c for (c,) in found)))

    def subjects_reported_since(self, since: dt.datetime) -> list[str]:
        """Subjects with a record reported since ``since`` (candidates for pending notices)."""
        with self.reader.connect() as conn:
            found = conn.execute(
                select(t.records.c.subject).where(t.records.c.reported_at >= since).distinct()
            )
            return sorted(self.codes_of(conn, (c for (c,) in found)))

    def record_subjects_since(self, conn: Connection, records_seq: int) -> set[str]:
        """Subjects whose records changed since this chain position: subjects of new records and
        of the records new corrections supersede (``Store.subjects_touched_since`` adds the cases')."""
        r2 = t.records.alias("target")
        found = {c for (c,) in conn.execute(select(t.records.c.subject).where(t.records.c.seq > records_seq))}
        found |= {
            c
            for (c,) in conn.execute(
                select(r2.c.subject)
                .select_from(t.records.join(r2, t.records.c.corrects == r2.c.record_id))
                .where(t.records.c.seq > records_seq)
            )
        }
        return self.codes_of(conn, found)
