"""Taking the log's entries back from its published files after a restore from a backup.

The published files hold every entry whole: the entry bundles carry each entry's exact bytes
(kind, code, document hash, type, authority, time, reason), its index is its place in the
bundles, and the signed checkpoint vouches for all of them. So when the database is behind the
published log (``PublishedLogConflict``), the missing rows are rebuilt from the bundles, checked
against the checkpoint's root hash, and the log carries on from the published tree: nothing is
signed anew, and no verifier ever sees the log change its past.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core.files.storage import Storage
from django.db import transaction

from rathaus.core.models import Authority
from rathaus.ledger import note, tiles
from rathaus.ledger.keys import log_signers
from rathaus.ledger.leaves import EntryFormatError, LogEntry, format_code
from rathaus.ledger.merkle import leaf_hash
from rathaus.ledger.models import Checkpoint, Entry, LogState
from rathaus.ledger.publication import (
    PublishedLogConflict,
    check_extends_published,
    ledger_storage,
    read_published,
    storage_name,
)
from rathaus.ledger.sequencer import load_edge, store_tiles
from rathaus.ledger.verify import Fetch, VerificationFailed, fetch_bundle


class ReimportError(RuntimeError):
    """The published entries cannot be taken back as they are; the message says why."""


@dataclass(frozen=True)
class Reimport:
    """What :func:`reimport_published` did (or, with ``dry_run``, would do)."""

    database_size: int  # the database's tree size before
    published_size: int  # the published checkpoint's tree size, the database's after
    inserted: int  # entries rebuilt from the bundles
    matched: int  # entries the database held as pending (same bytes): given their index


def _fetcher(storage: Storage) -> Fetch:
    def fetch(path: str) -> bytes | None:
        try:
            with storage.open(storage_name(path), "rb") as file:
                data: bytes = file.read()
                return data
        except FileNotFoundError:
            return None

    return fetch


def _published_entries(storage: Storage, first: int, size: int) -> list[bytes]:
    """The published entries with the indexes ``first`` … ``size - 1``, from the bundles."""
    fetch = _fetcher(storage)
    entries: list[bytes] = []
    for bundle_index in range(first // tiles.TILE_WIDTH, -(-size // tiles.TILE_WIDTH)):
        width = tiles.tile_width(0, bundle_index, size)
        try:
            bundle = fetch_bundle(fetch, bundle_index, width)
        except VerificationFailed as exc:
            raise ReimportError(
                f"The published {exc}; the entries cannot be taken back from the files."
            ) from exc
        start = max(first - bundle_index * tiles.TILE_WIDTH, 0)
        entries.extend(bytes(entry) for entry in bundle[start:])
    return entries


def _authorities(logged: list[LogEntry]) -> dict[str, int]:
    """Authority ids by ``<AGS>/<kind>`` as the entries name them; every one must exist."""
    wanted = {entry.authority: entry.authority_name for entry in logged}
    found: dict[str, list[int]] = {}
    rows = Authority.objects.filter(
        municipality__ags__in={name.split("/")[0] for name in wanted}
    ).values_list("pk", "municipality__ags", "kind")
    for pk, ags, kind in rows:
        found.setdefault(f"{ags}/{kind}", []).append(pk)
    missing = sorted(f"{name} ({wanted[name]})" for name in wanted if len(found.get(name, [])) != 1)
    if missing:
        raise ReimportError(
            "The published entries name authorities the database does not hold (once): "
            f"{', '.join(missing)}. Create them (municipality AGS and authority kind as named) "
            "in the admin, then run the command again."
        )
    return {name: pks[0] for name, pks in found.items() if name in wanted}


def reimport_published(
    *, dry_run: bool = False, extra_verifier_keys: list[str] | None = None
) -> Reimport:
    """Rebuild the entries the published log holds and the database lacks; afterwards the
    database's tree is the published one and the sequencer continues it.

    The published checkpoint must be signed by one of the log's keys (or by one given in
    ``extra_verifier_keys``, e.g. a key rotated away since), and the bundles' entries, added to
    the database's own tree, must give exactly its root hash. Entries the database holds as
    pending with the same bytes get their published index; a pending entry that differs from
    a published one with its code or document (a document revoked again after the restore)
    stops the import (:class:`ReimportError`): see docs/govchain.md, "Backups and restore".
    """
    storage = ledger_storage()
    verifiers = [signer.verifier() for signer in log_signers()]
    verifiers += [note.Verifier.from_key(key) for key in extra_verifier_keys or []]
    with transaction.atomic():
        state, _ = LogState.objects.select_for_update().get_or_create(pk=1)
        try:
            found = read_published(storage)
        except PublishedLogConflict as exc:  # the published file is not a checkpoint
            raise ReimportError(str(exc)) from exc
        if found is None:
            raise ReimportError("Nothing is published yet; there is nothing to take back.")
        _, signed_note = found
        try:
            published = note.open_checkpoint(signed_note, verifiers, origin=settings.LEDGER_ORIGIN)
        except note.NoteError as exc:
            raise ReimportError(
                f"The published checkpoint does not verify with the log's keys ({exc}); its "
                "entries are not taken back. If it was signed by a key rotated away since, "
                "give that verifier key with --key."
            ) from exc
        edge = load_edge(state.size)
        if published.size <= state.size:
            try:
                check_extends_published(size=state.size, root_hash=edge.root())
            except PublishedLogConflict as exc:
                raise ReimportError(str(exc)) from exc
            return Reimport(state.size, published.size, inserted=0, matched=0)

        leaves = _published_entries(storage, state.size, published.size)
        changed = edge.append(leaf_hash(leaf) for leaf in leaves)
        if edge.size != published.size or edge.root() != published.root_hash:
            raise ReimportError(
                f"The database's first {state.size} entries and the published entries after "
                f"them do not give the published checkpoint's root hash (tree size "
                f"{published.size}): the database holds another history than the published "
                "log, or the published files are damaged. Nothing was changed; see "
                "docs/govchain.md, 'Backups and restore'."
            )
        try:
            logged = [LogEntry.decode(leaf) for leaf in leaves]
        except EntryFormatError as exc:  # pragma: no cover - the checkpoint vouches for them
            raise ReimportError(f"A published entry is not a GovChain entry: {exc}") from exc
        authorities = _authorities(logged)

        pending = list(
            Entry.objects.filter(index__isnull=True).values_list(
                "pk", "code", "document_sha256", "kind", "leaf"
            )
        )
        by_code = {code: (pk, bytes(leaf)) for pk, code, _, _, leaf in pending}
        by_document = {(sha, kind): code for _, code, sha, kind, _ in pending}
        matched: list[tuple[int, int]] = []  # (pk, index)
        fresh: list[Entry] = []
        conflicts: list[str] = []
        for offset, (leaf, entry) in enumerate(zip(leaves, logged, strict=True)):
            index = state.size + offset
            held = by_code.get(entry.code)
            if held is not None and held[1] == leaf:
                matched.append((held[0], index))
                continue
            other = format_code(entry.code) if held is not None else None
            if other is None and (entry.document_sha256, entry.kind) in by_document:
                other = format_code(by_document[(entry.document_sha256, entry.kind)])
            if other is not None:
                conflicts.append(
                    f"published entry {index} ({entry.kind} {format_code(entry.code)} of "
                    f"{entry.document_sha256}) against pending entry {other}"
                )
                continue
            fresh.append(
                Entry(
                    kind=entry.kind,
                    code=entry.code,
                    document_sha256=entry.document_sha256,
                    document_type=entry.document_type,
                    authority_id=authorities[entry.authority],
                    reason=entry.reason,
                    logged_at=entry.logged_at,
                    leaf=leaf,
                    index=index,
                )
            )
        if conflicts:
            raise ReimportError(
                "Entries issued or revoked after the restore stand against published ones "
                "for the same code or document: " + "; ".join(conflicts) + ". The published "
                "entries are the log's; the pending ones must go before the import (see "
                "docs/govchain.md, 'Backups and restore'). Nothing was changed."
            )
        result = Reimport(state.size, published.size, inserted=len(fresh), matched=len(matched))
        if dry_run:
            return result
        for pk, index in matched:
            Entry.objects.filter(pk=pk, index__isnull=True).update(index=index)
        Entry.objects.bulk_create(fresh)
        store_tiles(changed)
        checkpoint = Checkpoint.objects.create(
            size=published.size, root_hash=published.root_hash, note=signed_note
        )
        state.size = state.published_size = published.size
        state.published_checkpoint = checkpoint.pk
        state.save(update_fields=["size", "published_size", "published_checkpoint"])
    return result
