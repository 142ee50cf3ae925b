"""What every part of the store shares: the database, its dialect, the tables and the chain heads.

Why a base of its own: the store is written by concern (``records.py``, ``audit.py``,
``cases.py``, ``keys.py``, ``subjects.py``), each a class over this one, and composed into the
one :class:`~socialcredit.store.sql.Store` callers hold. They all use one engine, one reader and
one :class:`~socialcredit.store.dialect.Dialect`, and every chain append goes through the same
two steps here: take the chain head's lock (:meth:`StoreBase._lock_head`) and move the head in
the same transaction (:meth:`StoreBase._set_head`), which grows the chain's Merkle tree too.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, select, update
from sqlalchemy.engine import Connection, RowMapping

from socialcredit import ledger
from socialcredit.store import migrations, tiles
from socialcredit.store import tables as t
from socialcredit.store.dialect import READ, Dialect, dialect_for

Row = RowMapping | Mapping[str, Any]
"""A stored row as read back (a result's mapping, or a plain dict of its columns)."""
CHUNK = 500
"""Ids per ``IN (...)`` of a read that follows corrections or looks up many codes."""
CHAINS = ("records", "audit", "cases")
REGISTRY_MARKER = "registry"
"""A row of ``chain_heads`` that is no chain: its count goes up with every change to the subject
registry, so caches in any process (``service/views.py``) see registrations as they see new
records. Its head is the time of the last change."""
ERASURES_MARKER = "erasures"
"""A row of ``chain_heads`` that is no chain: its count goes up with every erasure (a retention
run's, a granted request's), so the view caches of every process sharing the database drop what
they computed from the erased records at their next freshness check, as they do for a new record
(``store/markers.py``, decision 0094). The erasure log itself may live in another database (the
key store's, ``SOCIALCREDIT_KEYS_URL``), which that check does not read. Its head is the time of
the last erasure."""
MARKERS = (REGISTRY_MARKER, ERASURES_MARKER)


def default_url(home: Path) -> str:
    """The embedded default: one SQLite file in the data directory."""
    return f"sqlite:///{home / 'socialcredit.db'}"


def dumps(value: Any) -> str:
    """The canonical JSON text the chains hash and store (sorted keys, no spaces)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_plain)


def _plain(value: Any) -> Any:
    """A value JSON has no form for: its ``to_json()`` where it has one (a decision's receipt,
    kept in its audit entry as the object and written out here, off the answering path), else
    its text."""
    to_json = getattr(value, "to_json", None)
    return to_json() if callable(to_json) else str(value)


class StoreBase:
    """A database holding one socialcredit installation: its engines and chain heads."""

    def __init__(self, url: str, *, cache_mib: int | None = None) -> None:
        self.url = url
        self.dialect: Dialect = dialect_for(url, cache_mib=cache_mib)
        self.engine: Engine = self.dialect.create_engine(url)
        # Reads go through ``reader``: on SQLite they begin a deferred transaction (one consistent
        # snapshot in WAL mode) instead of taking the write lock, so concurrent questions do not
        # queue behind each other's reads and writers wait only for writers.
        self.reader: Engine = self.engine.execution_options(**{READ: True})
        self._create()

    def _create(self) -> None:
        """Create the schema or upgrade it to this release's (``store/migrations``), then the
        chain heads."""
        migrations.bring_up_to_date(self.engine)
        with self.engine.begin() as conn:
            have = {c for (c,) in conn.execute(select(t.chain_heads.c.chain))}
            for chain in CHAINS:
                if chain not in have:
                    conn.execute(t.chain_heads.insert().values(chain=chain, count=0, head=ledger.GENESIS))
            for marker in MARKERS:
                if marker not in have:
                    conn.execute(t.chain_heads.insert().values(chain=marker, count=0, head=ledger.GENESIS))

    def close(self) -> None:
        """Close every connection, the durable audit path's too (``store/auditsqlite.py``): on
        SQLite its connection never checkpoints by itself, so while it stayed open the last
        commits lived only in the write-ahead log, and a copy of the database file alone (a
        backup by file, the ingest bench's export copy) missed them."""
        durable = self.__dict__.pop("_durable_audit", None)
        if durable is not None:
            durable.close()
        self.engine.dispose()
        # A disposed engine would quietly open a new pool at its next use: a thread still
        # running after close (the view cache's watcher, polling for a few seconds more) did so,
        # and its connection then lived as long as the engine. After close, connecting fails.
        if not event.contains(self.engine, "do_connect", _refuse_closed):
            event.listen(self.engine, "do_connect", _refuse_closed)

    def reset(self) -> None:
        """Drop and recreate every table. Only the demo uses this, on a database it built."""
        t.metadata.drop_all(self.engine)
        migrations.drop_version(self.engine)
        self._create()

    # ------------------------------------------------------------------ chain heads

    def _lock_head(self, conn: Connection, chain: str) -> tuple[int, str]:
        q = select(t.chain_heads.c.count, t.chain_heads.c.head).where(t.chain_heads.c.chain == chain)
        row = conn.execute(self.dialect.for_update(q)).one()
        return int(row[0]), str(row[1])

    def _set_head(self, conn: Connection, chain: str, count: int, head: str, leaves: Sequence[bytes]) -> None:
        """Move the chain's head past the entries just linked, and grow its Merkle tree by their
        ``leaves`` (their leaf hashes, as ``ledger.chain_hash`` gave them) in the same
        transaction: the transparency log holds exactly the committed entries."""
        conn.execute(
            update(t.chain_heads).where(t.chain_heads.c.chain == chain).values(count=count, head=head)
        )
        tiles.grow(conn.exec_driver_sql, self.dialect.mark, chain, count - len(leaves), leaves)

    def mark_erasure(self, at: dt.datetime) -> None:
        """Move the erasures marker (:data:`ERASURES_MARKER`): call after destroying any data
        key, so every process's view cache forgets what it computed (decision 0094). A database
        restored from a backup of an earlier release may lack the row: it is added."""
        c = t.chain_heads.c
        with self.engine.begin() as conn:
            head = ledger.iso_dt(at)
            moved = conn.execute(
                update(t.chain_heads).where(c.chain == ERASURES_MARKER).values(count=c.count + 1, head=head)
            )
            if moved.rowcount == 0:
                conn.execute(t.chain_heads.insert().values(chain=ERASURES_MARKER, count=1, head=head))

    def head(self, chain: str) -> tuple[int, str]:
        with self.reader.connect() as conn:
            row = conn.execute(
                select(t.chain_heads.c.count, t.chain_heads.c.head).where(t.chain_heads.c.chain == chain)
            ).one()
            return int(row[0]), str(row[1])

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


class StoreClosed(RuntimeError):
    """The store was closed: nothing may connect through it any more."""


def _refuse_closed(*_: Any) -> None:
    raise StoreClosed("the store is closed")
