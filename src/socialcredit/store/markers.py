"""The chain heads as a cheap change marker for the view cache (``service/views.py``).

Why: a cache of derived answers must notice writes made by *any* process sharing the database
(the server, a ``socialcredit ingest`` run, a second server). Every write that can change a
decision appends to the records or the cases chain, so their (count, head hash) pairs are a
monotonic marker: equal markers mean nothing was appended. A change to the subject registry
(a new legal representative) appends to no chain; it moves the ``registry`` row of the same
table instead (``Store.upsert_subjects``), and so does an erasure the ``erasures`` row
(``Store.mark_erasure``, decision 0094). Through SQLAlchemy one such read
costs about 0.3 ms, more than the whole decision; on SQLite a plain ``sqlite3`` connection kept
open reads the little ``chain_heads`` table in a few microseconds, so a blocking caller can check
it on every question, and the watcher thread every 10 ms. PostgreSQL goes through the store (a
network round trip either way).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Mapping

from socialcredit.store.decisionstate import StateRow
from socialcredit.store.sql import Store

Marker = tuple[tuple[int, str], tuple[int, str], tuple[int, str], tuple[int, str]]
"""((records count, records head), (cases count, cases head), (registry changes, last change),
(erasures, last erasure))."""

_QUERY = (
    "SELECT chain, count, head FROM chain_heads WHERE chain IN ('records', 'cases', 'registry', 'erasures')"
)
_NONE = (0, "")  # a database made before the registry marker: it gains the row when next opened


class HeadReader:
    """Reads the records and cases chain heads of a store (see the module docstring)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._path = store.dialect.file
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def read(self) -> Marker:
        if self._path is None:
            h = self.store.heads()
            return _marker(h)
        with self._lock:
            rows = {c: (int(n), str(h)) for c, n, h in self._connection().execute(_QUERY)}
        return _marker(rows)

    def read_state(self, code: str) -> tuple[Marker, StateRow | None] | None:
        """The marker and ``code``'s decision state (``Store.decision_state``) read in one
        transaction, so one moment of the store: the chain positions a decision's receipt names
        are those its state was read at. ``None`` where a read is not a local file's (the
        caller reads them as before, one after the other). Why: a question about a subject not in memory made
        two reads, the marker on this connection and the state through the store's pool (with
        its checkout and its own BEGIN and ROLLBACK), 80 µs of CPU a question; this is one
        short transaction on a connection kept open (decision 0088)."""
        if self._path is None:
            return None
        sql, params = self.store.decision_state_query(code)
        with self._lock:
            conn = self._connection()
            conn.execute("BEGIN")
            try:
                rows = {c: (int(n), str(h)) for c, n, h in conn.execute(_QUERY)}
                found = conn.execute(sql, params).fetchone()
            finally:
                conn.execute("COMMIT")
        marker = _marker(rows)
        return marker, self.store.decision_state_row(code, found)

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            assert self._path is not None
            # autocommit: each SELECT is its own short read transaction on the WAL snapshot
            self._conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        return self._conn

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None


def _marker(heads: Mapping[str, tuple[int, str]]) -> Marker:
    """The marker from chain heads by name, read whichever way: one place that knows its parts,
    so a new part (as the erasures' of decision 0094) is added once."""
    return heads["records"], heads["cases"], heads.get("registry", _NONE), heads.get("erasures", _NONE)
