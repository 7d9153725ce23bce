"""Appending, sequencing, publishing and verifying documents in the GovChain log."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import math
import socket
import threading
from pathlib import Path

import pytest
from django.db import connection
from django.test import override_settings

from rathaus.core.models import AuditEvent, Authority
from rathaus.ledger import merkle, note, services, tiles
from rathaus.ledger.keys import log_signers, verifier_keys
from rathaus.ledger.leaves import LogEntry, format_code
from rathaus.ledger.models import Checkpoint, Entry, LogState
from rathaus.ledger.selectors import Status, consistency_proof, entry_by_code, verify_document
from rathaus.ledger.sequencer import sequence
from rathaus.ledger.verify import directory_fetcher, url_fetcher, verify


def pdf(n: int) -> bytes:
    return b"%PDF-1.7\n% Bescheid " + str(n).encode() + b"\n%%EOF\n"


def test_appends_get_gap_free_indexes_and_a_checkpoint_signed_by_the_log_key(
    authority: Authority,
) -> None:
    entries = [
        services.append(document=pdf(i), document_type="notice", authority=authority)
        for i in range(300)
    ]
    assert all(e.index is None for e in entries)
    checkpoint = sequence()
    assert checkpoint is not None and checkpoint.size == 300
    indexes = sorted(Entry.objects.values_list("index", flat=True))
    assert indexes == list(range(300))

    verifiers = [note.Verifier.from_key(k) for k in verifier_keys()]
    parsed = note.open_checkpoint(checkpoint.note, verifiers, origin="rathaus.localhost/govchain")
    leaves = [
        bytes(leaf) for leaf in Entry.objects.order_by("index").values_list("leaf", flat=True)
    ]
    assert parsed.size == 300
    assert parsed.root_hash == merkle.root(leaves)
    assert sequence() is None  # nothing new: no new checkpoint


def test_entries_hold_no_personal_data_only_hash_type_and_authority(authority: Authority) -> None:
    entry = services.append(document=pdf(1), document_type="permit", authority=authority)
    parsed = LogEntry.decode(bytes(entry.leaf))
    assert parsed.document_sha256 == hashlib.sha256(pdf(1)).hexdigest()
    assert parsed.authority == "05124000/buergeramt"
    assert parsed.authority_name == "Bürgeramt Wuppertal"
    assert parsed.document_type == "permit"


def test_verification_is_pending_then_valid_then_revoked(authority: Authority) -> None:
    for i in range(1000):
        services.append(document=pdf(i), document_type="notice", authority=authority)
    assert verify_document(document=pdf(7)).status == Status.PENDING
    sequence()
    result = verify_document(document=pdf(7))
    assert result.status == Status.VALID
    assert result.entry is not None and result.entry.index == 7
    assert 0 < result.proof_size <= 32 * math.ceil(math.log2(1000))

    services.revoke(document=pdf(7), reason="withdrawn", authority=authority)
    assert AuditEvent.objects.filter(
        action="ledger.revoke", object_id=str(result.entry.pk)
    ).exists()
    assert verify_document(document=pdf(7)).status == Status.REVOKED
    sequence()
    revoked = verify_document(document=pdf(7))
    assert revoked.status == Status.REVOKED
    assert revoked.revocation is not None and revoked.revocation.index == 1000


def test_a_changed_byte_in_the_pdf_is_not_found(authority: Authority) -> None:
    services.append(document=pdf(1), document_type="notice", authority=authority)
    sequence()
    changed = bytearray(pdf(1))
    changed[12] ^= 0x01
    assert verify_document(document=bytes(changed)).status == Status.UNKNOWN


def test_a_repeated_revocation_does_not_audit_a_reason_the_log_does_not_hold(
    authority: Authority,
) -> None:
    services.append(document=pdf(1), document_type="permit", authority=authority)
    first = services.revoke(document=pdf(1), reason="withdrawn", authority=authority)
    again = services.revoke(document=pdf(1), reason="withdrawn", authority=authority)
    assert again.pk == first.pk
    with pytest.raises(services.LedgerError, match="bereits widerrufen \\(Grund: „Widerruf“\\)"):
        services.revoke(document=pdf(1), reason="annulled", authority=authority)
    assert list(Entry.objects.filter(kind=Entry.Kind.REVOKE).values_list("reason", flat=True)) == [
        "withdrawn"
    ]
    events = AuditEvent.objects.filter(action="ledger.revoke")
    assert [event.after["reason"] for event in events] == ["withdrawn"]


def test_append_is_idempotent_and_guards_the_issuer(
    authority: Authority, other_authority: Authority
) -> None:
    first = services.append(document=pdf(1), document_type="notice", authority=authority)
    again = services.append(document=pdf(1), document_type="notice", authority=authority.pk)
    assert again.pk == first.pk
    with pytest.raises(services.LedgerError):
        services.append(document=pdf(1), document_type="notice", authority=other_authority)
    with pytest.raises(services.LedgerError):
        services.revoke(document=pdf(1), reason="withdrawn", authority=other_authority)
    with pytest.raises(services.LedgerError):
        services.revoke(document=pdf(2), reason="withdrawn")
    with pytest.raises(services.LedgerError):
        services.append(document_sha256="not a hash", document_type="notice", authority=authority)
    with pytest.raises(services.LedgerError):
        services.append(document=pdf(3), document_type="invoice", authority=authority)
    assert Entry.objects.count() == 1


def test_entry_is_found_by_the_code_as_people_type_it(authority: Authority) -> None:
    entry = services.append(document=pdf(1), document_type="notice", authority=authority)
    shown = format_code(entry.code)
    typed = shown.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    found = entry_by_code(typed)
    assert found is not None and found.pk == entry.pk
    assert entry_by_code("nonsense") is None


def test_consistency_proofs_between_checkpoints(authority: Authority) -> None:
    for i in range(5):
        services.append(document=pdf(i), document_type="notice", authority=authority)
    old = sequence()
    for i in range(5, 700):
        services.append(document=pdf(i), document_type="notice", authority=authority)
    new = sequence()
    assert old is not None and new is not None
    proof = consistency_proof(old_size=old.size, new_size=new.size)
    merkle.verify_consistency(old.size, new.size, proof, bytes(old.root_hash), bytes(new.root_hash))


def test_the_log_is_append_only(authority: Authority) -> None:
    entry = services.append(document=pdf(1), document_type="notice", authority=authority)
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        Entry.objects.all().delete()


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="a PostgreSQL trigger")
def test_postgresql_refuses_to_rewrite_a_sequenced_entry(authority: Authority) -> None:
    from django.db import DatabaseError, transaction

    services.append(document=pdf(1), document_type="notice", authority=authority)
    sequence()
    statements = [
        "UPDATE ledger_entry SET document_type = 'permit'",
        'UPDATE ledger_entry SET "index" = 5',
        "DELETE FROM ledger_entry",
    ]
    for statement in statements:
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement)
    assert Entry.objects.get().index == 0


def test_a_key_rotation_is_signed_by_both_keys_without_new_entries(
    authority: Authority, settings: object
) -> None:
    services.append(document=pdf(1), document_type="notice", authority=authority)
    before = sequence()
    assert before is not None
    new_key = note.Signer.generate("rathaus.localhost/govchain")
    with override_settings(LEDGER_EXTRA_SIGNING_KEYS=[new_key.signer_key()]):
        rotated = sequence()
        assert rotated is not None and rotated.size == before.size
        note.open_checkpoint(rotated.note, [new_key.verifier()])
        assert len(log_signers()) == 2
        assert sequence() is None


# --- publication and the offline verifier --------------------------------------------------


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    from rathaus.ledger import verify

    status = verify.main(list(args))
    return status, capsys.readouterr().out


def test_published_files_follow_tlog_tiles(authority: Authority, published: Path) -> None:
    for i in range(300):
        services.append(document=pdf(i), document_type="notice", authority=authority)
    sequence()
    assert (published / "checkpoint").read_text().startswith("rathaus.localhost/govchain\n300\n")
    assert len((published / "tile/0/000").read_bytes()) == 256 * 32
    assert len((published / "tile/0/001.p/44").read_bytes()) == 44 * 32
    assert (published / "tile/1/000.p/1").exists()
    bundle = tiles.decode_bundle((published / "tile/entries/001.p/44").read_bytes())
    assert len(bundle) == 44
    for i in range(300, 600):
        services.append(document=pdf(i), document_type="notice", authority=authority)
    sequence()
    superseded = published / "tile/0/001.p"  # partial versions go once the tile is full
    assert not superseded.exists() or not any(superseded.iterdir())
    assert (published / "tile/0/002.p/88").exists()
    assert LogState.objects.get(pk=1).published_size == 600


def test_offline_verifier_says_valid_revoked_or_unknown(
    authority: Authority, published: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for i in range(520):
        services.append(document=pdf(i), document_type="residence-certificate", authority=authority)
    sequence()
    document = tmp_path / "Meldebescheinigung.pdf"
    document.write_bytes(pdf(300))
    key = verifier_keys()[0]

    status, out = _cli(capsys, str(document), "--log", str(published), "--key", key)
    assert status == 0, out
    assert "Valid" in out and "log entry:        300 of 520" in out
    assert "Bürgeramt Wuppertal" in out

    status, out = _cli(
        capsys, str(document), "--log", str(published), "--key", key, "--index", "300"
    )
    assert status == 0, out

    changed = tmp_path / "changed.pdf"
    changed.write_bytes(pdf(300).replace(b"300", b"301")[:-1] + b" ")
    status, out = _cli(capsys, str(changed), "--log", str(published), "--key", key)
    assert status == 1 and "not in the log" in out

    services.revoke(document=pdf(300), reason="withdrawn", authority=authority)
    sequence()
    status, out = _cli(capsys, str(document), "--log", str(published), "--key", key)
    assert status == 1 and "REVOKED (withdrawn)" in out


def test_offline_verifier_rejects_another_key_and_forged_files(
    authority: Authority, published: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for i in range(300):
        services.append(document=pdf(i), document_type="permit", authority=authority)
    sequence()
    sha = hashlib.sha256(pdf(5)).hexdigest()
    key = verifier_keys()[0]
    stranger = note.Signer.generate("rathaus.localhost/govchain").verifier_key()

    status, out = _cli(capsys, "--sha256", sha, "--log", str(published), "--key", stranger)
    assert status == 1 and "Verification failed" in out

    tile = published / "tile/0/000"
    original = tile.read_bytes()
    tile.write_bytes(original[:200] + bytes([original[200] ^ 1]) + original[201:])
    status, out = _cli(
        capsys, "--sha256", sha, "--log", str(published), "--key", key, "--index", "5"
    )
    assert status == 1 and "Verification failed" in out
    tile.write_bytes(original)

    bundle = published / "tile/entries/000"
    data = bundle.read_bytes()
    bundle.write_bytes(data.replace(b"document-type: permit", b"document-type: notice", 1))
    status, out = _cli(capsys, "--sha256", sha, "--log", str(published), "--key", key)
    assert status == 1 and "do not match the signed checkpoint" in out


def _publish_forged_log(directory: Path, entries: list[bytes]) -> None:
    """What a dishonest operator holding the key could publish: a rewritten history."""
    signer = log_signers()[0]
    edge = tiles.Edge()
    for (level, index), hashes in edge.append(merkle.leaf_hash(e) for e in entries).items():
        width = len(hashes)
        path = directory / tiles.tile_path(level, index, width)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(tiles.encode_tile(hashes))
    for index in range(0, len(entries), 256):
        chunk = entries[index : index + 256]
        path = directory / tiles.entries_path(index // 256, len(chunk))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(tiles.encode_bundle(chunk))
    cp = note.Checkpoint("rathaus.localhost/govchain", edge.size, edge.root())
    (directory / "checkpoint").write_text(note.sign_checkpoint(cp, [signer]))


def test_a_rewritten_log_is_detected_by_the_remembered_checkpoint(
    authority: Authority, published: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for i in range(40):
        services.append(document=pdf(i), document_type="notice", authority=authority)
    sequence()
    key = verifier_keys()[0]
    state = tmp_path / "seen-checkpoint"
    sha = hashlib.sha256(pdf(39)).hexdigest()
    status, out = _cli(
        capsys, "--sha256", sha, "--log", str(published), "--key", key, "--remember", str(state)
    )
    assert status == 0, out

    entries = [bytes(e) for e in Entry.objects.order_by("index").values_list("leaf", flat=True)]
    forged = tmp_path / "forged"
    rewritten = [*entries[:3], entries[3].replace(b"notice", b"permit"), *entries[4:]]
    _publish_forged_log(forged, [*rewritten, *entries[:5]])
    status, out = _cli(
        capsys, "--sha256", sha, "--log", str(forged), "--key", key, "--remember", str(state)
    )
    assert status == 1 and "history was rewritten" in out, out


@pytest.mark.skipif(
    "connection.vendor != 'postgresql'",
    reason="the in-memory, shared-cache SQLite of the test run fails table locks at once",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_and_sequencing_give_unique_gap_free_indexes(
    authority: Authority,
) -> None:
    errors: list[BaseException] = []

    def worker(offset: int) -> None:
        try:
            for i in range(40):
                services.append(
                    document=pdf(offset * 1000 + i), document_type="notice", authority=authority.pk
                )
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    def sequencer(rounds: int) -> None:
        try:
            for _ in range(rounds):
                sequence()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    threads += [threading.Thread(target=sequencer, args=(8,)) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    sequence()
    indexes = sorted(Entry.objects.values_list("index", flat=True))
    assert indexes == list(range(160))
    latest = Checkpoint.objects.order_by("-id").first()
    assert latest is not None and latest.size == 160
    leaves = [bytes(e) for e in Entry.objects.order_by("index").values_list("leaf", flat=True)]
    assert bytes(latest.root_hash) == merkle.root(leaves)


# --- keys and commands -----------------------------------------------------------------------


def test_signing_key_accepts_note_keys_and_seeds_and_checks_the_origin() -> None:
    from django.core.exceptions import ImproperlyConfigured

    from rathaus.ledger.keys import parse_signing_key

    signer = note.Signer.generate("rathaus.localhost/govchain")
    seed = signer.private_key.private_bytes_raw()
    assert (
        parse_signing_key(signer.signer_key(), origin=signer.name).signer_key()
        == signer.signer_key()
    )
    assert parse_signing_key(seed.hex(), origin=signer.name).key_id == signer.key_id
    encoded = base64.b64encode(seed).decode()
    assert parse_signing_key(encoded, origin=signer.name).key_id == signer.key_id
    with pytest.raises(ImproperlyConfigured, match="LEDGER_ORIGIN"):
        parse_signing_key(signer.signer_key(), origin="elsewhere.example/log")
    with pytest.raises(ImproperlyConfigured):
        parse_signing_key("not a key", origin=signer.name)


def test_management_commands_sequence_and_show_the_key(authority: Authority) -> None:
    from io import StringIO

    from django.core.management import call_command

    services.append(document=pdf(1), document_type="receipt", authority=authority)
    out = StringIO()
    call_command("run_sequencer", "--once", stdout=out)
    assert "tree size 1" in out.getvalue()
    out = StringIO()
    call_command("ledger_key", stdout=out)
    assert out.getvalue().strip() == verifier_keys()[0]
    out = StringIO()
    call_command("ledger_key", "--generate", stdout=out)
    assert out.getvalue().startswith("LEDGER_SIGNING_KEY=PRIVATE+KEY+rathaus.localhost/govchain+")


def test_log_url_points_at_the_published_files(published: Path) -> None:
    from rathaus.ledger.publication import log_url

    assert log_url().endswith("/govchain/")


def test_append_many_logs_a_batch_in_order_and_is_idempotent(
    authority: Authority, other_authority: Authority
) -> None:
    first = services.append(document=pdf(0), document_type="receipt", authority=authority)
    hashes = [hashlib.sha256(pdf(i)).hexdigest() for i in range(50)]
    entries = services.append_many(
        document_sha256s=hashes, document_type="receipt", authority=authority
    )
    assert [e.document_sha256 for e in entries] == hashes
    assert entries[0].pk == first.pk
    assert Entry.objects.count() == 50
    again = services.append_many(
        document_sha256s=hashes[:3], document_type="receipt", authority=authority
    )
    assert [e.pk for e in again] == [e.pk for e in entries[:3]]
    with pytest.raises(services.LedgerError):
        services.append_many(
            document_sha256s=hashes[:1], document_type="receipt", authority=other_authority
        )
    sequence()
    assert verify_document(document=pdf(49)).status == Status.VALID


def test_system_check_reports_an_unusable_signing_key() -> None:
    from rathaus.ledger.checks import signing_keys_are_usable

    assert signing_keys_are_usable() == []
    with override_settings(LEDGER_SIGNING_KEY="PRIVATE+KEY+other.example/log+00000000+AAAA"):
        errors = signing_keys_are_usable()
    assert [e.id for e in errors] == ["ledger.E001"]


@pytest.mark.parametrize(
    "answer",
    [
        b"HELLO\r\n\r\n",  # no HTTP status line
        b"HTTP/1.1 200 OK\r\nX-Padding: " + b"a" * 70_000 + b"\r\n\r\n",  # endless header
    ],
)
def test_offline_verifier_reports_a_server_that_does_not_speak_http(answer: bytes) -> None:
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                connection, _ = server.accept()
                with connection:
                    connection.recv(65_536)
                    connection.sendall(answer)

    threading.Thread(target=serve, daemon=True).start()
    url = f"http://127.0.0.1:{server.getsockname()[1]}/govchain"
    key = note.Signer.generate("rathaus.localhost/govchain").verifier_key()
    try:
        report = verify(
            document_sha256="0" * 64, fetch=url_fetcher(url, timeout=5), verifier_keys=[key]
        )
    finally:
        server.close()
    assert report.status == "failed"
    assert report.message.startswith("Could not read the log")


@pytest.mark.parametrize("origin", [None, "rathaus.localhost/govchain"])
@pytest.mark.parametrize("index", [None, 3])
def test_offline_verifier_without_a_key_verifies_nothing(
    authority: Authority, published: Path, origin: str | None, index: int | None
) -> None:
    for i in range(5):
        services.append(document=pdf(i), document_type="notice", authority=authority)
    sequence()
    sha = hashlib.sha256(pdf(3)).hexdigest()
    fetch = directory_fetcher(published)
    assert verify(document_sha256=sha, fetch=fetch, verifier_keys=verifier_keys()).status == (
        "valid"
    )

    report = verify(document_sha256=sha, fetch=fetch, verifier_keys=[], origin=origin, index=index)

    assert report.status == "failed"
    assert report.message == "Verification failed: no verifier key was given"
    assert report.entry is None and report.checkpoint_size == 0


def test_the_sequencer_keeps_running_when_the_object_store_fails(
    authority: Authority, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A storage error (object store away) is logged and retried with a growing pause, however
    long it lasts; before, anything but a database error ended the process."""
    failures = 1100  # 2 ** 1100 overflows a float: the pause must not be computed from it
    import os
    import signal

    from django.core.management import call_command

    from rathaus.ledger.management.commands import run_sequencer

    services.append(document=pdf(1), document_type="receipt", authority=authority)
    calls: list[int] = []
    pauses: list[float] = []
    real = run_sequencer.sequence

    def flaky() -> object:
        calls.append(1)
        if len(calls) <= failures:
            raise OSError("object store unreachable")
        checkpoint = real()
        os.kill(os.getpid(), signal.SIGTERM)  # stop after the first batch that worked
        return checkpoint

    monkeypatch.setattr(run_sequencer, "sequence", flaky)
    monkeypatch.setattr(run_sequencer.time, "sleep", pauses.append)
    # it would close the test's own connection (inside the test transaction) on PostgreSQL
    monkeypatch.setattr(run_sequencer, "close_old_connections", lambda: None)
    previous = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        call_command("run_sequencer", "--interval", "0.5")
    finally:
        signal.signal(signal.SIGTERM, previous[0])
        signal.signal(signal.SIGINT, previous[1])

    assert len(calls) == failures + 1
    failed = [r for r in caplog.records if r.getMessage() == "sequencing failed; retrying"]
    assert len(failed) == failures
    assert pauses[0] < pauses[1] < pauses[2]  # backs off while it fails …
    assert max(pauses) <= run_sequencer.MAX_BACKOFF  # … up to a bound
    assert pauses[-1] <= 0.5  # and runs at its interval again once it works
    assert Entry.objects.filter(index__isnull=False).count() == 1
