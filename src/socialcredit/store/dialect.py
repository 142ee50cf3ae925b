"""Every difference between the two backends, behind one interface with one class per backend.

Why one module: SQLite (the embedded default) and PostgreSQL differ in how a write is serialised
(``BEGIN IMMEDIATE`` against a row lock), in how a driver takes parameters and hands back dates
and times, in how a whole chunk's ids are passed to one lookup, and in a few settings of their
own (SQLite's pragmas, PostgreSQL's pool and sequences). Written as ``if is_sqlite`` wherever
they came up, they were spread over the store, its helpers, the backup and the export; here
each is a member of :class:`Dialect`, answered once by :class:`SqliteDialect` and once by
:class:`PostgresDialect` (the recorder-per-backend shape of eventsourcing), and the rest of the
code asks the store's ``dialect``. ``tests/test_store_dialect.py`` holds both classes to one
contract. The schema's per-backend column types stay in ``tables.py``, where SQLAlchemy declares
them (``with_variant``, ``sqlite_where``/``postgresql_where``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from sqlalchemy import Engine, Select, Table, create_engine, event, text
from sqlalchemy.engine import Connection

from socialcredit import ledger

if TYPE_CHECKING:
    from socialcredit.store.audit import AuditStore

PAGE_SIZE = 16384
"""SQLite page size of a new database (SQLite's default is 4096). Why: a bare insert of a million
records cost about a sixth less CPU with 16 KiB pages (fewer, fuller b-tree pages to search,
split and write); an existing database keeps the page size it was created with."""
DEFAULT_CACHE_MIB = 256
"""SQLite page cache per connection, a ceiling (pages are allocated as they are touched). Why
large: ingestion inserts into two indexes keyed at random (``record_id``, ``subject``); once they
outgrow the cache (SQLite's default is 2 MiB) every insert rereads and rewrites pages through the
operating system. Override with ``SOCIALCREDIT_SQLITE_CACHE_MIB`` or ``Store(cache_mib=...)``."""
READ = "socialcredit_read"
"""The execution option of the store's ``reader`` engine: on SQLite its transactions begin
deferred (one WAL snapshot, no write lock); PostgreSQL ignores it."""

_Q = TypeVar("_Q", bound=Select[Any])


class AuditAppender(Protocol):
    """What a backend's own durable audit path offers (``store/auditsqlite.py`` on SQLite)."""

    def append(self, entries: Sequence[Mapping[str, Any]]) -> None: ...


class Dialect(ABC):
    """What the store needs to know about its backend. One instance per store."""

    name: str
    """``sqlite`` or ``postgresql``."""
    mark: str
    """The driver's parameter placeholder in statements passed to it directly."""
    file: str | None
    """The database file a plain ``sqlite3`` connection may open beside the pool (the change
    marker, the durable audit connection); None where there is none (PostgreSQL, in memory)."""
    driver_gives_text: bool
    """Whether the driver hands back DATE and TIMESTAMP columns as the text stored, and
    BOOLEAN as 0 or 1 (SQLite), rather than as the types themselves (PostgreSQL)."""
    writes_alongside: bool
    """Whether another connection can write (a new data key) while a chunk's transaction holds
    the chain's lock: PostgreSQL's row lock leaves the key table free, so ingest encrypts the next
    chunk while the server writes this one (decision 0104); SQLite's write lock is the database's."""

    @abstractmethod
    def create_engine(self, url: str) -> Engine:
        """The engine with this backend's connection settings."""

    @abstractmethod
    def for_update(self, q: _Q) -> _Q:
        """``q`` locking the rows it reads until the write transaction ends."""

    @abstractmethod
    def lock_table(self, conn: Connection, table: str) -> None:
        """Keep other writers out of ``table`` until the transaction on ``conn`` ends."""

    @abstractmethod
    def ts(self, value: dt.datetime) -> dt.datetime | str:
        """A time as bound in a statement passed to the driver directly, so that SQLAlchemy
        reads it back exactly as if it had stored it."""

    @abstractmethod
    def stored_row(self) -> Callable[[ledger.Sealed], tuple[Any, ...]]:
        """The conversion of a sealed record to the values the driver stores: a builtin or a
        module-level function, so the ingest helper process can be sent it."""

    def insert_rows(
        self, conn: Connection, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        """Insert ``rows`` (values as :meth:`stored_row` gives them, in ``columns``' order) into
        ``table`` inside ``conn``'s transaction, by the backend's fastest path for many rows: one
        prepared statement executed for all of them (SQLite's own bulk path from Python)."""
        marks = ", ".join([self.mark] * len(columns))
        statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"
        conn.exec_driver_sql(statement, list(rows))

    def merge_rows(
        self,
        conn: Connection,
        table: str,
        columns: Sequence[str],
        rows: Sequence[tuple[Any, ...]],
        *,
        key: Sequence[str],
        update: str | None = None,
    ) -> int:
        """Insert ``rows`` into ``table`` where no row has their ``key``; where one has, set its
        columns by ``update`` (an ``ON CONFLICT ... DO UPDATE``'s ``SET`` list, which may name
        ``excluded``) or leave it. With ``update``, no two rows may share a key. Returns how many
        rows were inserted or updated. Rows are merged in the order of their key, so two writers
        merging the same keys lock them in the same order. Here one prepared statement executed
        for every row (SQLite's bulk path; on PostgreSQL, a batch too small to pay for a
        temporary table)."""
        marks = ", ".join([self.mark] * len(columns))
        statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) {_on_conflict(key, update)}"
        ordered = sorted(rows, key=itemgetter(*(list(columns).index(k) for k in key)))
        return int(conn.exec_driver_sql(statement, ordered).rowcount)

    @abstractmethod
    def in_list(self, column: str) -> str:
        """A condition that ``column`` is one of a list passed as one parameter."""

    @abstractmethod
    def in_list_param(self, values: list[str]) -> Any:
        """The list for :meth:`in_list`'s one parameter."""

    @abstractmethod
    def read_date(self, value: Any) -> dt.date | None:
        """A DATE column's value from the driver (None stays None)."""

    @abstractmethod
    def read_ts(self, value: Any) -> dt.datetime | None:
        """A TIMESTAMP column's value from the driver (None stays None)."""

    @contextmanager
    def raw_read(self, engine: Engine) -> Iterator[Any]:
        """A DB-API cursor on a connection of ``engine``, inside one read transaction that is
        rolled back at the end."""
        raw = engine.raw_connection()
        try:
            cur = raw.cursor()
            self._begin_read(cur)
            try:
                yield cur
            finally:
                self._end_read(raw, cur)
                cur.close()
        finally:
            raw.close()

    @abstractmethod
    def _begin_read(self, cur: Any) -> None: ...

    @abstractmethod
    def _end_read(self, raw: Any, cur: Any) -> None: ...

    @abstractmethod
    def snapshot(self, conn: Connection) -> Connection:
        """``conn`` set up so that every read of its next transaction sees one moment."""

    @abstractmethod
    def after_load(self, conn: Connection, tables: Sequence[Table]) -> None:
        """Make ``tables`` ready for ordinary inserts after rows were loaded with their ids."""

    @abstractmethod
    def durable_audit(self, store: AuditStore) -> AuditAppender | None:
        """The backend's own path for audit commits that must survive a power cut, or None
        where every commit of the store is durable already (or none can be made so)."""


class SqliteDialect(Dialect):
    """The embedded default: one file, one writer at a time across processes."""

    name = "sqlite"
    mark = "?"
    driver_gives_text = True
    writes_alongside = False

    def __init__(self, url: str, *, cache_mib: int | None = None) -> None:
        self.path = url.split("///", 1)[-1] if "///" in url else ""
        self.file = self.path if self.path and self.path != ":memory:" and "?" not in self.path else None
        if cache_mib is None:
            cache_mib = int(os.environ.get("SOCIALCREDIT_SQLITE_CACHE_MIB", DEFAULT_CACHE_MIB))
        self.cache_mib = cache_mib

    def create_engine(self, url: str) -> Engine:
        if self.path and self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60})
        _sqlite_pragmas(engine, self.cache_mib)
        return engine

    def for_update(self, q: _Q) -> _Q:
        return q  # the transaction took the database's write lock at BEGIN IMMEDIATE

    def lock_table(self, conn: Connection, table: str) -> None:
        pass  # as for_update: the write lock is held from BEGIN

    def ts(self, value: dt.datetime) -> dt.datetime | str:
        # SQLAlchemy's SQLite DateTime storage format, so rows read back identically
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")

    def stored_row(self) -> Callable[[ledger.Sealed], tuple[Any, ...]]:
        return sqlite_stored_row

    def in_list(self, column: str) -> str:
        # the ids from one JSON array parameter, each probing the column's index
        return f"{column} IN (SELECT value FROM json_each(?))"

    def in_list_param(self, values: list[str]) -> Any:
        return json.dumps(values)

    def read_date(self, value: Any) -> dt.date | None:
        return dt.date.fromisoformat(value) if value is not None else None

    def read_ts(self, value: Any) -> dt.datetime | None:
        return dt.datetime.fromisoformat(value) if value is not None else None

    def _begin_read(self, cur: Any) -> None:
        cur.execute("BEGIN")  # the pool's connections autocommit; one snapshot for all reads

    def _end_read(self, raw: Any, cur: Any) -> None:
        cur.execute("ROLLBACK")

    def snapshot(self, conn: Connection) -> Connection:
        return conn  # the store's BEGIN IMMEDIATE keeps writers out while it reads

    def after_load(self, conn: Connection, tables: Sequence[Table]) -> None:
        pass  # an INTEGER PRIMARY KEY continues from the highest id present

    def durable_audit(self, store: AuditStore) -> AuditAppender | None:
        from socialcredit.store.auditsqlite import durable_appender

        return durable_appender(store)


class PostgresDialect(Dialect):
    """A PostgreSQL server: a pool of connections, row locks, dates and times as types."""

    name = "postgresql"
    mark = "%s"
    file = None
    driver_gives_text = False
    writes_alongside = True

    def create_engine(self, url: str) -> Engine:
        return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)

    def for_update(self, q: _Q) -> _Q:
        return q.with_for_update()

    def lock_table(self, conn: Connection, table: str) -> None:
        conn.execute(text(f"LOCK TABLE {table} IN EXCLUSIVE MODE"))

    def ts(self, value: dt.datetime) -> dt.datetime | str:
        return value

    def stored_row(self) -> Callable[[ledger.Sealed], tuple[Any, ...]]:
        return tuple

    def insert_rows(
        self, conn: Connection, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        """``COPY ... FROM STDIN`` on the transaction's own connection: PostgreSQL's bulk path,
        one stream instead of a round of protocol messages per row (issue 20: ingest at least half
        of a bare ``COPY``'s rate). The same transaction, so the chain head's lock, the dedup
        lookup and the insert still commit together."""
        with _driver(conn).cursor() as cur:
            _copy(cur, table, columns, rows)

    def merge_rows(
        self,
        conn: Connection,
        table: str,
        columns: Sequence[str],
        rows: Sequence[tuple[Any, ...]],
        *,
        key: Sequence[str],
        update: str | None = None,
    ) -> int:
        """``COPY`` into a temporary table made like ``table`` (dropped at the end of the call,
        or with the transaction if it fails first), then one ``INSERT ... SELECT ... ON
        CONFLICT`` into ``table``: ``COPY`` cannot resolve a conflict itself. Measured at 30,000
        rows, a third to a quarter of the time of the driver's ``executemany`` of ``INSERT ...
        ON CONFLICT`` (pipelined), and half that of one ``INSERT ... SELECT FROM unnest`` of
        array parameters (decision 0091). Below :data:`MERGE_BY_COPY` rows the three statements
        more cost more than they save, and the rows go by ``executemany``."""
        if len(rows) < MERGE_BY_COPY:
            return super().merge_rows(conn, table, columns, rows, key=key, update=update)
        names, order = ", ".join(columns), ", ".join(key)
        scratch = f"bulk_{table}"
        with _driver(conn).cursor() as cur:
            cur.execute(f"CREATE TEMPORARY TABLE {scratch} (LIKE {table}) ON COMMIT DROP")
            _copy(cur, scratch, columns, rows)
            cur.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM {scratch} ORDER BY {order} "
                + _on_conflict(key, update)
            )
            merged = cur.rowcount
            cur.execute(f"DROP TABLE {scratch}")  # a second merge in this transaction makes it again
        return int(merged)

    def in_list(self, column: str) -> str:
        # the ids as one array parameter, each probing the column's index
        return f"{column} = ANY(%s)"

    def in_list_param(self, values: list[str]) -> Any:
        return values

    def read_date(self, value: Any) -> dt.date | None:
        return value  # type: ignore[no-any-return]

    def read_ts(self, value: Any) -> dt.datetime | None:
        return value  # type: ignore[no-any-return]

    def _begin_read(self, cur: Any) -> None:
        pass  # the driver begins a transaction at the first statement

    def _end_read(self, raw: Any, cur: Any) -> None:
        raw.rollback()

    def snapshot(self, conn: Connection) -> Connection:
        # a repeatable-read snapshot, without blocking writers
        return conn.execution_options(isolation_level="REPEATABLE READ")

    def after_load(self, conn: Connection, tables: Sequence[Table]) -> None:
        # explicit ids were inserted into serial columns: move their sequences past them
        for tb in tables:
            pk = list(tb.primary_key.columns)
            if len(pk) == 1 and pk[0].autoincrement is True:
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{tb.name}', '{pk[0].name}'), "
                        f"COALESCE((SELECT MAX({pk[0].name}) FROM {tb.name}), 0) + 1, false)"
                    )
                )

    def durable_audit(self, store: AuditStore) -> AuditAppender | None:
        return None  # PostgreSQL commits are durable already


MERGE_BY_COPY = 64
"""Rows from which :meth:`PostgresDialect.merge_rows` goes through ``COPY`` and a temporary
table rather than ``executemany``: the temporary table's three statements more (make, fill,
drop) cost about as much as a few dozen pipelined inserts."""


def _on_conflict(key: Sequence[str], update: str | None) -> str:
    """The ``ON CONFLICT`` clause of :meth:`Dialect.merge_rows`, the same on both backends."""
    return f"ON CONFLICT ({', '.join(key)}) " + (
        "DO NOTHING" if update is None else f"DO UPDATE SET {update}"
    )


def _driver(conn: Connection) -> Any:
    """The psycopg connection under ``conn``: its statements run in ``conn``'s transaction."""
    raw = conn.connection.driver_connection
    assert raw is not None
    return raw


def _copy(cur: Any, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """``COPY table (columns) FROM STDIN`` of ``rows`` on a psycopg cursor."""
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def dialect_for(url: str, *, cache_mib: int | None = None) -> Dialect:
    """The dialect of a database URL (``cache_mib`` is SQLite's page cache; see
    :data:`DEFAULT_CACHE_MIB`)."""
    return SqliteDialect(url, cache_mib=cache_mib) if url.startswith("sqlite") else PostgresDialect()


def _sqlite_pragmas(engine: Engine, cache_mib: int) -> None:
    # Take the write lock at BEGIN so two writers never link to the same chain head (reads
    # through ``reader`` begin deferred and take no write lock). WAL with synchronous=NORMAL:
    # a commit survives the process being killed (docs/decisions/0011-ingest-throughput.md);
    # pages of PAGE_SIZE, a page cache of ``cache_mib``; temporary b-trees stay in memory.
    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _rec: Any) -> None:
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA page_size={PAGE_SIZE}")  # only a new, empty database takes it
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA cache_size=-{max(2, int(cache_mib)) * 1024}")
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        read = conn.get_execution_options().get(READ, False)
        conn.exec_driver_sql("BEGIN" if read else "BEGIN IMMEDIATE")


def sqlite_stored_row(s: ledger.Sealed) -> tuple[Any, ...]:
    """A sealed record's values as SQLite stores them (module-level, so the ingest helper
    process can be sent it: ``service/sealing.py``): every value as it is, but the date and the
    time as the text SQLAlchemy stores for them (by position, not by name: a sixth less work per
    row, and the row keeps the sealed record's order)."""
    return (*s[:6], s.occurred_on.isoformat(), _sqlite_ts(s.reported_at), *s[8:])


def _sqlite_ts(value: dt.datetime) -> dt.datetime | str:
    """:meth:`SqliteDialect.ts` without strftime's cost, which was a tenth of ingestion's; the
    two agree for four-digit years, which is every time a record can carry (1949 to now)."""
    if value.year < 1000:
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    return value.isoformat(" ", "microseconds")
