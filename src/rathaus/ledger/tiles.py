"""C2SP tlog-tiles: tile paths, entry bundles, growing the tree tile by tile, proofs from tiles.

https://c2sp.org/tlog-tiles: a tile at level L holds up to 256 consecutive Merkle tree hashes of
subtrees of 256**L leaves; the rightmost tiles are partial (``.p/<width>``). Entry bundles hold
the log entries of one level-0 tile, each prefixed with its length as a big-endian uint16.
Imports nothing from Django: the offline verifier uses it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from rathaus.ledger.merkle import (
    HASH_SIZE,
    NodeSource,
    ProofError,
    node_hash,
    root_from_leaf_hashes,
)

TILE_HEIGHT = 8
TILE_WIDTH = 1 << TILE_HEIGHT
MAX_ENTRY_SIZE = 0xFFFF


def _index_path(index: int) -> str:
    if index < 0:
        raise ValueError("tile index must not be negative")
    groups = []
    while True:
        groups.append(f"{index % 1000:03d}")
        index //= 1000
        if index == 0:
            break
    groups.reverse()
    return "/".join([*(f"x{g}" for g in groups[:-1]), groups[-1]])


def _width_suffix(width: int | None) -> str:
    if width is None or width == TILE_WIDTH:
        return ""
    if not 1 <= width < TILE_WIDTH:
        raise ValueError("a partial tile has 1 to 255 entries")
    return f".p/{width}"


def tile_path(level: int, index: int, width: int | None = None) -> str:
    """``tile/<L>/<N>[.p/<W>]``, e.g. ``tile/0/x001/x234/067`` for index 1234067."""
    return f"tile/{level}/{_index_path(index)}{_width_suffix(width)}"


def entries_path(index: int, width: int | None = None) -> str:
    """``tile/entries/<N>[.p/<W>]``: the entry bundle of level-0 tile ``index``."""
    return f"tile/entries/{_index_path(index)}{_width_suffix(width)}"


def tile_width(level: int, index: int, size: int) -> int:
    """How many hashes tile (level, index) holds in a tree of ``size`` leaves (0 = none)."""
    available = size // TILE_WIDTH**level
    return max(0, min(TILE_WIDTH, available - index * TILE_WIDTH))


def encode_bundle(entries: Iterable[bytes]) -> bytes:
    out = bytearray()
    for entry in entries:
        if len(entry) > MAX_ENTRY_SIZE:
            raise ValueError("a log entry is longer than 65535 bytes")
        out += len(entry).to_bytes(2, "big") + entry
    return bytes(out)


def decode_bundle(data: bytes) -> list[bytes]:
    entries, pos = [], 0
    while pos < len(data):
        if pos + 2 > len(data):
            raise ProofError("truncated entry bundle")
        length = int.from_bytes(data[pos : pos + 2], "big")
        pos += 2
        if pos + length > len(data):
            raise ProofError("truncated entry bundle")
        entries.append(data[pos : pos + length])
        pos += length
    return entries


def encode_tile(hashes: Sequence[bytes]) -> bytes:
    return b"".join(hashes)


def decode_tile(data: bytes, width: int) -> list[bytes]:
    if len(data) != width * HASH_SIZE:
        raise ProofError(f"tile has {len(data)} bytes, expected {width * HASH_SIZE}")
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


@dataclass
class Edge:
    """The right edge of a tiled tree: the partial tile of every level, enough to grow it."""

    size: int = 0
    partial: dict[int, list[bytes]] = field(default_factory=dict)

    def root(self) -> bytes:
        """The tree's root hash, from the aligned perfect subtrees held in the partial tiles."""
        subtrees: list[bytes] = []
        for level in sorted(self.partial, reverse=True):
            hashes, pos = self.partial[level], 0
            for bit in reversed(range(TILE_HEIGHT)):
                if len(hashes) & (1 << bit):
                    subtrees.append(root_from_leaf_hashes(hashes[pos : pos + (1 << bit)]))
                    pos += 1 << bit
        if not subtrees:
            return root_from_leaf_hashes([])
        value = subtrees[-1]
        for left in reversed(subtrees[:-1]):
            value = node_hash(left, value)
        return value

    def append(self, leaf_hashes: Iterable[bytes]) -> dict[tuple[int, int], list[bytes]]:
        """Add leaves; return every tile that changed as {(level, index): its hashes}."""
        changed: dict[tuple[int, int], list[bytes]] = {}
        for h in leaf_hashes:
            self.size += 1
            level, value = 0, h
            while True:
                tile = self.partial.setdefault(level, [])
                tile.append(value)
                index = (self.size // TILE_WIDTH**level - 1) // TILE_WIDTH
                if len(tile) < TILE_WIDTH:
                    changed[(level, index)] = tile
                    break
                changed[(level, index)] = list(tile)
                value = root_from_leaf_hashes(tile)
                self.partial[level] = []
                level += 1
        for level in [lv for lv, hashes in self.partial.items() if not hashes]:
            del self.partial[level]
        return {key: list(hashes) for key, hashes in changed.items()}


TileFetcher = Callable[[int, int, int], bytes]
"""fetch(level, index, width) -> the tile's bytes (width 256 = a full tile)."""


class TileSource(NodeSource):
    """Answers Merkle tree nodes of a tree of ``size`` leaves from its tiles."""

    def __init__(self, size: int, fetch: TileFetcher) -> None:
        self.size = size
        self._fetch = fetch
        self._levels: dict[tuple[int, int], list[list[bytes]]] = {}

    def tile(self, level: int, index: int) -> list[bytes]:
        width = tile_width(level, index, self.size)
        if width == 0:
            raise ProofError(f"tile {level}/{index} does not exist in a tree of size {self.size}")
        return decode_tile(self._fetch(level, index, width), width)

    def _tile_levels(self, level: int, index: int) -> list[list[bytes]]:
        key = (level, index)
        if key not in self._levels:
            levels = [self.tile(level, index)]
            while len(levels[-1]) > 1:
                below = levels[-1]
                levels.append(
                    [node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
                )
            self._levels[key] = levels
        return self._levels[key]

    def node(self, level: int, index: int) -> bytes:
        tile_level, height = divmod(level, TILE_HEIGHT)
        first = index << height  # position of the subtree's first hash at tile_level
        levels = self._tile_levels(tile_level, first // TILE_WIDTH)
        try:
            return levels[height][(first % TILE_WIDTH) >> height]
        except IndexError:
            raise ProofError(f"no complete subtree at level {level}, index {index}") from None
