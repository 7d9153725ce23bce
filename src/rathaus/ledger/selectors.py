"""Reading the GovChain log: look up entries, prove inclusion and consistency, verify documents."""

from __future__ import annotations

import base64
import enum
import functools
import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from django.conf import settings

from rathaus.documents.seal import SealStatus, earlier_revisions, seal_of_issued
from rathaus.ledger import merkle, note, tiles
from rathaus.ledger.keys import log_signers
from rathaus.ledger.leaves import EntryFormatError, LogEntry, format_code, normalize_code
from rathaus.ledger.models import Checkpoint, DocumentType, Entry, RevocationReason, Tile
from rathaus.ledger.services import document_hash

logger = logging.getLogger(__name__)


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
    FAILED = "failed"  # the log's own data did not check out: report it, never trust it


@dataclass
class Verification:
    """What the log says about one document, after the server has checked it.

    ``signed_checkpoint`` is the checkpoint as opened with the log's public key(s); ``proof``
    proves the issue entry's inclusion in it (and ``revocation_proof`` the revocation's, once
    the revocation is sequenced). ``error`` says what failed when ``status`` is FAILED.
    ``document_sha256`` is the SHA-256 of the checked file (or the hash asked about);
    ``issued_sha256`` the one the log holds, which differs for a renewed copy.

    The facts to show (document type, authority, dates, revocation reason) come from the
    entries' logged bytes (``logged``, ``logged_revocation``), which the inclusion proof covers,
    never from the database row, which an administrator could edit.
    """

    status: Status
    document_sha256: str
    entry: Entry | None = None
    revocation: Entry | None = None
    checkpoint: Checkpoint | None = None
    proof: list[bytes] = field(default_factory=list)
    signed_checkpoint: note.Checkpoint | None = None
    revocation_proof: list[bytes] | None = None
    error: str = ""
    #: The checked file is not the issued file itself but the issued file with later revisions
    #: that only add validation data and archive time stamps (a renewed PAdES B-LTA copy).
    renewed_copy: bool = False
    #: The seal of a renewed copy as checked to accept it (so it is not checked twice).
    seal: SealStatus | None = None
    #: The issue entry's and the revocation's stored bytes, decoded (None if unreadable).
    logged: LogEntry | None = None
    logged_revocation: LogEntry | None = None

    @property
    def issued_sha256(self) -> str | None:
        """The SHA-256 of the document as issued and logged."""
        return self.logged.document_sha256 if self.logged else _row(self.entry, "document_sha256")

    @property
    def document_type(self) -> str | None:
        return self.logged.document_type if self.logged else _row(self.entry, "document_type")

    @property
    def document_type_label(self) -> str | None:
        return _label(DocumentType, self.document_type)

    @property
    def authority_name(self) -> str | None:
        """The issuing authority's name as logged when the document was issued (a later change
        of the name does not rewrite what was issued)."""
        if self.logged:
            return self.logged.authority_name
        return self.entry.authority.name if self.entry else None

    @property
    def issued_at(self) -> datetime | None:
        return self.logged.logged_at if self.logged else _row(self.entry, "logged_at")

    @property
    def revoked_at(self) -> datetime | None:
        if self.logged_revocation:
            return self.logged_revocation.logged_at
        return _row(self.revocation, "logged_at")

    @property
    def revocation_reason(self) -> str | None:
        if self.logged_revocation:
            return self.logged_revocation.reason
        return _row(self.revocation, "reason")

    @property
    def revocation_reason_label(self) -> str | None:
        return _label(RevocationReason, self.revocation_reason)

    @property
    def proof_size(self) -> int:
        return len(self.proof) * merkle.HASH_SIZE

    @property
    def proven(self) -> bool:
        """The inclusion proof against the signed checkpoint was checked and holds."""
        return self.signed_checkpoint is not None and self.entry is not None and not self.error

    @property
    def revocation_proven(self) -> bool:
        return self.proven and self.revocation_proof is not None

    def as_json(self, *, include_hash: bool = True) -> dict[str, Any]:
        """The public facts, as the verification API returns them (no personal data)."""
        entry, revocation = self.entry, self.revocation
        issued_at, revoked_at = self.issued_at, self.revoked_at
        data: dict[str, Any] = {
            "status": str(self.status),
            "document_sha256": self.document_sha256 if include_hash else None,
            "issued_sha256": self.issued_sha256 if include_hash else None,
            "code": format_code(entry.code) if entry else None,
            "document_type": self.document_type,
            "document_type_label": self.document_type_label,
            "authority": (
                {
                    "name": self.authority_name,
                    # not in the log entry (which names the authority by AGS and kind)
                    "municipality": entry.authority.municipality.name,
                    "ags": entry.authority.municipality.ags,
                    "kind": entry.authority.kind,
                }
                if entry
                else None
            ),
            "issued_at": issued_at.isoformat() if issued_at else None,
            "log_index": entry.index if entry else None,
            "revoked": revocation is not None,
            "revocation": (
                {
                    "code": format_code(revocation.code),
                    "reason": self.revocation_reason,
                    "reason_label": self.revocation_reason_label,
                    "revoked_at": revoked_at.isoformat() if revoked_at else None,
                    "log_index": revocation.index,
                    "proof_verified": self.revocation_proven,
                }
                if revocation
                else None
            ),
            "proof_verified": self.proven,
            "error": self.error or None,
            "renewed_copy": self.renewed_copy,
        }
        if self.signed_checkpoint is not None and self.checkpoint is not None:
            data["checkpoint"] = {
                "origin": self.signed_checkpoint.origin,
                "size": self.signed_checkpoint.size,
                "root_hash": base64.b64encode(self.signed_checkpoint.root_hash).decode(),
                "signed_note": self.checkpoint.note,
            }
            data["inclusion_proof"] = [base64.b64encode(h).decode() for h in self.proof]
        else:
            data["checkpoint"] = None
            data["inclusion_proof"] = None
        return data


def _row(entry: Entry | None, name: str) -> Any:
    return getattr(entry, name) if entry is not None else None


def _label(choices: type[DocumentType] | type[RevocationReason], value: str | None) -> str | None:
    """The translated label of a logged value (the value itself if it has none)."""
    if value is None:
        return None
    return str(choices(value).label) if value in choices.values else value


def _verifiers() -> list[note.Verifier]:
    return [signer.verifier() for signer in log_signers()]


def _decoded(entry: Entry) -> LogEntry | None:
    try:
        return LogEntry.decode(bytes(entry.leaf))
    except EntryFormatError:
        return None


def _check_row(entry: Entry, logged: LogEntry | None) -> None:
    """Check that the stored entry bytes say what the row says, every field of them: a row
    changed in the database (SQLite has no trigger to stop it) must not be shown as logged."""
    if logged is None:
        raise merkle.ProofError(f"the stored bytes of entry {entry.code} are not a log entry")
    authority = entry.authority
    differing = [
        name
        for name, in_bytes, in_row in [
            ("kind", logged.kind, entry.kind),
            ("code", logged.code, entry.code),
            ("document-sha256", logged.document_sha256, entry.document_sha256),
            ("document-type", logged.document_type, entry.document_type),
            ("authority", logged.authority, f"{authority.municipality.ags}/{authority.kind}"),
            ("logged-at", logged.logged_at, entry.logged_at),
            ("reason", logged.reason, entry.reason),
        ]
        if in_bytes != in_row
    ]
    if differing:
        raise merkle.ProofError(
            f"entry {entry.code} does not match its stored bytes: {', '.join(differing)}"
        )


def _prove(entry: Entry, signed: note.Checkpoint) -> list[bytes]:
    """Prove the inclusion of the entry's stored bytes in the signed checkpoint."""
    assert entry.index is not None
    proof = merkle.inclusion_proof(entry.index, signed.size, DatabaseTiles(signed.size))
    merkle.verify_inclusion(
        merkle.leaf_hash(bytes(entry.leaf)), entry.index, signed.size, proof, signed.root_hash
    )
    return proof


def _sequenced(entry: Entry | None, checkpoint: Checkpoint | None) -> bool:
    return (
        entry is not None
        and checkpoint is not None
        and entry.index is not None
        and entry.index < checkpoint.size
    )


def _verify(issue: Entry, revocation: Entry | None, *, document_sha256: str) -> Verification:
    checkpoint = latest_checkpoint()
    logged = _decoded(issue)
    logged_revocation = _decoded(revocation) if revocation is not None else None
    answer = functools.partial(
        Verification,
        document_sha256=document_sha256,
        entry=issue,
        revocation=revocation,
        checkpoint=checkpoint,
        logged=logged,
        logged_revocation=logged_revocation,
    )
    try:
        _check_row(issue, logged)
        if revocation is not None:
            _check_row(revocation, logged_revocation)
        if not _sequenced(issue, checkpoint):
            return answer(Status.REVOKED if revocation else Status.PENDING)
        assert checkpoint is not None
        # the signature is checked here too: a row changed in the database is caught
        signed = note.open_checkpoint(checkpoint.note, _verifiers(), origin=settings.LEDGER_ORIGIN)
        if signed.size != checkpoint.size or signed.root_hash != bytes(checkpoint.root_hash):
            raise merkle.ProofError("the stored checkpoint differs from its signed text")
        proof = _prove(issue, signed)
        revocation_proof = (
            _prove(revocation, signed)
            if revocation is not None and _sequenced(revocation, checkpoint)
            else None
        )
    except (merkle.ProofError, note.NoteError, EntryFormatError) as exc:
        logger.error("GovChain verification failed", extra={"code": issue.code, "error": str(exc)})
        return answer(Status.FAILED, error=str(exc))
    return answer(
        Status.REVOKED if revocation else Status.VALID,
        proof=proof,
        signed_checkpoint=signed,
        revocation_proof=revocation_proof,
    )


def _entries_for(sha256: str) -> tuple[Entry | None, Entry | None]:
    entries = {
        e.kind: e
        for e in Entry.objects.select_related("authority__municipality").filter(
            document_sha256=sha256
        )
    }
    return entries.get(Entry.Kind.ISSUE), entries.get(Entry.Kind.REVOKE)


def verify_document(
    *, document: bytes | None = None, document_sha256: str | None = None
) -> Verification:
    """What the log says about a document. The checkpoint's signature and the inclusion proof
    are checked before anything is reported. Raises ``LedgerError`` for a malformed hash."""
    sha256 = document_hash(document=document, document_sha256=document_sha256)
    issue, revocation = _entries_for(sha256)
    if issue is None:
        return Verification(Status.UNKNOWN, sha256)
    return _verify(issue, revocation, document_sha256=sha256)


def verify_upload(upload: IO[bytes], *, document_sha256: str) -> Verification:
    """What the log says about an uploaded file whose SHA-256 is ``document_sha256``: the
    issued document itself, or else perhaps a copy of it with renewed archive time stamps (an
    E-Akte copy). The file is read only for the second question."""
    result = verify_document(document_sha256=document_sha256)
    if result.status != Status.UNKNOWN:
        return result
    upload.seek(0)
    return verify_renewed_copy(upload.read(), document_sha256=document_sha256) or result


def verify_renewed_copy(
    document: bytes, *, document_sha256: str | None = None
) -> Verification | None:
    """What the log says about ``document`` when it is an issued, sealed document whose archive
    time stamp was renewed later: the log knows one of its earlier revisions, and its seal shows
    that everything after the seal only added validation data and document time stamps. None
    otherwise (an unsealed document with anything appended is *not* the issued one).
    ``document_sha256``: the document's hash, if the caller has it already."""
    if b"/ByteRange" not in document:  # no signature at all, so no seal to vouch for a copy
        return None
    revisions = earlier_revisions(document)
    issued = set(
        Entry.objects.filter(kind=Entry.Kind.ISSUE, document_sha256__in=revisions).values_list(
            "document_sha256", flat=True
        )
    )
    for sha256 in revisions:
        if sha256 not in issued:
            continue
        issue, revocation = _entries_for(sha256)
        if issue is None:  # pragma: no cover - deleted between the two queries
            continue
        seal = seal_of_issued(document)
        if seal is None or not seal.valid:
            return None
        # the answer is about the issued revision, the hash is the file's (issued_sha256: the log's)
        result = _verify(
            issue,
            revocation,
            document_sha256=document_sha256 or hashlib.sha256(document).hexdigest(),
        )
        result.renewed_copy, result.seal = True, seal
        return result
    return None


def verify_code(code: str) -> Verification | None:
    """What the log says about the document printed with ``code`` (or whose revocation has
    that code); None when no entry has it. Says nothing about whether a given copy is
    unaltered: only the document's bytes can show that (``verify_document``)."""
    entry = entry_by_code(code)
    if entry is None:
        return None
    issue, revocation = _entries_for(entry.document_sha256)
    if issue is None:  # pragma: no cover - a revocation always follows its issue
        return None
    return _verify(issue, revocation, document_sha256=issue.document_sha256)
