"""The leaf hashes a chain's transparency log holds, read for ``verify`` (``chaincheck.Logged``).

Why apart from the chain's rows: the log's level-0 tiles are written in the transaction that
appends the entries (``store/tiles.py``), so they keep each entry's leaf hash as it was appended,
whatever is done to the row afterwards; ``verify`` compares the two to name an entry rewritten
with its own chain hash (decision 0057). ``verify`` walks a chain in seq order, so the tiles are
read in pages of :data:`PAGE` tiles (256 leaves each), one page in memory at a time: a national
chain's tiles are never all held at once.
"""

from __future__ import annotations

from sqlalchemy import select

from socialcredit.store import tables as t
from socialcredit.store.base import StoreBase
from socialcredit.tlog.tiles import HASH, WIDTH

PAGE = 64  # tiles read at a time (16,384 leaves, 512 KiB)


class LoggedLeaves:
    """``logged(seq)``: the leaf hash the log of ``chain`` holds for entry ``seq``, or None."""

    def __init__(self, store: StoreBase, chain: str) -> None:
        self.store, self.chain = store, chain
        self.page = -1
        self.tiles: dict[int, bytes] = {}

    def __call__(self, seq: int) -> bytes | None:
        index = seq - 1
        if index < 0:
            return None
        tile, at = divmod(index, WIDTH)
        if tile // PAGE != self.page:
            self._read(tile // PAGE)
        data = self.tiles.get(tile, b"")
        leaf = data[at * HASH : (at + 1) * HASH]
        return leaf if len(leaf) == HASH else None

    def _read(self, page: int) -> None:
        c = t.tlog_tiles.c
        q = select(c.idx, c.hashes).where(
            c.chain == self.chain, c.level == 0, c.idx >= page * PAGE, c.idx < (page + 1) * PAGE
        )
        with self.store.reader.connect() as conn:
            self.tiles = {int(i): bytes(h) for i, h in conn.execute(q)}
        self.page = page
