"""Publishing the log as static files: whoever reads them at any moment — a monitor, the offline
verifier, a CDN filling its cache — finds a checkpoint and every file it needs, even while a new
checkpoint is being published, after a failed publication and while two sequencers race."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import InMemoryStorage, storages
from django.db import OperationalError, connection

from rathaus.core.models import Authority
from rathaus.ledger import note, services, tiles
from rathaus.ledger.keys import verifier_keys
from rathaus.ledger.models import LogState
from rathaus.ledger.publication import storage_name
from rathaus.ledger.selectors import Status, verify_code
from rathaus.ledger.sequencer import sequence
from rathaus.ledger.verify import Fetch, directory_fetcher, verify


def pdf(n: int) -> bytes:
    return b"%PDF-1.7\n% Bescheid " + str(n).encode() + b"\n%%EOF\n"


def _append(authority: Authority, numbers: range) -> None:
    for i in numbers:
        services.append(document=pdf(i), document_type="notice", authority=authority.pk)


def _offline(published: Path | Fetch, n: int) -> str:
    """What the offline verifier says now about document ``n`` (full scan of the bundles)."""
    report = verify(
        document_sha256=hashlib.sha256(pdf(n)).hexdigest(),
        fetch=directory_fetcher(published) if isinstance(published, Path) else published,
        verifier_keys=verifier_keys(),
    )
    return report.status if report.status == "valid" else f"{report.status}: {report.message}"


def _published_size(published: Path) -> int:
    return int((published / "checkpoint").read_text().split("\n")[1])


def _watch(monkeypatch: pytest.MonkeyPatch, before: Callable[[str, str], None]) -> None:
    """Call ``before(operation, name)`` ahead of every write and delete of the ledger storage."""
    storage = storages["ledger"]
    for operation in ("save", "delete"):
        real = getattr(storage, operation)

        def watched(name: str, *args: Any, _real: Any = real, _op: str = operation) -> Any:
            before(_op, name)
            return _real(name, *args)

        monkeypatch.setattr(storage, operation, watched)


def test_a_reader_between_any_two_publication_steps_finds_a_verifiable_log(
    authority: Authority, published: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _append(authority, range(300))
    sequence()
    seen: list[str] = []
    _watch(monkeypatch, lambda op, name: seen.append(_offline(published, 5)))

    _append(authority, range(300, 600))
    sequence()

    assert seen  # the publication did write files
    assert set(seen) == {"valid"}, seen
    assert _offline(published, 550) == "valid"


def _exact_files_missing(published: Path) -> list[str]:
    """The files the published checkpoint names that are not there, for a client that fetches
    exactly those paths and does not fall back to a full tile in place of a partial one."""
    if not (published / "checkpoint").is_file():
        return ["checkpoint"]
    size = _published_size(published)
    wanted = []
    level = 0
    while size // tiles.TILE_WIDTH**level > 0:
        for index in range(-(-(size // tiles.TILE_WIDTH**level) // tiles.TILE_WIDTH)):
            width = tiles.tile_width(level, index, size)
            wanted.append(tiles.tile_path(level, index, width))
            if level == 0:
                wanted.append(tiles.entries_path(index, width))
        level += 1
    return [path for path in wanted if not (published / path).is_file()]


def test_superseded_partial_tiles_go_only_after_the_new_checkpoint_is_published(
    authority: Authority, published: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _append(authority, range(300))
    sequence()
    missing: list[str] = []
    _watch(monkeypatch, lambda op, name: missing.extend(_exact_files_missing(published)))

    _append(authority, range(300, 600))
    sequence()

    assert missing == []
    assert not (published / "tile/0/001.p/44").exists()  # gone once no checkpoint needs it
    assert not (published / "tile/entries/001.p/44").exists()


class OverwritingStorage(InMemoryStorage):
    """An object store that replaces an object in one request, as S3Storage does by default
    (``file_overwrite``)."""

    def get_available_name(self, name: str, max_length: int | None = None) -> str:
        return name


def test_an_object_store_that_overwrites_always_serves_a_checkpoint(
    authority: Authority, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "ledger": {"BACKEND": f"{__name__}.OverwritingStorage"},
    }
    settings.LEDGER_STORAGE = "ledger"
    storage = storages["ledger"]

    def fetch(path: str) -> bytes | None:
        name = storage_name(path)
        if not storage.exists(name):
            return None
        with storage.open(name) as file:
            data: bytes = file.read()
            return data

    _append(authority, range(300))
    sequence()
    seen: list[str] = []
    _watch(monkeypatch, lambda op, name: seen.append(_offline(fetch, 5)))

    _append(authority, range(300, 600))
    sequence()

    assert seen and set(seen) == {"valid"}, seen
    assert _offline(fetch, 550) == "valid"


def test_a_failed_publication_leaves_the_previous_checkpoint_in_place(
    authority: Authority, published: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _append(authority, range(300))
    sequence()
    storage = storages["ledger"]
    real_save = storage.save

    def object_store_fails_on_the_checkpoint(name: str, content: Any, *args: Any) -> Any:
        if content.read().startswith(b"rathaus.localhost/govchain\n600\n"):
            raise OSError("object store unreachable")
        content.seek(0)
        return real_save(name, content, *args)

    monkeypatch.setattr(storage, "save", object_store_fails_on_the_checkpoint)
    _append(authority, range(300, 600))
    with pytest.raises(OSError, match="unreachable"):
        sequence()

    assert _offline(published, 5) == "valid"  # the checkpoint of 300 is still served
    assert _published_size(published) == 300

    monkeypatch.setattr(storage, "save", real_save)
    sequence()  # the next run publishes what is missing
    assert _published_size(published) == 600
    assert _offline(published, 550) == "valid"


def test_publishing_again_after_a_crash_never_takes_a_published_file_away(
    authority: Authority, published: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The files were written but the process died before the database recorded it: the next
    run writes them again, while readers already use the new checkpoint."""
    _append(authority, range(300))
    sequence()
    real_save = LogState.save

    def dies_before_recording(self: LogState, *args: Any, **kwargs: Any) -> None:
        if "published_size" in (kwargs.get("update_fields") or ()):
            raise OperationalError("server closed the connection unexpectedly")
        real_save(self, *args, **kwargs)

    monkeypatch.setattr(LogState, "save", dies_before_recording)
    _append(authority, range(300, 600))
    with pytest.raises(OperationalError):
        sequence()
    monkeypatch.setattr(LogState, "save", real_save)
    assert _published_size(published) == 600  # the files are ahead of the database
    assert LogState.objects.get(pk=1).published_size == 300

    seen: list[str] = []
    _watch(
        monkeypatch,
        lambda op, name: seen.extend(_offline(published, n) for n in (5, 300, 590)),
    )
    sequence()

    assert seen and set(seen) == {"valid"}, seen
    assert LogState.objects.get(pk=1).published_size == 600


@pytest.mark.skipif(
    "connection.vendor != 'postgresql'",
    reason="the in-memory, shared-cache SQLite of the test run fails table locks at once",
)
@pytest.mark.django_db(transaction=True)
def test_a_sequencer_that_publishes_late_does_not_publish_an_older_checkpoint(
    authority: Authority, published: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Worker A signs size 300; before A publishes, worker B signs and publishes 600. A then
    must not put the older checkpoint back."""
    from rathaus.ledger import sequencer

    _append(authority, range(300))
    real_publish = sequencer.publish
    errors: list[BaseException] = []

    def worker_b() -> None:
        try:
            _append(authority, range(300, 600))
            sequence()
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    def late_publish() -> int:
        if not errors and LogState.objects.get(pk=1).size == 300:
            other = threading.Thread(target=worker_b)
            other.start()
            other.join()
        return real_publish()

    monkeypatch.setattr(sequencer, "publish", late_publish)
    checkpoint = sequence()

    assert not errors, errors
    assert checkpoint is not None and checkpoint.size == 300
    assert _published_size(published) == 600
    assert LogState.objects.get(pk=1).published_size == 600
    assert _offline(published, 550) == "valid"


@pytest.mark.skipif(
    "connection.vendor != 'postgresql'",
    reason="needs a second connection that reads while the sequencer's transaction is open",
)
@pytest.mark.django_db(transaction=True)
def test_the_verification_page_sees_the_old_or_the_new_tree_while_a_batch_is_sequenced(
    authority: Authority, monkeypatch: pytest.MonkeyPatch
) -> None:
    _append(authority, range(300))
    sequence()
    earlier = services.append(document=pdf(5), document_type="notice", authority=authority)
    _append(authority, range(300, 600))
    batch = services.append(document=pdf(599), document_type="notice", authority=authority)
    real_sign = note.sign_checkpoint
    seen: list[tuple[Status, Status]] = []

    def reader() -> None:
        try:
            old, new = verify_code(earlier.code), verify_code(batch.code)
            assert old is not None and new is not None
            seen.append((old.status, new.status))
        finally:
            connection.close()

    def sign_while_someone_reads(*args: Any, **kwargs: Any) -> str:
        # the tiles are stored and the indexes given, the checkpoint not yet: another
        # connection still sees the previous tree
        other = threading.Thread(target=reader)
        other.start()
        other.join()
        return real_sign(*args, **kwargs)

    monkeypatch.setattr(note, "sign_checkpoint", sign_while_someone_reads)
    sequence()

    assert seen == [(Status.VALID, Status.PENDING)]
    after = verify_code(batch.code)
    assert after is not None and after.status == Status.VALID
