"""The key table: wrapped data keys and the erasure log, on SQLite or PostgreSQL (issue 21).

Why its own schema and engine, not a table of the ledger's: keys must live apart from what they
protect. A backup of the ledger (``backup.py``) holds none of these rows, a restore replaces none
of them, and the erasure log here is what a restore replays (decision 0046). By default the key
tables sit in the installation's database, outside the ledger's schema (``tables.metadata``);
``SOCIALCREDIT_KEYS_URL`` puts them in a database of their own. They are created here, on open,
rather than by the ledger's migrations, for the same reason.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    delete,
    select,
    update,
)

from socialcredit.shredding import Erasure, WrappedKey
from socialcredit.store.dialect import READ, dialect_for

metadata = MetaData()

data_keys = Table(
    "data_keys",
    metadata,
    Column("pseudonym", String(64), primary_key=True),
    Column("klass", String(32), primary_key=True),
    Column("key_id", String(32), nullable=False),
    Column("master_id", String(32), nullable=False),
    Column("wrapped", LargeBinary, nullable=False),
)

erasures = Table(
    "erasures",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("pseudonym", String(64), nullable=False, index=True),
    Column("klass", String(32), nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("rule", Text, nullable=False),
)

Run = Callable[[str, Sequence[Any]], Iterable[Sequence[Any]]]
"""A statement and its parameters to the rows it reads, on some connection."""

_KEY_COLUMNS = WrappedKey._fields
"""``data_keys``' columns, in the order of a :class:`WrappedKey`'s fields."""
CHUNK = 400
"""Pairs per ``IN (...)``: two parameters each, under SQLite's and psycopg's limits."""


class SqlKeyStore:
    """:class:`socialcredit.shredding.KeyStore` over a SQL database."""

    def __init__(self, url: str | None = None, *, engine: Engine | None = None) -> None:
        if engine is None:
            if url is None:
                raise ValueError("a key store needs a database url or an engine")
            engine = create_engine(url)
        self.engine = engine
        # reads begin deferred on SQLite (``dialect.READ``), so a key lookup never waits for, or
        # blocks, a writer: a backup reads the keys while its snapshot holds the write lock
        self.reader = engine.execution_options(**{READ: True})
        metadata.create_all(self.engine, checkfirst=True)
        self._mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        self._dialect = dialect_for(engine.url.drivername)  # its bulk path for new keys

    def _by_pairs(
        self,
        table: Table,
        pairs: Sequence[tuple[str, str]],
        run: Run | None = None,
        *,
        whole: bool = False,
    ) -> Iterator[tuple[Any, ...]]:
        """The rows of ``table`` (a key or an erasure) of these (pseudonym, class) pairs, as the
        driver gives them (columns in the table's order); through ``run`` (a statement and its
        parameters to the rows) when given, else on a connection of this store's own. With
        ``whole``, every row of their pseudonyms (the same statement reads them all anyway).

        Why by pseudonym, the classes sorted out here: a row-value ``IN`` of pairs is not an index
        lookup on SQLite (it scanned the whole key table: 12 ms of a 20 ms subject view with
        2,000 keys, bench/subjectview.py), whereas ``pseudonym IN (...)`` is one on the primary
        key (and on the erasure log's index); a subject has a few classes, so few extra rows.
        Why the driver's SQL, not a SQLAlchemy ``select``: a cold subject view reads its keys
        here, and building, compiling and mapping a statement cost twice the query (decision 0062)."""
        wanted = set(pairs)
        subjects = sorted({p for p, _ in wanted})
        names = [c.name for c in table.columns]
        at_p, at_k = names.index("pseudonym"), names.index("klass")
        columns = ", ".join(names)

        def select(go: Run) -> Iterator[tuple[Any, ...]]:
            for i in range(0, len(subjects), 2 * CHUNK):
                part = subjects[i : i + 2 * CHUNK]
                marks = ", ".join([self._mark] * len(part))
                sql = f"SELECT {columns} FROM {table.name} WHERE pseudonym IN ({marks})"
                for row in go(sql, tuple(part)):
                    if whole or (row[at_p], row[at_k]) in wanted:
                        yield tuple(row)

        if run is not None:
            yield from select(run)
            return
        with self.reader.connect() as conn:
            yield from select(lambda sql, params: conn.exec_driver_sql(sql, tuple(params)))

    def wrapped_keys(
        self, wanted: Sequence[tuple[str, str]], run: Run | None = None, *, whole: bool = False
    ) -> dict[tuple[str, str], WrappedKey]:
        """The live keys of these pairs; through ``run`` when given: a reader's own cursor on the
        database this key table is in (``shares``), so that a subject's view reads its keys in
        the transaction it reads its records in (decision 0076). With ``whole``, every live key
        of their pseudonyms: a view's subject's audit and case keys come with its record keys."""
        out: dict[tuple[str, str], WrappedKey] = {}
        for p, klass, key_id, master_id, wrapped in self._by_pairs(data_keys, wanted, run, whole=whole):
            out[(p, klass)] = WrappedKey(p, klass, key_id, master_id, bytes(wrapped))
        return out

    def shares(self, engine: Engine) -> bool:
        """Whether this key table is in ``engine``'s database (the default: beside the ledger),
        so that a connection of that engine reads it too."""
        return self.engine is engine

    def add_wrapped_keys(self, keys: Sequence[WrappedKey]) -> dict[tuple[str, str], WrappedKey]:
        """Why the dialect's bulk merge of plain tuples (``dialect.merge_rows``: ``COPY`` into a
        temporary table on PostgreSQL, ``executemany`` on SQLite): a batch of new subjects adds a
        key every few records, and SQLAlchemy's per-row parameter processing cost more than the
        insert (decision 0062), as did a pipelined ``executemany`` on PostgreSQL (decision 0091).
        A pair another writer keyed first keeps that writer's key (nothing is overwritten)."""
        if not keys:
            return {}
        with self.engine.begin() as conn:
            added = self._dialect.merge_rows(
                conn, "data_keys", _KEY_COLUMNS, keys, key=("pseudonym", "klass")
            )  # named tuples are tuples
        if added == len(keys):  # the common case: no other writer made a key for these pairs
            return {(w.pseudonym, w.klass): w for w in keys}
        # another writer's key, or a driver that does not count an executemany's rows: read back
        return self.wrapped_keys([(w.pseudonym, w.klass) for w in keys])

    def all_wrapped(self) -> Iterator[WrappedKey]:
        with self.reader.connect() as conn:
            rows = list(conn.execute(select(data_keys)).mappings())
        for m in rows:
            yield WrappedKey(m["pseudonym"], m["klass"], m["key_id"], m["master_id"], bytes(m["wrapped"]))

    def replace_wrapped(self, keys: Sequence[WrappedKey]) -> None:
        with self.engine.begin() as conn:
            for w in keys:
                conn.execute(
                    update(data_keys)
                    .where(
                        data_keys.c.pseudonym == w.pseudonym,
                        data_keys.c.klass == w.klass,
                        data_keys.c.key_id == w.key_id,
                    )
                    .values(master_id=w.master_id, wrapped=w.wrapped)
                )

    def destroy(self, done: Sequence[Erasure]) -> int:
        """Delete each key and log its erasure once (by key id): replaying a log, as a restore
        does, deletes a key brought back by an older backup without logging it twice."""
        deleted = 0
        with self.engine.begin() as conn:
            for e in done:
                res = conn.execute(
                    delete(data_keys).where(
                        data_keys.c.pseudonym == e.pseudonym,
                        data_keys.c.klass == e.klass,
                        data_keys.c.key_id == e.key_id,
                    )
                )
                deleted += res.rowcount or 0
                logged = conn.execute(select(erasures.c.seq).where(erasures.c.key_id == e.key_id)).first()
                if logged is None:
                    conn.execute(
                        erasures.insert().values(
                            pseudonym=e.pseudonym, klass=e.klass, key_id=e.key_id, at=e.at, rule=e.rule
                        )
                    )
        return deleted

    def erasures(self) -> list[Erasure]:
        with self.reader.connect() as conn:
            return [
                Erasure(m["pseudonym"], m["klass"], m["key_id"], _naive(m["at"]), m["rule"])
                for m in conn.execute(select(erasures).order_by(erasures.c.seq)).mappings()
            ]

    def last_erasure(self) -> tuple[int, dt.datetime] | None:
        q = select(erasures.c.seq, erasures.c.at).order_by(erasures.c.seq.desc()).limit(1)
        with self.reader.connect() as conn:
            row = conn.execute(q).first()
        return None if row is None else (int(row[0]), _naive(row[1]))

    def erasures_of(
        self, pairs: Sequence[tuple[str, str]], run: Run | None = None
    ) -> dict[tuple[str, str], Erasure]:
        out: dict[tuple[str, str], Erasure] = {}
        for _seq, p, klass, key_id, at, rule in self._by_pairs(erasures, pairs, run):
            out[(p, klass)] = Erasure(p, klass, key_id, _naive(_when(at)), rule)
        return out

    def close(self) -> None:
        self.engine.dispose()


def _when(value: dt.datetime | str) -> dt.datetime:
    """A time as the driver gives it: SQLite's is the text SQLAlchemy wrote."""
    return dt.datetime.fromisoformat(value) if isinstance(value, str) else value


def _naive(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=None) if value.tzinfo is not None else value
