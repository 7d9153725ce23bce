"""Writing tiles, entry bundles and the checkpoint as static files through Django's storage.

Whoever reads the files at any moment finds a whole checkpoint and every file it names: a file
is replaced in one step, never deleted first (on a local disk, and on an object store that
overwrites, as S3Storage does by default); the tiles and entry bundles are written before the
checkpoint that names them, and superseded partial tiles go only after it.
"""

from __future__ import annotations

import posixpath
import secrets
from pathlib import Path

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.db import transaction

from rathaus.ledger import tiles
from rathaus.ledger.models import Checkpoint, Entry, LogState, Tile


def ledger_storage() -> Storage:
    return storages[settings.LEDGER_STORAGE]


def storage_name(path: str) -> str:
    prefix = settings.LEDGER_PUBLISH_PREFIX.strip("/")
    return f"{prefix}/{path}" if prefix else path


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


def publish() -> int:
    """Publish everything sequenced but not yet published; returns the published tree size.

    Safe to repeat and to run after a crash: the database is the source of truth.
    """
    storage = ledger_storage()
    with transaction.atomic():
        state = LogState.objects.select_for_update().get(pk=1)
        checkpoint = Checkpoint.objects.filter(size=state.size).order_by("-id").first()
        if checkpoint is None or checkpoint.pk == state.published_checkpoint:
            return state.published_size
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
    """The base URL of the published log, for ``rathaus-verify --log`` and the /pruefen/ page."""
    return ledger_storage().url(storage_name("checkpoint")).removesuffix("checkpoint")
