"""RFC 6962 / 9162 hashing and proofs: published vectors and a naive reference implementation.

The vectors are the RFC 6962 test data published with github.com/transparency-dev/merkle
(rfc6962/rfc6962_test.go, proof/verify_test.go), originally from the certificate-transparency
C++ implementation. The reference implementation below is written straight from the recursive
definitions of RFC 9162 section 2.1 and shares no code with ``rathaus.ledger.merkle``.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rathaus.ledger import merkle

H = bytes.fromhex

LEAVES = [
    b"",
    H("00"),
    H("10"),
    H("2021"),
    H("3031"),
    H("40414243"),
    H("5051525354555657"),
    H("606162636465666768696a6b6c6d6e6f"),
]
ROOTS = [
    H("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
    H("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"),
    H("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
    H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
    H("4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4"),
    H("76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef"),
    H("ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c"),
    H("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"),
]
# (leaf number counted from 1, tree size, audit path)
INCLUSION = [
    (1, 1, []),
    (
        1,
        8,
        [
            H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
            H("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (3, 3, [H("fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125")]),
    (
        2,
        5,
        [
            H("6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"),
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
]
CONSISTENCY = [
    (1, 1, []),
    (
        1,
        8,
        [
            H("96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7"),
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"),
        ],
    ),
    (
        6,
        8,
        [
            H("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            H("ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0"),
            H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
    (
        2,
        5,
        [
            H("5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e"),
            H("bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"),
        ],
    ),
    (
        6,
        7,
        [
            H("0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a"),
            H("b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f"),
            H("d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"),
        ],
    ),
]


# --- an independent, deliberately naive implementation of RFC 9162 section 2.1 ------------------


def ref_mth(d: list[bytes]) -> bytes:
    n = len(d)
    if n == 0:
        return hashlib.sha256(b"").digest()
    if n == 1:
        return hashlib.sha256(b"\x00" + d[0]).digest()
    k = 1
    while k * 2 < n:
        k *= 2
    return hashlib.sha256(b"\x01" + ref_mth(d[:k]) + ref_mth(d[k:])).digest()


def ref_path(m: int, d: list[bytes]) -> list[bytes]:
    n = len(d)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return [*ref_path(m, d[:k]), ref_mth(d[k:])]
    return [*ref_path(m - k, d[k:]), ref_mth(d[:k])]


def ref_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    n = len(d)
    if m == n:
        return [] if b else [ref_mth(d)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return [*ref_subproof(m, d[:k], b), ref_mth(d[k:])]
    return [*ref_subproof(m - k, d[k:], False), ref_mth(d[:k])]


# --- vectors -------------------------------------------------------------------------------------


def test_hashes_match_the_published_rfc6962_vectors() -> None:
    assert merkle.EMPTY_ROOT.hex() == (
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    )
    assert merkle.root([]) == merkle.EMPTY_ROOT
    assert merkle.leaf_hash(b"").hex() == (
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )
    assert merkle.leaf_hash(b"L123456").hex() == (
        "395aa064aa4c29f7010acfe3f25db9485bbd4b91897b6ad7ad547639252b4d56"
    )
    assert merkle.node_hash(b"N123", b"N456").hex() == (
        "aa217fe888e47007fa15edab33c2b492a722cb106c64667fc2b044444de66bbb"
    )


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_the_published_vectors(size: int) -> None:
    assert merkle.root(LEAVES[:size]) == ROOTS[size - 1]
    assert merkle.MemoryTree.from_entries(LEAVES[:size]).root() == ROOTS[size - 1]


@pytest.mark.parametrize(("leaf", "size", "path"), INCLUSION)
def test_inclusion_proofs_match_the_published_vectors(
    leaf: int, size: int, path: list[bytes]
) -> None:
    tree = merkle.MemoryTree.from_entries(LEAVES[:size])
    assert merkle.inclusion_proof(leaf - 1, size, tree) == path
    merkle.verify_inclusion(
        merkle.leaf_hash(LEAVES[leaf - 1]), leaf - 1, size, path, ROOTS[size - 1]
    )


@pytest.mark.parametrize(("old", "new", "path"), CONSISTENCY)
def test_consistency_proofs_match_the_published_vectors(
    old: int, new: int, path: list[bytes]
) -> None:
    tree = merkle.MemoryTree.from_entries(LEAVES[:new])
    assert merkle.consistency_proof(old, new, tree) == path
    merkle.verify_consistency(old, new, path, ROOTS[old - 1], ROOTS[new - 1])


# --- forged proofs -------------------------------------------------------------------------------


def _flip(value: bytes, bit: int = 3) -> bytes:
    return bytes([value[0] ^ (1 << bit)]) + value[1:]


@pytest.mark.parametrize(("leaf", "size", "path"), [v for v in INCLUSION if v[2]])
def test_forged_inclusion_proofs_fail(leaf: int, size: int, path: list[bytes]) -> None:
    index, good_root = leaf - 1, ROOTS[size - 1]
    lh = merkle.leaf_hash(LEAVES[index])
    some = H("abacaba000000000000000000000000000000000000000000060061e00123456")
    forgeries = [
        (index + 1, size, good_root, lh, path),
        (index ^ 2, size, good_root, lh, path),
        (index, size * 2, good_root, lh, path),
        (index, size, good_root, merkle.leaf_hash(b"WrongLeaf"), path),
        (index, size, merkle.EMPTY_ROOT, lh, path),
        (index, size, good_root, lh, [*path, good_root]),
        (index, size, good_root, lh, [good_root, *path]),
        (index, size, good_root, lh, path[:-1]),
        (index, size, good_root, lh, [path[0], some, *path[1:]]),
        *[
            (index, size, good_root, lh, [*path[:i], _flip(path[i]), *path[i + 1 :]])
            for i in range(len(path))
        ],
    ]
    for i, n, r, h, p in forgeries:
        if not 0 <= i < n:
            continue
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(h, i, n, p, r)


@pytest.mark.parametrize(("old", "new", "path"), [v for v in CONSISTENCY if v[2]])
def test_forged_consistency_proofs_fail(old: int, new: int, path: list[bytes]) -> None:
    r1, r2 = ROOTS[old - 1], ROOTS[new - 1]
    forgeries = [
        (old - 1, new, r1, r2, path),
        (old + 1, new, r1, r2, path),
        (old ^ 2, new, r1, r2, path),
        (old, new * 2, r1, r2, path),
        (old, new, r2, r1, path),
        (old, new, r1, r2, []),
        (old, new, r1, r2, [*path, r1]),
        (old, new, r1, r2, [r2, *path]),
        (old, new, r1, r2, path[:-1]),
        *[
            (old, new, r1, r2, [*path[:i], _flip(path[i], 4), *path[i + 1 :]])
            for i in range(len(path))
        ],
    ]
    for o, n, a, b, p in forgeries:
        if o < 0 or o > n or (o == 0 and not p):
            continue
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(o, n, p, a, b)


def test_a_rewritten_past_entry_is_detected_by_the_consistency_proof() -> None:
    history = [f"entry {i}".encode() for i in range(13)]
    old_root = merkle.root(history[:9])
    rewritten = [*history[:4], b"entry 4, quietly changed", *history[5:]]
    tree = merkle.MemoryTree.from_entries(rewritten)
    proof = merkle.consistency_proof(9, 13, tree)
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(9, 13, proof, old_root, tree.root())


# --- against the naive reference -----------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=8), min_size=1, max_size=70), st.data())
def test_proofs_agree_with_the_naive_reference(entries: list[bytes], data: st.DataObject) -> None:
    n = len(entries)
    tree = merkle.MemoryTree.from_entries(entries)
    assert merkle.root(entries) == ref_mth(entries) == tree.root()
    index = data.draw(st.integers(0, n - 1))
    path = merkle.inclusion_proof(index, n, tree)
    assert path == ref_path(index, entries)
    merkle.verify_inclusion(merkle.leaf_hash(entries[index]), index, n, path, ref_mth(entries))
    old = data.draw(st.integers(1, n))
    proof = merkle.consistency_proof(old, n, tree)
    assert proof == ref_subproof(old, entries, True)
    merkle.verify_consistency(old, n, proof, ref_mth(entries[:old]), ref_mth(entries))


def test_inclusion_proofs_stay_within_32_bytes_per_level() -> None:
    entries = [i.to_bytes(4, "big") for i in range(1000)]
    tree = merkle.MemoryTree.from_entries(entries)
    for index in (0, 1, 511, 998, 999):
        assert len(merkle.inclusion_proof(index, 1000, tree)) * 32 <= 32 * 10
