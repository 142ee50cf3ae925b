"""The tree stored as tiles (C2SP tlog-tiles): a few rows per 256 entries, never a row per node.

A tile of level ``L`` and index ``N`` holds, concatenated, up to 256 hashes of perfect subtrees of
height ``8 * L``: level 0 the leaf hashes ``[256 N, 256 N + 256)``, level 1 the roots of the full
level-0 tiles, and so on (tlog-tiles' height 8). Only the rightmost tile of each level is partial;
it is rewritten, longer, as entries arrive, and a full tile never changes again. So appending ``k``
entries writes about ``k / 256`` rows, reads nothing but the partial tiles on the right edge, and
hashes about twice per entry (the leaf, and its share of the full tiles' roots): the growth is
incremental, no rebuild. Any perfect subtree's hash is a fold of at most 256 hashes of one tile,
so a proof reads one tile per level (three at ten million entries).

This module is pure: the store reads and writes the rows (``store/tlog.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from socialcredit.errors import NotFound
from socialcredit.i18n import N_
from socialcredit.tlog.merkle import Node, ProofError, fold, node_hash

HEIGHT = 8
WIDTH = 1 << HEIGHT
HASH = 32
Tile = tuple[int, int]
"""A tile's address: (level, index)."""


def edge(size: int) -> list[Tile]:
    """The partial tiles on the right edge of a tree of ``size`` leaves, one per level that has
    one: all an append needs to read."""
    out: list[Tile] = []
    level, count = 0, size
    while count:
        if count % WIDTH:
            out.append((level, count // WIDTH))
        count //= WIDTH
        level += 1
    return out


def grow(size: int, partial: Mapping[Tile, bytes], leaves: Sequence[bytes]) -> dict[Tile, bytes]:
    """The tiles to write when ``leaves`` (leaf hashes) are appended to a tree of ``size``
    leaves whose right-edge tiles are ``partial`` (as :func:`edge` names them). Each full tile's
    root moves up a level, in the same call."""
    writes: dict[Tile, bytes] = {}
    level, before, new = 0, size, list(leaves)
    while new:
        index, width = divmod(before, WIDTH)
        buf = partial.get((level, index), b"") if width else b""
        if len(buf) != width * HASH:
            raise ProofError(f"tile {level}/{index} holds {len(buf) // HASH} hashes, not {width}")
        up: list[bytes] = []
        pos = 0
        while pos < len(new):
            take = min(WIDTH - width, len(new) - pos)
            buf += b"".join(new[pos : pos + take])
            pos += take
            width += take
            if width == WIDTH:
                writes[(level, index)] = buf
                up.append(fold([buf[i : i + HASH] for i in range(0, len(buf), HASH)]))
                index, width, buf = index + 1, 0, b""
        if width:
            writes[(level, index)] = buf
        level, before, new = level + 1, before // WIDTH, up
    return writes


def tiles_for(nodes: Iterable[Node]) -> set[Tile]:
    """The tiles holding what these subtrees fold from."""
    out: set[Tile] = set()
    for height, index in nodes:
        level, rest = divmod(height, HEIGHT)
        out.add((level, (index << rest) // WIDTH))
    return out


class Pyramids:
    """The interior hashes of tiles, kept by the tile's bytes: a tile whose bytes changed (it
    grew, was restored or tampered with) is simply another key, so the cache never needs
    invalidating. Level ``k`` of a tile's pyramid holds the hashes of its perfect subtrees of
    height ``k`` (as many as it holds whole). A proof at ten million entries then folds only the
    one leaf tile it has not seen yet."""

    def __init__(self, limit: int = 4096) -> None:
        self.limit = limit
        self._kept: dict[bytes, list[list[bytes]]] = {}

    def levels(self, data: bytes) -> list[list[bytes]]:
        found = self._kept.pop(data, None)
        if found is not None:
            self._kept[data] = found  # most recently used last: upper tiles, asked by every proof, stay
            return found
        level = [data[i : i + HASH] for i in range(0, len(data), HASH)]
        out = [level]
        while len(level) > 1:
            level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
            out.append(level)
        if self.limit:
            if len(self._kept) >= self.limit:
                self._kept.pop(next(iter(self._kept)))
            self._kept[data] = out
        return out


def subtrees(
    nodes: Iterable[Node],
    read: Callable[[set[Tile]], Mapping[Tile, bytes]],
    pyramids: Pyramids | None = None,
) -> dict[Node, bytes]:
    """The hashes of perfect subtrees, from the tiles ``read`` returns (one call for all)."""
    wanted = list(nodes)
    tiles = read(tiles_for(wanted))
    cache = pyramids or Pyramids(0)
    out: dict[Node, bytes] = {}
    for height, index in wanted:
        level, rest = divmod(height, HEIGHT)
        first = index << rest
        data = tiles.get((level, first // WIDTH), b"")
        offset = first % WIDTH
        if (offset + (1 << rest)) * HASH > len(data):
            raise ProofError(f"subtree {height}/{index} is not stored yet")
        out[(height, index)] = cache.levels(data)[rest][offset >> rest]
    return out


PATH = r"^(x[0-9]{3}/){0,6}[0-9]{3}(\.p/([1-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5]))?$"
"""A tile's index and width as C2SP tlog-tiles writes them in a path (``x001/x234/067.p/5``)."""


def tile_path(index: int, width: int | None = None) -> str:
    """``index`` as zero-padded 3-digit path elements, all but the last after an ``x``, then
    ``.p/<width>`` for a partial tile (C2SP tlog-tiles)."""
    digits = f"{index:03d}"
    digits = "0" * (-len(digits) % 3) + digits
    parts = [digits[i : i + 3] for i in range(0, len(digits), 3)]
    text = "/".join([*("x" + p for p in parts[:-1]), parts[-1]])
    return text if width is None else f"{text}.p/{width}"


def parse_path(text: str) -> tuple[int, int | None]:
    """The index and width (``None``: a full tile) a tile path names; only the one way
    :func:`tile_path` writes each is read (an index written with leading zero elements is not)."""
    index_text, _, width_text = text.partition(".p/")
    parts = index_text.split("/")
    if not (
        all(len(p) == 4 and p[0] == "x" and p[1:].isdigit() for p in parts[:-1])
        and len(parts[-1]) == 3
        and parts[-1].isdigit()
        and (not width_text or (width_text.isdigit() and 1 <= int(width_text) <= WIDTH - 1))
    ):
        raise NotFound(N_("no tile at {path!r}", path=text[:40]), field="tile")
    index = int("".join(p.removeprefix("x") for p in parts))
    width = int(width_text) if width_text else None
    if tile_path(index, width) != text:
        raise NotFound(N_("no tile at {path!r}", path=text[:40]), field="tile")
    return index, width
