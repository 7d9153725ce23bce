"""Reading the GovChain log: look up entries, prove inclusion and consistency, verify documents."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from rathaus.ledger import merkle, tiles
from rathaus.ledger.leaves import normalize_code
from rathaus.ledger.models import Checkpoint, Entry, Tile
from rathaus.ledger.services import document_hash


class DatabaseTiles(tiles.TileSource):
    """Merkle tree nodes of the tree of ``size`` leaves, from the tiles in the database."""

    def __init__(self, size: int) -> None:
        super().__init__(size, self._fetch_row)

    @staticmethod
    def _fetch_row(level: int, index: int, width: int) -> bytes:
        row = Tile.objects.filter(level=level, index=index).values_list("hashes", flat=True).first()
        if row is None:
            raise merkle.ProofError(f"tile {level}/{index} is missing")
        return bytes(row)[: width * merkle.HASH_SIZE]


def latest_checkpoint() -> Checkpoint | None:
    return Checkpoint.objects.order_by("-id").first()


def entry_by_code(code: str) -> Entry | None:
    """The entry for a code as a person typed it (``7kq4m 2xh9p``, ``7KQ4M-2XH9P``, …)."""
    normalized = normalize_code(code)
    if normalized is None:
        return None
    return Entry.objects.select_related("authority__municipality").filter(code=normalized).first()


def inclusion_proof(*, entry: Entry, size: int) -> list[bytes]:
    if entry.index is None:
        raise merkle.ProofError("the entry has not been sequenced yet")
    return merkle.inclusion_proof(entry.index, size, DatabaseTiles(size))


def consistency_proof(*, old_size: int, new_size: int) -> list[bytes]:
    return merkle.consistency_proof(old_size, new_size, DatabaseTiles(new_size))


class Status(enum.StrEnum):
    VALID = "valid"  # issued, in the log, not revoked
    REVOKED = "revoked"  # a revocation was logged
    PENDING = "pending"  # logged, waiting for the next checkpoint (about a second)
    UNKNOWN = "unknown"  # this exact document was never logged


@dataclass
class Verification:
    status: Status
    document_sha256: str
    entry: Entry | None = None
    revocation: Entry | None = None
    checkpoint: Checkpoint | None = None
    proof: list[bytes] = field(default_factory=list)

    @property
    def proof_size(self) -> int:
        return len(self.proof) * merkle.HASH_SIZE


def verify_document(
    *, document: bytes | None = None, document_sha256: str | None = None
) -> Verification:
    """What the log says about a document; the inclusion proof is checked against the latest
    checkpoint before it is reported. Raises ``LedgerError`` for a malformed hash."""
    sha256 = document_hash(document=document, document_sha256=document_sha256)
    entries = {
        e.kind: e
        for e in Entry.objects.select_related("authority__municipality").filter(
            document_sha256=sha256
        )
    }
    issue, revocation = entries.get(Entry.Kind.ISSUE), entries.get(Entry.Kind.REVOKE)
    if issue is None:
        return Verification(Status.UNKNOWN, sha256)
    checkpoint = latest_checkpoint()
    if checkpoint is None or issue.index is None or issue.index >= checkpoint.size:
        status = Status.REVOKED if revocation else Status.PENDING
        return Verification(status, sha256, issue, revocation, checkpoint)
    proof = inclusion_proof(entry=issue, size=checkpoint.size)
    merkle.verify_inclusion(
        merkle.leaf_hash(bytes(issue.leaf)),
        issue.index,
        checkpoint.size,
        proof,
        bytes(checkpoint.root_hash),
    )
    status = Status.REVOKED if revocation else Status.VALID
    return Verification(status, sha256, issue, revocation, checkpoint, proof)
