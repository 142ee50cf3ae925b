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


def grow(execute: Execute, mark: str, chain: str, size: int, leaves: Sequence[bytes]) -> None:
    """Append ``leaves`` (leaf hashes) to ``chain``'s tree of ``size`` leaves."""
    if not leaves:
        return
    select = f"SELECT hashes FROM tlog_tiles WHERE chain = {mark} AND level = {mark} AND idx = {mark}"
    partial: dict[tiles.Tile, bytes] = {}
    for level, index in tiles.edge(size):
        for (data,) in execute(select, (chain, level, index)):
            partial[(level, index)] = bytes(data)
    upsert = (
        f"INSERT INTO tlog_tiles (chain, level, idx, hashes) VALUES ({mark}, {mark}, {mark}, {mark}) "
        "ON CONFLICT (chain, level, idx) DO UPDATE SET hashes = excluded.hashes"
    )
    for (level, index), data in tiles.grow(size, partial, leaves).items():
        execute(upsert, (chain, level, index, data))


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
