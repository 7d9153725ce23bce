"""tlog-tiles layout: paths, bundles, growing the tree in batches, proofs from tiles."""

from __future__ import annotations

import pytest

from rathaus.ledger import merkle, tiles


def test_tile_paths_follow_the_spec() -> None:
    assert tiles.tile_path(0, 1234067) == "tile/0/x001/x234/067"
    assert tiles.tile_path(1, 5) == "tile/1/005"
    assert tiles.tile_path(2, 0, 1) == "tile/2/000.p/1"
    assert tiles.tile_path(0, 1000, 256) == "tile/0/x001/000"
    assert tiles.entries_path(273, 112) == "tile/entries/273.p/112"


def test_tile_widths_for_a_tree_of_70000() -> None:
    # the example of c2sp.org/tlog-tiles
    assert tiles.tile_width(0, 272, 70000) == 256
    assert tiles.tile_width(0, 273, 70000) == 112
    assert tiles.tile_width(1, 0, 70000) == 256
    assert tiles.tile_width(1, 1, 70000) == 17
    assert tiles.tile_width(2, 0, 70000) == 1
    assert tiles.tile_width(0, 274, 70000) == 0


def test_bundles_round_trip_and_reject_truncation() -> None:
    entries = [b"", b"a", b"x" * 300]
    data = tiles.encode_bundle(entries)
    assert tiles.decode_bundle(data) == entries
    with pytest.raises(merkle.ProofError):
        tiles.decode_bundle(data[:-1])


def test_growing_in_batches_gives_the_same_tiles_roots_and_proofs_as_a_plain_tree() -> None:
    entries = [i.to_bytes(3, "big") for i in range(70000)]
    hashes = [merkle.leaf_hash(e) for e in entries]
    edge = tiles.Edge()
    store: dict[tuple[int, int], list[bytes]] = {}
    pos = 0
    for batch in (1, 255, 1, 700, 65000, 1000, 3043):
        store.update(edge.append(hashes[pos : pos + batch]))
        pos += batch
        assert edge.root() == merkle.root_from_leaf_hashes(hashes[:pos])
    assert edge.size == 70000
    assert len(store[(0, 273)]) == 112
    assert len(store[(1, 1)]) == 17
    assert len(store[(2, 0)]) == 1

    def fetch(level: int, index: int, width: int) -> bytes:
        stored = store[(level, index)]
        return tiles.encode_tile(stored[:width])

    source = tiles.TileSource(70000, fetch)
    reference = merkle.MemoryTree(hashes)
    root = edge.root()
    for index in (0, 255, 256, 65535, 65536, 69999):
        proof = merkle.inclusion_proof(index, 70000, source)
        assert proof == merkle.inclusion_proof(index, 70000, reference)
        merkle.verify_inclusion(hashes[index], index, 70000, proof, root)
    old_root = merkle.root_from_leaf_hashes(hashes[:1000])
    proof = merkle.consistency_proof(1000, 70000, source)
    merkle.verify_consistency(1000, 70000, proof, old_root, root)
