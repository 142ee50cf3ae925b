"""The transparency log's tiles in the database: what every chain append writes with its entries.

Why here, under the chain head: a chain's tree must hold exactly its committed entries, so its
tiles are written in the transaction that appends them, after the head's lock (every append path
goes through :meth:`StoreBase._set_head`, and the durable audit path's own connection calls
:func:`grow` itself). An append reads only the partial tiles on the tree's right edge (one row
per level) and upserts the tiles it changed: about one row per 256 entries
(``tlog/tiles.py``). Plain SQL through a driver's ``execute``, so the SQLAlchemy connection and
the durable audit path's ``sqlite3`` connection write the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from socialcredit.tlog import tiles

Execute = Callable[[str, tuple[Any, ...]], Iterable[Sequence[Any]]]


UPSERT_ROWS = 200
"""Tiles per upsert statement (4 parameters each: within SQLite's oldest limit of 999)."""


def grow(execute: Execute, mark: str, chain: str, size: int, leaves: Sequence[bytes]) -> None:
    """Append ``leaves`` (leaf hashes) to ``chain``'s tree of ``size`` leaves: the right edge read
    in one statement and the changed tiles written in one upsert (a chunk of 20,000 entries
    changes about 80 tiles: one round trip each had cost a chunk's transaction more wall time
    on a loaded PostgreSQL than its CPU, decision 0104)."""
    if not leaves:
        return
    partial = read(execute, mark, chain, tiles.edge(size))
    grown = list(tiles.grow(size, partial, leaves).items())
    for i in range(0, len(grown), UPSERT_ROWS):
        part = grown[i : i + UPSERT_ROWS]
        values = ", ".join([f"({mark}, {mark}, {mark}, {mark})"] * len(part))
        params = tuple(v for (level, index), data in part for v in (chain, level, index, data))
        execute(
            f"INSERT INTO tlog_tiles (chain, level, idx, hashes) VALUES {values} "
            "ON CONFLICT (chain, level, idx) DO UPDATE SET hashes = excluded.hashes",
            params,
        )


def read(execute: Execute, mark: str, chain: str, wanted: Iterable[tiles.Tile]) -> dict[tiles.Tile, bytes]:
    """The tiles ``wanted`` of ``chain`` that exist, in one statement: a point lookup of the
    primary key per tile, joined by ``UNION ALL`` (an ``OR`` of them let SQLite scan the table,
    48 ms at ten million entries instead of microseconds)."""
    keys = sorted(set(wanted))
    if not keys:
        return {}
    where = f"chain = {mark} AND level = {mark} AND idx = {mark}"
    one = f"SELECT level, idx, hashes FROM tlog_tiles WHERE {where}"
    sql = " UNION ALL ".join([one] * len(keys))
    params = tuple(v for level, index in keys for v in (chain, level, index))
    return {(int(level), int(index)): bytes(data) for level, index, data in execute(sql, params)}
