"""Writing tiles, entry bundles and the checkpoint as static files through Django's storage.

Whoever reads the files at any moment finds a whole checkpoint and every file it names: a file
is replaced in one step, never deleted first (on a local disk, and on an object store that
overwrites, as S3Storage does by default); the tiles and entry bundles are written before the
checkpoint that names them, and superseded partial tiles go only after it.

Nothing is signed or published that contradicts the checkpoint already published
(:func:`check_extends_published`): a database restored from a backup would otherwise fork the
log under the same key.
"""

from __future__ import annotations

import posixpath
import re
import secrets
import urllib.parse
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.db import transaction

from rathaus.ledger import merkle, note, tiles
from rathaus.ledger.models import Checkpoint, Entry, LogState, Tile
from rathaus.ledger.selectors import DatabaseTiles

#: Cache lifetimes of the published files: the checkpoint changes every second; a tile's or
#: bundle's contents never change under its name (c2sp.org/tlog-tiles), a partial one is only
#: deleted once a bigger checkpoint no longer needs it.
CHECKPOINT_CACHE_CONTROL = "public, max-age=5"
FULL_TILE_CACHE_CONTROL = "public, max-age=31536000, immutable"
PARTIAL_TILE_CACHE_CONTROL = "public, max-age=86400"
_PARTIAL = re.compile(r"\.p/[0-9]+$")


class PublishedLogConflict(RuntimeError):
    """Signing or publishing now would contradict the checkpoint the log has published.

    The message says what happened and what to do; nothing was signed or published."""


def ledger_storage() -> Storage:
    return storages[getattr(settings, "LEDGER_STORAGE", "default")]


def storage_name(path: str) -> str:
    prefix = getattr(settings, "LEDGER_PUBLISH_PREFIX", "govchain").strip("/")
    return f"{prefix}/{path}" if prefix else path


def cache_control(name: str) -> str | None:
    """The ``Cache-Control`` of a published file (a path or storage name ending in it)."""
    if posixpath.basename(name) == "checkpoint":
        return CHECKPOINT_CACHE_CONTROL
    if "tile/" not in name:
        return None
    return PARTIAL_TILE_CACHE_CONTROL if _PARTIAL.search(name) else FULL_TILE_CACHE_CONTROL


def content_type(name: str) -> str:
    """The checkpoint is a text note; tiles and entry bundles are binary."""
    if posixpath.basename(name) == "checkpoint":
        return "text/plain; charset=utf-8"
    return "application/octet-stream"


def _write(storage: Storage, path: str, data: bytes) -> None:
    """Put ``data`` at ``path`` so that a reader finds the old file or the new one, whole, and
    never none: a temporary file renamed over the old one in a local directory; in an object
    store one request that replaces the object (S3Storage's default ``file_overwrite``)."""
    name = storage_name(path)
    if not isinstance(storage, FileSystemStorage):
        _put(storage, name, data)
        return
    directory, base = posixpath.split(name)
    temporary = storage.save(
        posixpath.join(directory, f".{base}.{secrets.token_hex(8)}.tmp"), ContentFile(data)
    )
    try:
        Path(storage.path(temporary)).replace(storage.path(name))
    except BaseException:
        storage.delete(temporary)
        raise


def _put(storage: Storage, name: str, data: bytes) -> None:
    if storage.get_available_name(name) != name:
        # the file exists and this store does not overwrite (the test suite's in-memory
        # storage): unchanged it stays, else it is replaced in two steps
        with storage.open(name) as existing:
            if existing.read() == data:
                return
        storage.delete(name)
    saved = storage.save(name, ContentFile(data))
    if saved != name:
        raise RuntimeError(f"storage renamed {name} to {saved}; the ledger needs exact names")


def _drop_partials(storage: Storage, path: str) -> None:
    """Delete the superseded partial versions of a tile that is now full."""
    directory = storage_name(path + ".p")
    try:
        _, files = storage.listdir(directory)
    except (FileNotFoundError, NotImplementedError):
        return
    for width in files:
        storage.delete(f"{directory}/{width}")


def read_published(storage: Storage | None = None) -> tuple[note.Checkpoint, str] | None:
    """The checkpoint the storage serves now, parsed, with its signed text; None if there is
    none. Its signatures are not checked: it is compared with what the database would sign.
    Raises :class:`PublishedLogConflict` when the file is not a checkpoint at all."""
    name = storage_name("checkpoint")
    try:
        with (storage or ledger_storage()).open(name, "rb") as file:
            data = file.read()
    except FileNotFoundError:
        return None
    try:
        text, _ = note.split(data)
        return note.Checkpoint.parse(text), data.decode("utf-8")
    except (note.NoteError, UnicodeDecodeError) as exc:
        raise PublishedLogConflict(
            f"The published GovChain checkpoint ({name}) cannot be read ({exc}), so the "
            "sequencer cannot tell whether the database continues the published log; nothing "
            "was signed or published. Find out who changed the file: put back the last "
            "checkpoint the log published (the bucket's object versions or the database's "
            "newest ledger_checkpoint row of that size), never one of another log. "
            "See docs/govchain.md, 'Backups and restore'."
        ) from exc


def check_extends_published(*, size: int, root_hash: bytes) -> None:
    """Raise :class:`PublishedLogConflict` unless the database's tree of ``size`` leaves (root
    ``root_hash``) holds the published checkpoint's tree as its prefix.

    Whoever verified a document against the published checkpoint, or remembers it
    (``rathaus-verify --remember``), must never see the log shrink or change its past. The
    database can be behind it after a restore from a backup; signing then would fork the log.
    """
    found = read_published()
    if found is None:
        return
    published, _ = found
    origin = settings.LEDGER_ORIGIN
    if published.origin != origin:
        raise PublishedLogConflict(
            f"The storage holds the checkpoint of the log {published.origin!r} "
            f"(tree size {published.size}), not of LEDGER_ORIGIN {origin!r}; nothing was "
            "signed or published. Point LEDGER_STORAGE / LEDGER_PUBLISH_PREFIX at this log's "
            "files, or set LEDGER_ORIGIN back. See docs/govchain.md, 'Backups and restore'."
        )
    if published.size > size:
        raise PublishedLogConflict(
            f"The database is behind the published GovChain log: it holds {size} entries, "
            f"the published checkpoint {published.size}. The database was probably restored "
            "from a backup taken before the newest entries were published. Nothing was signed "
            "or published (signing now would fork the log); documents are still issued and "
            "their entries wait, pending, for sequencing. Run `manage.py ledger_reimport` to "
            f"take the {published.size - size} missing entries back from the published files, "
            "then the sequencer carries on by itself. See docs/govchain.md, 'Backups and "
            "restore'."
        )
    if published.size == size:
        if published.root_hash != root_hash:
            raise PublishedLogConflict(
                f"The database's log of {size} entries is not the published log of {size} "
                "entries (another root hash): the database holds another history than the one "
                "the log published (restored from another backup, or pointed at another "
                "log's files). Nothing was signed or published; documents are still issued "
                "and wait, pending. Do not delete the published files. See docs/govchain.md, "
                "'Backups and restore'."
            )
        return
    if Checkpoint.objects.filter(size=published.size, root_hash=published.root_hash).exists():
        return  # a checkpoint this database signed: its tree only grew since
    try:
        proof = merkle.consistency_proof(published.size, size, DatabaseTiles(size))
        merkle.verify_consistency(published.size, size, proof, published.root_hash, root_hash)
    except merkle.ProofError as exc:
        raise PublishedLogConflict(
            f"The database's log of {size} entries does not continue the published log of "
            f"{published.size} entries ({exc}): the database holds another history than the "
            "one the log published (restored from a backup and then sequenced further, or "
            "pointed at another log's files). Nothing was signed or published; documents are "
            "still issued and wait, pending. Do not delete the published files. See "
            "docs/govchain.md, 'Backups and restore'."
        ) from exc


def publish() -> int:
    """Publish everything sequenced but not yet published; returns the published tree size.

    Safe to repeat and to run after a crash: the database is the source of truth, as long as
    it continues the published log (else :class:`PublishedLogConflict`, nothing written).
    """
    storage = ledger_storage()
    with transaction.atomic():
        state = LogState.objects.select_for_update().get(pk=1)
        checkpoint = Checkpoint.objects.filter(size=state.size).order_by("-id").first()
        if checkpoint is None or checkpoint.pk == state.published_checkpoint:
            return state.published_size
        check_extends_published(size=checkpoint.size, root_hash=bytes(checkpoint.root_hash))
        old, new = state.published_size, checkpoint.size
        superseded: list[str] = []
        if new > old:
            level = 0
            while new // tiles.TILE_WIDTH**level > 0:
                first = (old // tiles.TILE_WIDTH**level) // tiles.TILE_WIDTH
                last = (new // tiles.TILE_WIDTH**level - 1) // tiles.TILE_WIDTH
                rows = {
                    t.index: bytes(t.hashes)
                    for t in Tile.objects.filter(level=level, index__gte=first, index__lte=last)
                }
                for index in range(first, last + 1):
                    width = tiles.tile_width(level, index, new)
                    if width == 0 or width == tiles.tile_width(level, index, old):
                        continue
                    _write(storage, tiles.tile_path(level, index, width), rows[index][: width * 32])
                    if level == 0:
                        leaves = (
                            Entry.objects.filter(
                                index__gte=index * tiles.TILE_WIDTH,
                                index__lt=index * tiles.TILE_WIDTH + width,
                            )
                            .order_by("index")
                            .values_list("leaf", flat=True)
                        )
                        bundle = tiles.encode_bundle(bytes(leaf) for leaf in leaves)
                        _write(storage, tiles.entries_path(index, width), bundle)
                    if width == tiles.TILE_WIDTH:
                        superseded.append(tiles.tile_path(level, index))
                        if level == 0:
                            superseded.append(tiles.entries_path(index))
                level += 1
        _write(storage, "checkpoint", checkpoint.note.encode("utf-8"))
        # only now: a reader of the previous checkpoint may still want its partial tiles
        for path in superseded:
            _drop_partials(storage, path)
        state.published_size = new
        state.published_checkpoint = checkpoint.pk
        state.save(update_fields=["published_size", "published_checkpoint"])
        return new


def log_url() -> str:
    """The public base URL of the published log, for ``rathaus-verify --log`` and the /pruefen/
    page: ``LEDGER_PUBLIC_URL`` when set (a CDN or the bucket's public address), else the
    storage's address of the files, without any query string (no signature, no expiry)."""
    public = getattr(settings, "LEDGER_PUBLIC_URL", "")
    if public:
        return public.rstrip("/") + "/"
    url = ledger_storage().url(storage_name("checkpoint"))
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(query="", fragment="")).removesuffix("checkpoint")
