"""Merkle tree hashing and proofs of RFC 6962 / RFC 9162 section 2.1, in pure Python.

Leaves are hashed as SHA-256(0x00 || data), interior nodes as SHA-256(0x01 || left || right).
Proofs are produced from a :class:`NodeSource`, which answers the hash of a perfect, aligned
subtree (``node(level, index)`` = MTH of the leaves ``[index * 2**level, (index + 1) * 2**level)``),
so the same code builds proofs from an in-memory list (:class:`MemoryTree`), from the database or
from published tiles (``rathaus.ledger.tiles``).

This module imports nothing from Django: the offline verifier uses it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Protocol

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()


class ProofError(ValueError):
    """A proof is malformed or does not prove what it claims."""


def leaf_hash(data: bytes) -> bytes:
    """RFC 9162 section 2.1.1: the hash of one log entry."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """RFC 9162 section 2.1.1: the hash of an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_leaf_hashes(hashes: Iterable[bytes]) -> bytes:
    """The Merkle Tree Hash of a list of leaf hashes, in one pass with O(log n) memory."""
    stack: list[tuple[int, bytes]] = []  # (number of leaves, hash) of perfect subtrees
    for h in hashes:
        size, value = 1, h
        while stack and stack[-1][0] == size:
            _, left = stack.pop()
            size, value = size * 2, node_hash(left, value)
        stack.append((size, value))
    if not stack:
        return EMPTY_ROOT
    value = stack[-1][1]
    for _, left in reversed(stack[:-1]):
        value = node_hash(left, value)
    return value


def root(leaves: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash of the tree whose leaves are ``leaf_hash`` of each item."""
    return root_from_leaf_hashes(leaf_hash(item) for item in leaves)


class NodeSource(Protocol):
    def node(self, level: int, index: int) -> bytes:
        """MTH of the perfect subtree of 2**level leaves starting at leaf index * 2**level."""
        ...


class MemoryTree:
    """A :class:`NodeSource` over leaf hashes held in memory (tests, small logs)."""

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        self._levels: list[list[bytes]] = [list(leaf_hashes)]

    @classmethod
    def from_entries(cls, entries: Sequence[bytes]) -> MemoryTree:
        return cls([leaf_hash(e) for e in entries])

    @property
    def size(self) -> int:
        return len(self._levels[0])

    def append(self, data: bytes) -> None:
        self._levels = [self._levels[0] + [leaf_hash(data)]]

    def node(self, level: int, index: int) -> bytes:
        while len(self._levels) <= level:
            below = self._levels[-1]
            self._levels.append(
                [node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
            )
        try:
            return self._levels[level][index]
        except IndexError:
            raise ProofError(f"no complete subtree at level {level}, index {index}") from None

    def root(self) -> bytes:
        return subtree_hash(self, 0, self.size)


def _largest_power_of_two_below(n: int) -> int:
    """The largest power of two strictly smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


def subtree_hash(source: NodeSource, start: int, end: int) -> bytes:
    """MTH(D[start:end]) following the recursive definition of RFC 9162 section 2.1.1."""
    n = end - start
    if n <= 0:
        if n == 0:
            return EMPTY_ROOT
        raise ProofError("empty or negative range")
    if n & (n - 1) == 0 and start % n == 0:
        return source.node(n.bit_length() - 1, start // n)
    k = _largest_power_of_two_below(n)
    return node_hash(subtree_hash(source, start, start + k), subtree_hash(source, start + k, end))


def inclusion_proof(index: int, size: int, source: NodeSource) -> list[bytes]:
    """RFC 9162 section 2.1.3.1: the audit path of leaf ``index`` in the tree of ``size``."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    proof: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = _largest_power_of_two_below(end - start)
        if index < start + k:
            proof.append(subtree_hash(source, start + k, end))
            end = start + k
        else:
            proof.append(subtree_hash(source, start, start + k))
            start = start + k
    proof.reverse()
    return proof


def consistency_proof(old_size: int, new_size: int, source: NodeSource) -> list[bytes]:
    """RFC 9162 section 2.1.4.1: proof that the tree of ``old_size`` is a prefix of ``new_size``."""
    if not 0 <= old_size <= new_size:
        raise ProofError(f"cannot prove consistency from size {old_size} to {new_size}")
    if old_size in (0, new_size):
        return []
    proof: list[bytes] = []
    start, end, m, complete = 0, new_size, old_size, True
    while m != end - start:
        k = _largest_power_of_two_below(end - start)
        if m <= k:
            proof.append(subtree_hash(source, start + k, end))
            end = start + k
        else:
            proof.append(subtree_hash(source, start, start + k))
            start, m, complete = start + k, m - k, False
    if not complete:
        proof.append(subtree_hash(source, start, end))
    proof.reverse()
    return proof


def _check_hashes(*values: bytes) -> None:
    for value in values:
        if len(value) != HASH_SIZE:
            raise ProofError("a hash is not 32 bytes long")


def root_from_inclusion_proof(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """RFC 9162 section 2.1.3.2: the root that ``proof`` leads to from leaf hash ``leaf``."""
    if not 0 <= index < size:
        raise ProofError(f"leaf index {index} is outside a tree of size {size}")
    _check_hashes(leaf, *proof)
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("the inclusion proof is too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the inclusion proof is too short")
    return r


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes
) -> None:
    """Raise :class:`ProofError` unless ``proof`` shows leaf hash ``leaf`` at ``index``."""
    _check_hashes(root_hash)
    if root_from_inclusion_proof(leaf, index, size, proof) != root_hash:
        raise ProofError("the inclusion proof does not lead to the root hash")


def verify_consistency(
    old_size: int,
    new_size: int,
    proof: Sequence[bytes],
    old_root: bytes,
    new_root: bytes,
) -> None:
    """RFC 9162 section 2.1.4.2: raise :class:`ProofError` unless the trees are consistent."""
    if not 0 <= old_size <= new_size:
        raise ProofError(f"cannot prove consistency from size {old_size} to {new_size}")
    if old_size == new_size:
        if proof:
            raise ProofError("a proof between equal sizes must be empty")
        if old_root != new_root:
            raise ProofError("trees of equal size have different roots")
        return
    if old_size == 0:
        if proof:
            raise ProofError("a proof from the empty tree must be empty")
        return
    if not proof:
        raise ProofError("the consistency proof is empty")
    _check_hashes(old_root, new_root, *proof)
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("the consistency proof is too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("the consistency proof is too short")
    if fr != old_root:
        raise ProofError("the consistency proof does not lead to the old root")
    if sr != new_root:
        raise ProofError("the consistency proof does not lead to the new root")
