"""The transparency log: every chain as an RFC 6962/9162 Merkle tree that anyone can check.

Core only (plain Python over bytes; no adapter): the tree's hashing, proofs and their
verification (:mod:`.merkle`), the tiles it is stored as (:mod:`.tiles`), and the signed notes a
checkpoint and a witness's cosignature are written in (:mod:`.note`). The store keeps the tiles
(``store/tlog.py``); docs/transparency.md says how anyone verifies a proof.
"""
