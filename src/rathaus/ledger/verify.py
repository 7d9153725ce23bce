"""rathaus-verify: check a document against the published GovChain log, trusting no server.

Needs only the published files (a directory or a base URL: ``checkpoint``, ``tile/…``) and the
log's verifier key. By default it reads every entry bundle, recomputes the root hash of the signed
checkpoint from them (so no entry, and no revocation, can be hidden), then checks the document's
inclusion proof built from the tiles. ``--index`` checks just one entry (fast, O(log n) files,
but cannot rule out a revocation). ``--remember FILE`` keeps the last checkpoint seen and checks
that the log only grew since (consistency proof): a rewritten history is detected.

    python -m rathaus.ledger.verify Bescheid.pdf --log https://portal.example.de/media/govchain \\
        --key 'portal.example.de/govchain+1a2b3c4d+AQ…'

Exit status: 0 valid, 1 revoked, unknown or any check failed, 2 bad usage.
Imports nothing from Django.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rathaus.ledger import merkle, note, tiles
from rathaus.ledger.leaves import EntryFormatError, LogEntry, format_code

Fetch = Callable[[str], bytes | None]
"""fetch(path) -> the file's bytes, or None if it does not exist."""

MAX_FILE = 64 * 1024 * 1024


class VerificationFailed(Exception):
    """The log or a proof failed a check: do not trust the document."""


def directory_fetcher(root: Path) -> Fetch:
    base = root.resolve()

    def fetch(path: str) -> bytes | None:
        target = (base / path).resolve()
        if not target.is_relative_to(base):
            raise ValueError("path outside the log directory")
        try:
            return target.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return None

    return fetch


def url_fetcher(base_url: str, timeout: float = 20.0) -> Fetch:
    if urllib.parse.urlsplit(base_url).scheme not in {"http", "https"}:
        raise ValueError("the log URL must be http or https")
    base = base_url.rstrip("/") + "/"

    def fetch(path: str) -> bytes | None:
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            base + path, headers={"Accept-Encoding": "identity"}
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                data: bytes = response.read(MAX_FILE + 1)
        except urllib.error.HTTPError as exc:
            if exc.code == 404:
                return None
            raise
        if len(data) > MAX_FILE:
            raise VerificationFailed(f"{path} is too large")
        return data

    return fetch


def _tile_fetcher(fetch: Fetch) -> tiles.TileFetcher:
    def fetch_tile(level: int, index: int, width: int) -> bytes:
        data = fetch(tiles.tile_path(level, index, width))
        if data is None and width < tiles.TILE_WIDTH:
            full = fetch(tiles.tile_path(level, index))  # the partial may be superseded
            data = full[: width * merkle.HASH_SIZE] if full is not None else None
        if data is None:
            raise VerificationFailed(f"tile {level}/{index} is missing")
        return data

    return fetch_tile


def fetch_bundle(fetch: Fetch, index: int, width: int) -> list[bytes]:
    """The first ``width`` entries of entry bundle ``index`` (a superseded partial bundle is
    read from the full one)."""
    data = fetch(tiles.entries_path(index, width))
    if data is None and width < tiles.TILE_WIDTH:
        data = fetch(tiles.entries_path(index))
    if data is None:
        raise VerificationFailed(f"entry bundle {index} is missing")
    entries = tiles.decode_bundle(data)
    if len(entries) < width:
        raise VerificationFailed(f"entry bundle {index} is short")
    return entries[:width]


@dataclass
class Report:
    status: str  # valid | revoked | unknown | failed
    message: str
    document_sha256: str
    checkpoint_size: int = 0
    entry: LogEntry | None = None
    index: int | None = None
    revocation: LogEntry | None = None
    proof_bytes: int = 0
    full_scan: bool = False
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "status": self.status,
            "message": self.message,
            "document_sha256": self.document_sha256,
            "checkpoint_size": self.checkpoint_size,
            "index": self.index,
            "code": format_code(self.entry.code) if self.entry else None,
            "document_type": self.entry.document_type if self.entry else None,
            "authority": self.entry.authority if self.entry else None,
            "authority_name": self.entry.authority_name if self.entry else None,
            "logged_at": self.entry.logged_at.isoformat() if self.entry else None,
            "revocation_reason": self.revocation.reason if self.revocation else None,
            "proof_bytes": self.proof_bytes,
            "full_scan": self.full_scan,
            "notes": self.notes,
        }


def _check_consistency(
    remember: Path, checkpoint: note.Checkpoint, source: tiles.TileSource, report: Report
) -> None:
    if remember.exists():
        old = note.Checkpoint.parse(remember.read_text(encoding="utf-8"))
        if old.origin != checkpoint.origin:
            raise VerificationFailed("the remembered checkpoint is of another log")
        if old.size > checkpoint.size:
            raise VerificationFailed(
                f"the log shrank from {old.size} to {checkpoint.size} entries: it was rewritten"
            )
        proof = merkle.consistency_proof(old.size, checkpoint.size, source)
        try:
            merkle.verify_consistency(
                old.size, checkpoint.size, proof, old.root_hash, checkpoint.root_hash
            )
        except merkle.ProofError as exc:
            raise VerificationFailed(
                f"the log is not consistent with the checkpoint of size {old.size} seen "
                f"before: its history was rewritten ({exc})"
            ) from exc
        report.notes.append(f"consistent with the earlier checkpoint of size {old.size}")
    remember.write_text(checkpoint.text(), encoding="utf-8")


def verify(
    *,
    document_sha256: str,
    fetch: Fetch,
    verifier_keys: list[str],
    origin: str | None = None,
    index: int | None = None,
    remember: Path | None = None,
) -> Report:
    """Check a document hash against the published log; never raises for a bad log."""
    report = Report("failed", "", document_sha256)
    try:
        verifiers = [note.Verifier.from_key(k) for k in verifier_keys]
        if not verifiers:  # nothing could vouch for the checkpoint
            raise VerificationFailed("no verifier key was given")
        signed = fetch("checkpoint")
        if signed is None:
            raise VerificationFailed("the log has no checkpoint")
        checkpoint = note.open_checkpoint(signed, verifiers, origin=origin or verifiers[0].name)
        report.checkpoint_size = size = checkpoint.size
        source = tiles.TileSource(size, _tile_fetcher(fetch))
        if remember is not None:
            _check_consistency(remember, checkpoint, source, report)

        found: dict[str, tuple[int, LogEntry]] = {}
        if index is None:
            report.full_scan = True
            leaf_hashes: list[bytes] = []
            for bundle_index in range((size + tiles.TILE_WIDTH - 1) // tiles.TILE_WIDTH):
                width = tiles.tile_width(0, bundle_index, size)
                for entry in fetch_bundle(fetch, bundle_index, width):
                    if document_sha256.encode() in entry:
                        try:
                            parsed = LogEntry.decode(entry)
                        except EntryFormatError:
                            parsed = None
                        if parsed and parsed.document_sha256 == document_sha256:
                            found.setdefault(parsed.kind, (len(leaf_hashes), parsed))
                    leaf_hashes.append(merkle.leaf_hash(entry))
            if merkle.root_from_leaf_hashes(leaf_hashes) != checkpoint.root_hash:
                raise VerificationFailed("the published entries do not match the signed checkpoint")
        else:
            if not 0 <= index < size:
                raise VerificationFailed(f"index {index} is not in the log of {size} entries")
            raw = fetch_bundle(
                fetch, index // tiles.TILE_WIDTH, tiles.tile_width(0, index // 256, size)
            )
            entry_bytes = raw[index % tiles.TILE_WIDTH]
            try:
                parsed = LogEntry.decode(entry_bytes)
            except EntryFormatError as exc:
                raise VerificationFailed(f"entry {index} is not a GovChain entry") from exc
            if parsed.document_sha256 == document_sha256:
                found[parsed.kind] = (index, parsed)
            report.notes.append("single-entry check: a revocation cannot be ruled out")

        if "issue" not in found:
            report.status = "unknown"
            report.message = "This document is not in the log (or it was changed)."
            return report
        report.index, report.entry = found["issue"]
        entry_hash = merkle.leaf_hash(report.entry.encode())
        proof = merkle.inclusion_proof(report.index, size, source)
        merkle.verify_inclusion(entry_hash, report.index, size, proof, checkpoint.root_hash)
        report.proof_bytes = len(proof) * merkle.HASH_SIZE
        if "revoke" in found:
            revoke_index, report.revocation = found["revoke"]
            report.status = "revoked"
            report.message = f"REVOKED ({report.revocation.reason}) by log entry {revoke_index}."
        else:
            report.status = "valid"
            report.message = "Valid: the document is in the log and has not been revoked."
    except (VerificationFailed, merkle.ProofError, note.NoteError) as exc:
        report.status, report.message = "failed", f"Verification failed: {exc}"
    except (OSError, urllib.error.URLError, http.client.HTTPException, ValueError) as exc:
        # HTTPException: a server that does not speak HTTP (a bad status line, endless headers)
        report.status, report.message = "failed", f"Could not read the log: {exc}"
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="rathaus-verify",
        description="Verify a document issued by a Rathaus authority against its GovChain log.",
    )
    parser.add_argument("file", nargs="?", help="the document (PDF); or give --sha256")
    parser.add_argument("--sha256", help="the document's SHA-256 instead of the file")
    parser.add_argument("--log", required=True, help="directory or https:// URL of the log")
    parser.add_argument(
        "--key", action="append", required=True, help="the log's verifier key (repeatable)"
    )
    parser.add_argument("--origin", help="expected checkpoint origin (default: the key's name)")
    parser.add_argument("--index", type=int, help="check only this log entry (fast)")
    parser.add_argument("--remember", type=Path, help="file keeping the last checkpoint seen")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)

    if (args.file is None) == (args.sha256 is None):
        parser.error("give a FILE or --sha256")
    if args.file is not None:
        try:
            sha256 = hashlib.sha256(Path(args.file).read_bytes()).hexdigest()
        except OSError as exc:
            parser.error(f"cannot read {args.file}: {exc.strerror}")
    else:
        sha256 = args.sha256.strip().lower()
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            parser.error("--sha256 takes 64 hexadecimal digits")
    try:
        fetch = (
            url_fetcher(args.log)
            if args.log.startswith(("http://", "https://"))
            else directory_fetcher(Path(args.log))
        )
    except ValueError as exc:
        parser.error(str(exc))
    started = time.perf_counter()
    report = verify(
        document_sha256=sha256,
        fetch=fetch,
        verifier_keys=args.key,
        origin=args.origin,
        index=args.index,
        remember=args.remember,
    )
    elapsed = time.perf_counter() - started
    if args.json:
        print(json.dumps({**report.as_json(), "seconds": round(elapsed, 4)}, indent=2))
    else:
        print(report.message)
        print(f"  document SHA-256: {sha256}")
        if report.entry is not None:
            print(f"  log entry:        {report.index} of {report.checkpoint_size}")
            print(f"  code:             {format_code(report.entry.code)}")
            print(f"  document type:    {report.entry.document_type}")
            print(f"  issued by:        {report.entry.authority_name} ({report.entry.authority})")
            print(f"  logged at:        {report.entry.logged_at:%Y-%m-%d %H:%M:%S} UTC")
            print(f"  inclusion proof:  {report.proof_bytes} bytes")
        for line in report.notes:
            print(f"  note: {line}")
    return 0 if report.status == "valid" else 1


if __name__ == "__main__":
    sys.exit(main())
