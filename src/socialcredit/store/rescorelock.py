"""The rescorer's lock: at most one process of an installation rescores the public pages at a
time (docs/decisions/0087-one-public-rescore.md), however many ``serve``
processes share its database.

Why a lock held for the process's life and not a row: a lock the operating system or the
database server releases when its holder dies needs no expiry and no clean-up. On PostgreSQL it is
a session advisory lock on a connection of its own (the migrations take the transaction form of
the same kind); on SQLite an exclusive ``flock`` on a file beside the database, as the shared rate
limits lock theirs (decision 0073). One class per backend, chosen once (:func:`rescorer_lock`).
"""

from __future__ import annotations

import fcntl
import os
from typing import Protocol

from sqlalchemy import Connection, text

from socialcredit.store.sql import Store

LOCK_KEY = 0x5C_0087
"""The advisory lock's key (any constant of this application's own, apart from the migrations')."""


class RescorerLock(Protocol):
    def try_acquire(self) -> bool:
        """Take the lock if no other process holds it; whether this one now does."""
        ...

    def release(self) -> None: ...


class FileLock:
    """An exclusive ``flock`` on ``path`` (SQLite: a file beside the database)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._fd = fd
        return True

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None


class AdvisoryLock:
    """A PostgreSQL session advisory lock, held on a connection of its own."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._conn: Connection | None = None

    def try_acquire(self) -> bool:
        if self._conn is not None:
            return True
        conn = self.store.engine.connect()
        held = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY}).scalar())
        conn.commit()  # the session lock outlives the transaction that took it
        if not held:
            conn.close()
            return False
        self._conn = conn
        return True

    def release(self) -> None:
        if self._conn is not None:
            self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
            self._conn.commit()
            self._conn.close()
            self._conn = None


def rescorer_lock(store: Store) -> RescorerLock:
    """The lock for the store's database: an advisory lock on PostgreSQL, a file lock beside a
    SQLite file. (An in-memory SQLite database has one process: ``serve`` rescores in it.)"""
    if store.dialect.name == "postgresql":
        return AdvisoryLock(store)
    if store.dialect.file is None:
        raise ValueError("an in-memory database has no rescorer process")
    return FileLock(f"{store.dialect.file}.rescorer.lock")
