"""RFC 6962 / RFC 9162 Merkle tree hashing, proofs and their verification.

Why a module of our own: the log's tree is kept as tiles in the database (:mod:`.tiles`), and a
proof must be built from a few stored subtree hashes, never from every leaf. pymerkle keeps its
own node store (one row per node in its SQLite backend, none for PostgreSQL), and
sigstore-python only verifies; so the proofs are generated here from any :class:`HashSource`, and
held to the test vectors published with the Certificate Transparency reference code
(``tests/test_tlog_merkle.py``).

Definitions (RFC 9162 §2.1.1): ``MTH({}) = SHA-256()``, ``MTH({d}) = SHA-256(0x00 || d)`` and,
for ``n > 1`` with ``k`` the largest power of two smaller than ``n``,
``MTH(D[n]) = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))``.

A *perfect subtree* ``(height, index)`` covers the leaves ``[index * 2**height, (index + 1) *
2**height)``; every range the RFC's recursion meets is a run of such subtrees, largest first
(:func:`parts`), which is all a hash source must answer.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Protocol

from socialcredit.i18n import N_

EMPTY_ROOT = hashlib.sha256(b"").digest()
Node = tuple[int, int]
"""A perfect subtree: (height, index)."""


class ProofError(ValueError):
    """A proof that does not verify, or a request for one the tree cannot give."""


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 §2.1.1: the hash of a leaf, domain-separated from nodes by 0x00."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 §2.1.1: the hash of an interior node, 0x01 before its children."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def fold(hashes: Sequence[bytes]) -> bytes:
    """MTH over ``hashes`` taken as the leaf hashes (or any level's hashes) of a tree."""
    n = len(hashes)
    if n == 0:
        return EMPTY_ROOT
    if n == 1:
        return hashes[0]
    level = list(hashes)
    if n & (n - 1) == 0:  # a perfect tree: pairwise, level by level
        while len(level) > 1:
            level = [node_hash(level[i], level[i + 1]) for i in range(0, len(level), 2)]
        return level[0]
    k = 1 << ((n - 1).bit_length() - 1)
    return node_hash(fold(level[:k]), fold(level[k:]))


def parts(lo: int, hi: int) -> list[Node]:
    """The perfect subtrees whose hashes make ``MTH(D[lo:hi])``, largest first; ``lo`` must be a
    multiple of the power of two at or above ``hi - lo`` (as every range of the RFC's recursion
    is)."""
    out: list[Node] = []
    while lo < hi:
        height = (hi - lo).bit_length() - 1
        out.append((height, lo >> height))
        lo += 1 << height
    return out


def combine(hashes: Sequence[bytes]) -> bytes:
    """MTH of a range from its :func:`parts`' hashes: right to left, as the RFC splits."""
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


class HashSource(Protocol):
    """What a stored tree answers: the hashes of perfect subtrees it holds."""

    def subtrees(self, nodes: Iterable[Node]) -> dict[Node, bytes]: ...


def _ranges_inclusion(index: int, lo: int, hi: int, out: list[tuple[int, int]]) -> None:
    """RFC 9162 §2.1.3.1 PATH(m, D[lo:hi]): the ranges whose MTH make the path, leaf first."""
    if hi - lo <= 1:
        return
    k = 1 << ((hi - lo - 1).bit_length() - 1)
    if index - lo < k:
        _ranges_inclusion(index, lo, lo + k, out)
        out.append((lo + k, hi))
    else:
        _ranges_inclusion(index, lo + k, hi, out)
        out.append((lo, lo + k))


def _ranges_consistency(m: int, lo: int, hi: int, whole: bool, out: list[tuple[int, int]]) -> None:
    """RFC 9162 §2.1.4.1 SUBPROOF(m, D[lo:hi], b)."""
    n = hi - lo
    if m == n:
        if not whole:
            out.append((lo, hi))
        return
    k = 1 << ((n - 1).bit_length() - 1)
    if m <= k:
        _ranges_consistency(m, lo, lo + k, whole, out)
        out.append((lo + k, hi))
    else:
        _ranges_consistency(m - k, lo + k, hi, False, out)
        out.append((lo, lo + k))


def _resolve(source: HashSource, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
    """The MTH of each range, from one request to the source for every subtree they need."""
    split = [parts(lo, hi) for lo, hi in ranges]
    found = source.subtrees({node for p in split for node in p})
    return [combine([found[node] for node in p]) for p in split]


def root(source: HashSource, size: int) -> bytes:
    """The tree head of the first ``size`` leaves."""
    if size == 0:
        return EMPTY_ROOT
    return _resolve(source, [(0, size)])[0]


def inclusion_proof(source: HashSource, index: int, size: int) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of ``size`` leaves (RFC 9162 order)."""
    if not 0 <= index < size:
        raise ProofError(N_("leaf {index} is not in a tree of {size}", index=index, size=size))
    ranges: list[tuple[int, int]] = []
    _ranges_inclusion(index, 0, size, ranges)
    return _resolve(source, ranges) if ranges else []


def consistency_proof(source: HashSource, first: int, second: int) -> list[bytes]:
    """The proof that the tree of ``second`` leaves extends the tree of ``first``."""
    if not 0 <= first <= second:
        raise ProofError(N_("no consistency proof from {first} to {second}", first=first, second=second))
    if first in (0, second):
        return []
    ranges: list[tuple[int, int]] = []
    _ranges_consistency(first, 0, second, True, ranges)
    return _resolve(source, ranges)


def _lsb(x: int) -> bool:
    return bool(x & 1)


def root_from_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes]) -> bytes:
    """RFC 9162 §2.1.3.2: the root a leaf hash and its path lead to (raises if the path has the
    wrong shape for this index and size)."""
    if not 0 <= index < size:
        raise ProofError(N_("leaf {index} is not in a tree of {size}", index=index, size=size))
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if len(p) != 32:
            raise ProofError(N_("a path hash is not 32 bytes"))
        if sn == 0:
            raise ProofError(N_("the path is longer than the tree is deep"))
        if _lsb(fn) or fn == sn:
            r = node_hash(p, r)
            if not _lsb(fn):
                while not _lsb(fn) and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError(N_("the path is shorter than the tree is deep"))
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, path: Sequence[bytes], expected: bytes) -> None:
    """Raise :class:`ProofError` unless ``leaf`` is at ``index`` of the tree with root ``expected``."""
    if root_from_inclusion(index, size, leaf, path) != expected:
        raise ProofError(N_("the inclusion proof leads to another root"))


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, path: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2: raise :class:`ProofError` unless the tree (``second``, ``second_root``)
    extends the tree (``first``, ``first_root``)."""
    if not 0 <= first <= second:
        raise ProofError(N_("a tree of {second} cannot extend one of {first}", first=first, second=second))
    if first == second:
        if path or first_root != second_root:
            raise ProofError(N_("two heads of one size differ, or the proof is not empty"))
        return
    if first == 0:
        if path:
            raise ProofError(N_("a proof from the empty tree must be empty"))
        return
    if not path:
        raise ProofError(N_("the consistency proof is empty"))
    if any(len(p) != 32 for p in path):
        raise ProofError(N_("a proof hash is not 32 bytes"))
    steps = list(path)
    if first & (first - 1) == 0:
        steps.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while _lsb(fn):
        fn >>= 1
        sn >>= 1
    fr = sr = steps[0]
    for c in steps[1:]:
        if sn == 0:
            raise ProofError(N_("the proof is longer than the trees need"))
        if _lsb(fn) or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not _lsb(fn):
                while not _lsb(fn) and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0 or fr != first_root or sr != second_root:
        raise ProofError(N_("the consistency proof does not hold: the log was rewritten"))


class MemorySource:
    """A tree held as its leaf hashes in memory: the reference the stored tiles are tested
    against, and what the migration and small tools use."""

    def __init__(self, leaves: Iterable[bytes] = ()) -> None:
        self.leaves: list[bytes] = list(leaves)

    def subtrees(self, nodes: Iterable[Node]) -> dict[Node, bytes]:
        out: dict[Node, bytes] = {}
        for height, index in nodes:
            lo = index << height
            hi = lo + (1 << height)
            if hi > len(self.leaves):
                raise ProofError(f"subtree {height}/{index} is beyond the tree's {len(self.leaves)} leaves")
            out[(height, index)] = fold(self.leaves[lo:hi])
        return out
