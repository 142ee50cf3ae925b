"""The group commit's own SQLite connection: plain ``sqlite3``, ``synchronous=FULL``.

Why a connection of its own: the rest of the installation runs SQLite with ``synchronous=NORMAL``
(a commit survives a crash of the process, but a power cut may lose the last ones); an audit
entry whose decision has been answered must not be lost either way, so its commits sync to disk,
and one sync is shared by the whole group. Why plain ``sqlite3`` rather than the SQLAlchemy
pool: the writer thread's fixed cost per group through SQLAlchemy (checkout, events, four
statements through the Core) was about a millisecond of CPU, paid while the event loop waited
for the GIL; here a group is five statements on one connection kept open.

Why this connection does not leave the WAL checkpoint to SQLite (``wal_autocheckpoint=0``):
SQLite runs the automatic checkpoint inside the commit that takes the WAL past 1,000 pages, and a
group of one decision writes 3 pages (16 KiB each: the audit row, its index entry, the chain
head), so every ~330th commit also copied the WAL back into the database file and synced it
while every request of its group, and those queued behind, waited: in a probe of one-entry
commits every 2 ms, the slowest commit took 26 to 110 ms (quiet or loaded machine) against
0.5 ms for a plain one. Instead a thread of its own (:class:`Checkpointer`) runs a PASSIVE
checkpoint every ``checkpoint_every`` commits beside them (it takes no write lock), copying
most pages while nobody waits; once the WAL is past 1,000 pages anyway (a checkpoint beside
commits seldom copies the very last page, and only a complete one lets the WAL start over) the
committing connection completes one itself, as SQLite would have, with only the pages added
since left to copy. Every commit is still synced before its requests are released: durability
is unchanged, only who copies pages back and when.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from socialcredit.shredding import Erasure, WrappedKey
from socialcredit.store import tiles
from socialcredit.store.audit import AuditStore
from socialcredit.store.datakeys import SqlKeyStore

Made = tuple[WrappedKey, AESGCM]
"""An audit key made for a group and its cipher, stored with the group's entries."""

CHECKPOINT_EVERY = 100
"""Commits between two background checkpoints (about 300 WAL pages, under a third of what
SQLite's own automatic checkpoint would let build up)."""
MAX_WAL_PAGES = 1000
"""WAL pages beyond which the committing connection completes a checkpoint itself (see
``Checkpointer.behind``): SQLite's own automatic checkpoint threshold, so the WAL is bounded as
it was."""


class Checkpointer:
    """Copies the WAL back into the database file (``PRAGMA wal_checkpoint(PASSIVE)``) on a
    connection and thread of its own whenever :meth:`request` is called, so that work is never
    inside an audit commit a request waits for. The thread starts on the first request and ends
    after ``idle_seconds`` without one, as the audit writer does."""

    def __init__(self, path: str, *, idle_seconds: float = 2.0, max_wal_pages: int = MAX_WAL_PAGES) -> None:
        self.path = path
        self.max_wal_pages = max_wal_pages
        self.idle_seconds = idle_seconds
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self.runs = 0
        """Checkpoints run (for tests)."""
        self.behind = False
        """Set when a checkpoint finds more than ``max_wal_pages`` in the WAL. The WAL starts over
        from its beginning only once a checkpoint has copied every page in it, which one running
        beside commits seldom manages (each commit adds pages while it copies); so the committing
        connection then completes one itself, as SQLite would have, with only the pages added
        since the last one left to copy."""

    def request(self) -> None:
        with self._lock:
            if self._closed:
                return
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="audit-checkpoint", daemon=True)
                self._thread.start()
            self._wake.set()  # under the lock: a thread deciding to end sees it

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            while True:
                if not self._wake.wait(self.idle_seconds):
                    with self._lock:
                        if not self._wake.is_set():
                            self._thread = None
                            return
                self._wake.clear()
                if self._closed:
                    return
                try:
                    _, pages, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error:
                    continue  # e.g. the file went away; a later request, or another connection, retries
                self.behind = pages > self.max_wal_pages
                self.runs += 1
        finally:
            conn.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            thread, self._thread = self._thread, None
            self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(10)


class ConnectionKeys:
    """The key table read on the durable connection (``Vault.keys``' ``source``): the table is in
    this database, and a read here costs a plain statement, not a SQLAlchemy transaction."""

    def __init__(self, keys: SqlKeyStore, conn: sqlite3.Connection) -> None:
        self.keys = keys
        self.conn = conn

    def _run(self, sql: str, params: Sequence[Any]) -> list[Any]:
        return self.conn.execute(sql, tuple(params)).fetchall()

    def wrapped_keys(self, wanted: Sequence[tuple[str, str]]) -> dict[tuple[str, str], WrappedKey]:
        return self.keys.wrapped_keys(wanted, self._run)

    def erasures_of(self, pairs: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Erasure]:
        return self.keys.erasures_of(pairs, self._run)


ADD_KEY = (
    f"INSERT INTO data_keys ({', '.join(WrappedKey._fields)}) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (pseudonym, klass) DO NOTHING"
)
"""A new audit key, stored in its entries' transaction (decision 0100); a pair another writer
keyed first is left as it is, and the group is sealed again under that writer's key."""


class DurableSqliteAudit:
    """Appends audit entries to a SQLite store's chain, one synced transaction per call.

    Where the key table is in the same database (the default), the audit keys a group makes for
    subjects asked about for the first time are read on this connection and stored in the
    group's own transaction, not in one of the key store's before it (decision 0100): one synced
    commit per group instead of a commit of keys and another of entries; a key is durable exactly
    when the entries sealed under it are. The keys are still read and the entries sealed before
    the write lock is taken."""

    def __init__(self, store: AuditStore, path: str, *, checkpoint_every: int = CHECKPOINT_EVERY) -> None:
        self.store = store
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=60)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "wal_autocheckpoint=0"):
            self._conn.execute(f"PRAGMA {pragma}")
        self._lock = threading.Lock()
        self.checkpoint_every = checkpoint_every
        self._commits = 0
        self.checkpointer = Checkpointer(path)
        keys = store.sealing.vault.store
        self.keys = (
            ConnectionKeys(keys, self._conn)
            if isinstance(keys, SqlKeyStore) and keys.shares(store.engine)
            else None
        )
        self.resealed = 0
        """Groups sealed again because another writer keyed one of their subjects first (tests)."""

    def sealed(self, entries: Sequence[Mapping[str, Any]]) -> tuple[list[dict[str, Any]], list[Made]]:
        """The entries as stored, and the audit keys made for them, still to be stored (none
        where the key table is elsewhere: the vault stores them itself, as before)."""
        made: list[Made] = []
        sealing = self.store.audit_sealing
        if self.keys is None:
            return sealing.stored(entries), made
        with self._lock:  # the connection's reads; the write lock is not taken
            return sealing.stored(entries, source=self.keys, pending=made), made

    def append(self, entries: Sequence[Mapping[str, Any]]) -> None:
        rows, made = self.sealed(entries)
        if not self.write(rows, made):
            self.resealed += 1
            self.write(self.store.audit_sealing.stored(entries), [])  # the vault's path: its key

    def write(self, rows: Sequence[Mapping[str, Any]], made: Sequence[Made]) -> bool:
        """Append ``rows`` (sealed) and store the keys ``made`` for them, in one synced
        transaction; False, with nothing written, if another writer stored a key for one of
        those subjects first (the rows were sealed under a key that is not theirs)."""
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")  # one writer across processes, as every chain append
            try:
                if made:
                    before = conn.total_changes
                    conn.executemany(ADD_KEY, sorted(w for w, _ in made))
                    if conn.total_changes - before != len(made):
                        conn.execute("ROLLBACK")
                        return False
                count, head = conn.execute(
                    "SELECT count, head FROM chain_heads WHERE chain = 'audit'"
                ).fetchone()
                leaves: list[bytes] = []
                size = int(count)
                statements, count, head = self.store.audit_statements(size, str(head), rows, leaves)
                for sql, params in statements:
                    conn.execute(sql, params)
                tiles.grow(conn.execute, "?", "audit", size, leaves)
                conn.execute(
                    "UPDATE chain_heads SET count = ?, head = ? WHERE chain = 'audit'", (count, head)
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            if made:
                self.store.audit_sealing.vault.keep(made)  # stored: other threads may seal with them
            self._commits += 1
            if self._commits % self.checkpoint_every == 0:
                if self.checkpointer.behind:
                    self.checkpointer.behind = False
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                self.checkpointer.request()
        return True

    def close(self) -> None:
        self.checkpointer.close()
        with self._lock:
            self._conn.close()


_LOCK = threading.Lock()


def durable_appender(store: AuditStore) -> DurableSqliteAudit | None:
    """The store's durable appender (made on first use), or None for an in-memory database,
    which a second connection would not see."""
    found: DurableSqliteAudit | None = store.__dict__.get("_durable_audit")
    if found is not None:
        return found
    path = store.dialect.file
    if path is None:
        return None
    with _LOCK:
        found = store.__dict__.get("_durable_audit")
        if found is None:
            found = store.__dict__["_durable_audit"] = DurableSqliteAudit(store, path)
    return found
