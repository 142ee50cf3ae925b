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
from collections.abc import Iterator, Sequence

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
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from socialcredit.shredding import Erasure, WrappedKey

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
        metadata.create_all(self.engine, checkfirst=True)

    def _insert(self) -> postgresql.Insert | sqlite.Insert:
        if self.engine.dialect.name == "postgresql":
            return postgresql.insert(data_keys).on_conflict_do_nothing()
        return sqlite.insert(data_keys).on_conflict_do_nothing()

    def wrapped_keys(self, wanted: Sequence[tuple[str, str]]) -> dict[tuple[str, str], WrappedKey]:
        out: dict[tuple[str, str], WrappedKey] = {}
        pairs = list(dict.fromkeys(wanted))
        with self.engine.connect() as conn:
            for i in range(0, len(pairs), CHUNK):
                part = pairs[i : i + CHUNK]
                q = select(data_keys).where(tuple_(data_keys.c.pseudonym, data_keys.c.klass).in_(part))
                for m in conn.execute(q).mappings():
                    w = WrappedKey(
                        m["pseudonym"], m["klass"], m["key_id"], m["master_id"], bytes(m["wrapped"])
                    )
                    out[(w.pseudonym, w.klass)] = w
        return out

    def add_wrapped_keys(self, keys: Sequence[WrappedKey]) -> dict[tuple[str, str], WrappedKey]:
        if keys:
            with self.engine.begin() as conn:
                conn.execute(self._insert(), [w._asdict() for w in keys])
        return self.wrapped_keys([(w.pseudonym, w.klass) for w in keys])

    def all_wrapped(self) -> Iterator[WrappedKey]:
        with self.engine.connect() as conn:
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
                if res.rowcount:
                    deleted += 1
                    conn.execute(
                        erasures.insert().values(
                            pseudonym=e.pseudonym, klass=e.klass, key_id=e.key_id, at=e.at, rule=e.rule
                        )
                    )
        return deleted

    def erasures(self) -> list[Erasure]:
        with self.engine.connect() as conn:
            return [
                Erasure(m["pseudonym"], m["klass"], m["key_id"], _naive(m["at"]), m["rule"])
                for m in conn.execute(select(erasures).order_by(erasures.c.seq)).mappings()
            ]

    def close(self) -> None:
        self.engine.dispose()


def _naive(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=None) if value.tzinfo is not None else value
