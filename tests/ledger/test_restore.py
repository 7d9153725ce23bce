"""A database restored from a backup never forks the log: the sequencer signs nothing that
contradicts the published checkpoint, and ``manage.py ledger_reimport`` takes the published
entries back so that the log carries on consistently."""

from __future__ import annotations

import hashlib
import os
import signal
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.files.storage import storages
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import override_settings

from rathaus.core.models import Authority
from rathaus.ledger import merkle, note, services
from rathaus.ledger.keys import verifier_keys
from rathaus.ledger.models import Checkpoint, Entry, LogState, Tile
from rathaus.ledger.publication import PublishedLogConflict, publish
from rathaus.ledger.selectors import Status, consistency_proof, verify_document
from rathaus.ledger.sequencer import sequence
from rathaus.ledger.verify import main as verify_main


def pdf(n: int) -> bytes:
    return b"%PDF-1.7\n% Bescheid " + str(n).encode() + b"\n%%EOF\n"


def _issue(authority: Authority, n: int) -> Entry:
    return services.append(document=pdf(n), document_type="notice", authority=authority.pk)


Backup = dict[str, list[dict[str, Any]]]


def _backup() -> Backup:
    """What pg_dump would keep of the log: every row of its tables, as they are now."""
    return {
        "entries": list(Entry.objects.values()),
        "tiles": list(Tile.objects.values()),
        "checkpoints": list(Checkpoint.objects.values()),
        "state": list(LogState.objects.values()),
    }


def _restore(backup: Backup) -> None:
    """Put the log's tables back as they were in ``backup``, as a restore of the dump does
    (the append-only trigger is not in the way of a restore: it replaces the whole table)."""
    postgresql = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgresql:  # ALTER TABLE needs the test transaction's deferred checks done
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE ledger_entry DISABLE TRIGGER ledger_entry_frozen")
        cursor.execute("DELETE FROM ledger_entry")
        if postgresql:
            cursor.execute("ALTER TABLE ledger_entry ENABLE TRIGGER ledger_entry_frozen")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    Tile.objects.all().delete()
    Checkpoint.objects.all().delete()
    LogState.objects.all().delete()
    Entry.objects.bulk_create([Entry(**row) for row in backup["entries"]])
    Tile.objects.bulk_create([Tile(**row) for row in backup["tiles"]])
    Checkpoint.objects.bulk_create([Checkpoint(**row) for row in backup["checkpoints"]])
    LogState.objects.bulk_create([LogState(**row) for row in backup["state"]])


def _published_checkpoint(published: Path) -> note.Checkpoint:
    verifiers = [note.Verifier.from_key(key) for key in verifier_keys()]
    return note.open_checkpoint((published / "checkpoint").read_text(), verifiers)


def _cli(
    capsys: pytest.CaptureFixture[str], published: Path, n: int, *args: str
) -> tuple[int, str]:
    """``rathaus-verify`` on document ``n`` against the published files."""
    sha = hashlib.sha256(pdf(n)).hexdigest()
    key = verifier_keys()[0]
    status = verify_main(["--sha256", sha, "--log", str(published), "--key", key, *args])
    return status, capsys.readouterr().out


def _reimport(*args: str) -> str:
    out = StringIO()
    call_command("ledger_reimport", *args, stdout=out)
    return out.getvalue()


def test_a_database_restored_behind_the_published_log_signs_nothing(
    authority: Authority, published: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The reviewer's case: backup at size 1, document B published at size 2, restore, document
    C: before, the sequencer signed another checkpoint of size 2 with the same key."""
    _issue(authority, 1)
    sequence()
    backup = _backup()
    _issue(authority, 2)
    sequence()
    signed = (published / "checkpoint").read_text()
    seen = tmp_path / "seen"
    assert _cli(capsys, published, 2, "--remember", str(seen))[0] == 0

    _restore(backup)
    c = _issue(authority, 3)  # issuing goes on: the entry waits for sequencing
    with pytest.raises(PublishedLogConflict, match="database is behind the published") as exc:
        sequence()

    message = str(exc.value)
    assert "holds 1 entries, the published checkpoint 2" in message
    assert "restored from a backup" in message and "manage.py ledger_reimport" in message
    assert (published / "checkpoint").read_text() == signed  # nothing published …
    assert not Checkpoint.objects.filter(size=2).exists()  # … nor signed
    assert Entry.objects.get(pk=c.pk).index is None
    assert LogState.objects.get().size == 1
    assert verify_document(document=pdf(3)).status == Status.PENDING
    assert _issue(authority, 4).index is None
    assert _cli(capsys, published, 2, "--remember", str(seen))[0] == 0  # B still verifies
    with pytest.raises(CommandError, match="database is behind the published"):
        call_command("run_sequencer", "--once", stdout=StringIO())


def test_after_the_reimport_the_log_continues_the_published_one(
    authority: Authority, published: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _issue(authority, 1)
    sequence()
    backup = _backup()
    _issue(authority, 2)
    sequence()
    before = _published_checkpoint(published)
    seen = tmp_path / "seen"
    assert _cli(capsys, published, 2, "--remember", str(seen))[0] == 0
    _restore(backup)
    _issue(authority, 3)

    assert "Would re-import entries 1 to 1" in _reimport("--dry-run")
    assert LogState.objects.get().size == 1
    out = _reimport()
    assert "1 rebuilt from the entry bundles, 0 pending" in out
    # the database knows document B again, as logged, and proves it against the same checkpoint
    b = verify_document(document=pdf(2))
    assert b.status == Status.VALID and b.entry is not None and b.entry.index == 1
    assert b.signed_checkpoint == before

    after = sequence()
    assert after is not None and after.size == 3
    proof = consistency_proof(old_size=before.size, new_size=after.size)
    merkle.verify_consistency(
        before.size, after.size, proof, before.root_hash, bytes(after.root_hash)
    )
    status, out = _cli(capsys, published, 3, "--remember", str(seen))
    assert status == 0, out
    assert "consistent with the earlier checkpoint of size 2" in out
    assert _cli(capsys, published, 2)[0] == 0
    assert verify_document(document=pdf(3)).status == Status.VALID
    assert "Nothing to re-import" in _reimport()


def test_reimport_across_a_tile_boundary_gives_pending_entries_their_published_index(
    authority: Authority, published: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The backup was taken with entries still waiting for the sequencer and inside a partial
    tile whose bundle has been replaced by the full one since."""
    for n in range(200):
        _issue(authority, n)
    sequence()
    for n in range(200, 210):
        _issue(authority, n)
    backup = _backup()  # 200 sequenced, 10 pending
    for n in range(210, 300):
        _issue(authority, n)
    sequence()
    assert not (published / "tile/entries/000.p/200").exists()
    before = _published_checkpoint(published)
    seen = tmp_path / "seen"
    assert _cli(capsys, published, 250, "--remember", str(seen))[0] == 0
    _restore(backup)
    _issue(authority, 300)

    assert "90 rebuilt from the entry bundles, 10 pending" in _reimport()
    indexes = dict(Entry.objects.values_list("document_sha256", "index"))
    assert indexes[hashlib.sha256(pdf(205)).hexdigest()] == 205
    assert indexes[hashlib.sha256(pdf(300)).hexdigest()] is None

    after = sequence()
    assert after is not None and after.size == 301
    assert indexes.keys() == set(Entry.objects.values_list("document_sha256", flat=True))
    proof = consistency_proof(old_size=before.size, new_size=after.size)
    merkle.verify_consistency(
        before.size, after.size, proof, before.root_hash, bytes(after.root_hash)
    )
    assert _cli(capsys, published, 300, "--remember", str(seen))[0] == 0
    for n in (0, 205, 299):
        assert verify_document(document=pdf(n)).status == Status.VALID


def test_a_backup_with_a_signed_but_unpublished_checkpoint_does_not_put_it_back(
    authority: Authority, published: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The backup holds a checkpoint of size 2 not yet published; the log published size 3
    since. Publishing the restored database's checkpoint would shrink the log."""
    _issue(authority, 1)
    sequence()
    _issue(authority, 2)
    storage = storages["ledger"]
    with monkeypatch.context() as patch:
        patch.setattr(storage, "save", lambda *a, **k: (_ for _ in ()).throw(OSError("away")))
        with pytest.raises(OSError):
            sequence()
    backup = _backup()
    assert LogState.objects.get().published_size == 1
    publish()
    _issue(authority, 3)
    sequence()
    signed = (published / "checkpoint").read_text()
    _restore(backup)

    with pytest.raises(PublishedLogConflict, match="holds 2 entries, the published checkpoint 3"):
        sequence()  # nothing to sequence: it publishes the checkpoint of size 2
    assert (published / "checkpoint").read_text() == signed

    assert "1 rebuilt" in _reimport()
    assert sequence() is None
    assert (published / "checkpoint").read_text() == signed


def _sequence_elsewhere(settings: Any, tmp_path: Path, numbers: list[int], authority: Any) -> None:
    """Sequence and publish documents into another directory (the wrong bucket)."""
    real = settings.STORAGES
    settings.STORAGES = {
        **real,
        "ledger": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "elsewhere")},
        },
    }
    for n in numbers:
        _issue(authority, n)
    sequence()
    settings.STORAGES = real


@pytest.mark.parametrize(
    ("numbers", "message"),
    [
        ([3], "The database's log of 2 entries is not the published log of 2 entries"),
        ([3, 4], "The database's log of 3 entries does not continue the published log of 2"),
    ],
)
def test_a_database_with_another_history_than_the_published_log_signs_nothing(
    authority: Authority,
    published: Path,
    settings: Any,
    tmp_path: Path,
    numbers: list[int],
    message: str,
) -> None:
    _issue(authority, 1)
    sequence()
    backup = _backup()
    _issue(authority, 2)
    sequence()
    signed = (published / "checkpoint").read_text()
    _restore(backup)
    _sequence_elsewhere(settings, tmp_path, numbers, authority)
    _issue(authority, 9)

    with pytest.raises(PublishedLogConflict, match=message):
        sequence()
    with pytest.raises(CommandError, match=message):
        _reimport()
    assert (published / "checkpoint").read_text() == signed


def test_reimport_stops_at_a_document_revoked_again_after_the_restore(
    authority: Authority, published: Path
) -> None:
    _issue(authority, 1)
    sequence()
    backup = _backup()
    services.revoke(document=pdf(1), reason="withdrawn")
    sequence()
    _restore(backup)
    again = services.revoke(document=pdf(1), reason="withdrawn")

    with pytest.raises(CommandError, match=f"against pending entry {again.code[:5]}") as exc:
        _reimport()
    assert "revoke" in str(exc.value) and "Nothing was changed" in str(exc.value)
    assert LogState.objects.get().size == 1
    assert Entry.objects.filter(index__isnull=False).count() == 1


def test_reimport_names_an_authority_the_restored_database_lacks(
    authority: Authority, other_authority: Authority, published: Path
) -> None:
    _issue(authority, 1)
    sequence()
    backup = _backup()
    services.append(document=pdf(2), document_type="permit", authority=other_authority)
    sequence()
    _restore(backup)
    municipality, name = other_authority.municipality, other_authority.name
    other_authority.delete()  # created after the backup: the restore lost it

    with pytest.raises(CommandError, match="05124000/strassenverkehrsamt"):
        _reimport()
    Authority.objects.create(municipality=municipality, kind="strassenverkehrsamt", name=name)
    assert "1 rebuilt" in _reimport()
    assert verify_document(document=pdf(2)).status == Status.VALID


def test_reimport_trusts_only_a_checkpoint_signed_by_the_log_keys(
    authority: Authority, published: Path
) -> None:
    _issue(authority, 1)
    sequence()
    backup = _backup()
    _issue(authority, 2)
    sequence()
    old_key = verifier_keys()[0]
    _restore(backup)
    new = note.Signer.generate("rathaus.localhost/govchain")

    with override_settings(LEDGER_SIGNING_KEY=new.signer_key()):
        with pytest.raises(CommandError, match="does not verify with the log's keys"):
            _reimport()
        assert "1 rebuilt" in _reimport("--key", old_key)


def test_the_running_sequencer_says_what_happened_and_waits(
    authority: Authority,
    published: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from rathaus.ledger.management.commands import run_sequencer

    _issue(authority, 1)
    sequence()
    backup = _backup()
    _issue(authority, 2)
    sequence()
    _restore(backup)
    _issue(authority, 3)
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        os.kill(os.getpid(), signal.SIGTERM)  # stop after the first batch

    monkeypatch.setattr(run_sequencer.time, "sleep", sleep)
    monkeypatch.setattr(run_sequencer, "close_old_connections", lambda: None)
    previous = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        call_command("run_sequencer")
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])

    [record] = [r for r in caplog.records if r.name == "rathaus.ledger"]
    assert record.levelname == "ERROR" and record.exc_info is None
    assert "database is behind the published GovChain log" in record.getMessage()
    assert pauses and pauses[0] > 25  # the longest pause: a restore is not over in a second
    assert LogState.objects.get().size == 1


def test_a_published_checkpoint_that_is_not_one_stops_the_sequencer(
    authority: Authority, published: Path
) -> None:
    _issue(authority, 1)
    sequence()
    (published / "checkpoint").write_text("<html>Not Found</html>")
    _issue(authority, 2)

    with pytest.raises(PublishedLogConflict, match="cannot be read"):
        sequence()
    with pytest.raises(CommandError, match="cannot be read"):
        _reimport()
    assert (published / "checkpoint").read_text() == "<html>Not Found</html>"
    assert LogState.objects.get().size == 1
