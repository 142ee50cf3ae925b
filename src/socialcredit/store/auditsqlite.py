"""The group commit's own SQLite connection: plain ``sqlite3``, ``synchronous=FULL``.

Why a connection of its own: the rest of the installation runs SQLite with ``synchronous=NORMAL``
(a commit survives a crash of the process, but a power cut may lose the last ones); an audit
entry whose decision has been answered must not be lost either way, so its commits sync to disk,
and one sync is shared by the whole group. Why plain ``sqlite3`` rather than the SQLAlchemy
pool: the writer thread's fixed cost per group through SQLAlchemy (checkout, events, four
statements through the Core) was about a millisecond of CPU, paid while the event loop waited
for the GIL; here a group is five statements on one connection kept open.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from socialcredit.store.sql import Store


class DurableSqliteAudit:
    """Appends audit entries to a SQLite store's chain, one synced transaction per call."""

    def __init__(self, store: Store, path: str) -> None:
        self.store = store
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=60)
        for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON"):
            self._conn.execute(f"PRAGMA {pragma}")
        self._lock = threading.Lock()

    def append(self, entries: Sequence[Mapping[str, Any]]) -> None:
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")  # one writer across processes, as every chain append
            try:
                count, head = conn.execute(
                    "SELECT count, head FROM chain_heads WHERE chain = 'audit'"
                ).fetchone()
                statements, count, head = self.store.audit_statements(int(count), str(head), entries)
                for sql, params in statements:
                    conn.execute(sql, params)
                conn.execute(
                    "UPDATE chain_heads SET count = ?, head = ? WHERE chain = 'audit'", (count, head)
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            self._conn.close()


_LOCK = threading.Lock()


def durable_appender(store: Store) -> DurableSqliteAudit | None:
    """The store's durable appender (made on first use), or None for an in-memory database,
    which a second connection would not see."""
    found: DurableSqliteAudit | None = store.__dict__.get("_durable_audit")
    if found is not None:
        return found
    path = store.url.split("///", 1)[-1] if "///" in store.url else ""
    if not path or path == ":memory:" or "?" in path or "mode=memory" in path:
        return None
    with _LOCK:
        found = store.__dict__.get("_durable_audit")
        if found is None:
            found = store.__dict__["_durable_audit"] = DurableSqliteAudit(store, path)
    return found
