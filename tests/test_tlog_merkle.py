"""The Merkle tree of the transparency log (RFC 6962 / RFC 9162) against the test vectors
published with the Certificate Transparency reference code, and its tiles against a tree held
in memory.

Vectors, as data, from google/certificate-transparency:
- ``python/ct/crypto/merkle_test.py`` (commit 4bfca49): the eight leaf inputs, the inclusion
  paths (``precomputed_path_test_vectors``) and consistency proofs
  (``precomputed_proof_test_vectors``);
- ``go/merkletree/merkle_verifier_test.go`` (commit 0d3bd5e): the roots of the trees of sizes
  1 to 8 (``getRoots``) and the empty tree's (``sha256EmptyTreeHash``).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable

import pytest

from socialcredit.tlog import merkle as m
from socialcredit.tlog import tiles

LEAVES = [
    bytes.fromhex(h)
    for h in (
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    )
]
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
# (leaf index, tree size, path)
INCLUSION = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]
# (first size, second size, proof)
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        6,
        8,
        [
            "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (
        2,
        5,
        [
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]

TREE = m.MemorySource(m.leaf_hash(d) for d in LEAVES)


def test_roots_of_the_reference_tree() -> None:
    assert m.root(TREE, 0).hex() == EMPTY
    assert [m.root(TREE, n).hex() for n in range(1, 9)] == ROOTS


@pytest.mark.parametrize(("index", "size", "path"), INCLUSION)
def test_inclusion_vectors(index: int, size: int, path: list[str]) -> None:
    proof = m.inclusion_proof(TREE, index, size)
    assert [h.hex() for h in proof] == path
    leaf = m.leaf_hash(LEAVES[index])
    m.verify_inclusion(index, size, leaf, proof, bytes.fromhex(ROOTS[size - 1]))


@pytest.mark.parametrize(("first", "second", "proof"), CONSISTENCY)
def test_consistency_vectors(first: int, second: int, proof: list[str]) -> None:
    got = m.consistency_proof(TREE, first, second)
    assert [h.hex() for h in got] == proof
    m.verify_consistency(
        first, second, bytes.fromhex(ROOTS[first - 1]), bytes.fromhex(ROOTS[second - 1]), got
    )


def test_a_wrong_inclusion_proof_fails_as_the_reference_verifier_requires() -> None:
    """The refusals ``merkle_verifier_test.go``'s verifierCheck asks of a verifier."""
    index, size, path = INCLUSION[2]
    proof = [bytes.fromhex(h) for h in path]
    root, leaf = bytes.fromhex(ROOTS[size - 1]), m.leaf_hash(LEAVES[index])
    wrong = [
        (index - 1, size, leaf, proof, root),
        (index + 1, size, leaf, proof, root),
        (index ^ 2, size, leaf, proof, root),
        (index, size * 2, leaf, proof, root),
        (index, size // 2, leaf, proof, root),
        (index, size, m.leaf_hash(b"WrongLeaf"), proof, root),
        (index, size, leaf, proof, bytes.fromhex(EMPTY)),
        (index, size, leaf, [*proof, root], root),
        (index, size, leaf, proof[:-1], root),
        (index, size, leaf, [root, *proof], root),
        (index, size, leaf, [bytes.fromhex(EMPTY), *proof[1:]], root),
    ]
    for case in wrong:
        with pytest.raises(m.ProofError):
            m.verify_inclusion(*case)


def test_a_wrong_consistency_proof_fails() -> None:
    first, second, path = CONSISTENCY[2]
    proof = [bytes.fromhex(h) for h in path]
    r1, r2 = bytes.fromhex(ROOTS[first - 1]), bytes.fromhex(ROOTS[second - 1])
    for args in [
        (first - 1, second, r1, r2, proof),
        (first + 1, second, r1, r2, proof),
        (first, second * 2, r1, r2, proof),
        (first, second, r2, r1, proof),
        (first, second, r1, r2, []),
        (first, second, r1, r2, proof[:-1]),
        (first, second, r1, r2, [*proof, r1]),
        (second, first, r2, r1, proof),
    ]:
        with pytest.raises(m.ProofError):
            m.verify_consistency(*args)


def test_every_proof_of_small_trees_verifies() -> None:
    """As the reference's generated tests: every leaf of every tree up to 40, every pair of sizes."""
    leaves = [m.leaf_hash(bytes([i]) * 32) for i in range(40)]
    tree = m.MemorySource(leaves)
    for size in range(1, 41):
        root = m.root(tree, size)
        for index in range(size):
            m.verify_inclusion(index, size, leaves[index], m.inclusion_proof(tree, index, size), root)
        for first in range(1, size + 1):
            proof = m.consistency_proof(tree, first, size)
            m.verify_consistency(first, size, m.root(tree, first), root, proof)


def test_tiles_grown_in_random_chunks_give_the_trees_proofs() -> None:
    """The tiles, grown by appends of any size, answer every subtree as the tree in memory."""
    rng = random.Random(7)
    n = 70_000
    hashes = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(n)]
    stored: dict[tuple[int, int], bytes] = {}
    size = 0
    while size < n:
        new = hashes[size : size + rng.randint(1, 3000)]
        stored.update(tiles.grow(size, {t: stored[t] for t in tiles.edge(size)}, new))
        size += len(new)
    assert len(stored) < n / 200  # a few rows per 256 entries, not a row per node
    cache = tiles.Pyramids()

    class Tiled:
        def subtrees(self, nodes: Iterable[m.Node]) -> dict[m.Node, bytes]:
            return tiles.subtrees(nodes, lambda want: {t: stored[t] for t in want if t in stored}, cache)

    memory = m.MemorySource(hashes)
    for size in (n, 65_536, 256, 257, rng.randint(1, n)):
        assert m.root(Tiled(), size) == m.root(memory, size)
        index = rng.randrange(size)
        assert m.inclusion_proof(Tiled(), index, size) == m.inclusion_proof(memory, index, size)
        first = rng.randint(1, size)
        assert m.consistency_proof(Tiled(), first, size) == m.consistency_proof(memory, first, size)
