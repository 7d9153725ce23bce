"""Preservation: an archive time stamp whose hash algorithm is listed weak is renewed with a strong
hash by the daily job, whatever its certificate's expiry (BSI TR-ESOR, RFC 4998 § 5.2); the hash
is read from the time-stamp token, and a renewal hash that is itself weak is refused."""

from __future__ import annotations

import datetime
import io
import logging
from typing import Any

import pytest
from asn1crypto import tsp
from django.contrib.admin.sites import site
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone, translation
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.validation import validate_pdf_timestamp
from pyhanko_certvalidator import ValidationContext

from rathaus.core.models import AuditEvent, Authority
from rathaus.documents.seal import (
    configured_timestamper,
    seal_trust_roots,
    tsa_trust_roots,
    validate_seal,
)
from rathaus.records.models import ArchiveTimestamp, DocumentVersion, File, FilePlan
from rathaus.records.preservation import renew_archive_timestamps
from rathaus.records.services import add_document, close_file, open_file, read_version
from rathaus.records.tasks import renew_archive_timestamps_job
from tests.documents.conftest import demo_seal_dir  # noqa: F401
from tests.documents.tsa_variants import outside_event_loop, tsa_variants  # noqa: F401
from tests.fixtures.tsa import LocalTSA, local_tsa  # noqa: F401
from tests.records.test_admin import _request
from tests.records.test_preservation import _notice, tsa  # noqa: F401

PDF = "application/pdf"
SHA256_WEAK = ["md5", "sha1", "SHA-256"]  # as an operator may write it


def _restamped(pdf: bytes, md_algorithm: str) -> bytes:
    """``pdf`` with a document time stamp of the test TSA appended, hashed with
    ``md_algorithm``: as a renewal of years ago (or an older system) left it. The test TSA
    signs with the hash of the request's message imprint, like many TSAs."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    timestamper = signers.PdfTimeStamper(configured_timestamper())
    output = outside_event_loop(timestamper.timestamp_pdf, writer, md_algorithm)
    return bytes(output.getvalue())


def _file_with_notice(authority: Authority, content: bytes, title: str = "Anmeldung") -> File:
    file = open_file(authority=authority, plan_key="11.30.01", title=title, actor=None)
    add_document(
        file=file,
        title="Bescheid",
        kind="notice",
        content=content,
        original_name="bescheid.pdf",
        content_type=PDF,
        actor=None,
    )
    return close_file(file=file, actor=None)


def _versions(file: File) -> list[DocumentVersion]:
    return list(DocumentVersion.objects.filter(document__file=file).order_by("number"))


def _newest_stamp(pdf: bytes) -> Any:
    stamps = [
        s
        for s in PdfFileReader(io.BytesIO(pdf), strict=False).embedded_signatures
        if s.sig_object_type == "/DocTimeStamp"
    ]
    return stamps[-1]


def _token_hashes(pdf: bytes) -> tuple[str, str]:
    """(message imprint, signer digest) of the newest document time stamp, read here on its own."""
    token = _newest_stamp(pdf).signed_data
    info = token["encap_content_info"]["content"].parsed
    return (
        info["message_imprint"]["hash_algorithm"]["algorithm"].native,
        token["signer_infos"][0]["digest_algorithm"]["algorithm"].native,
    )


def _asked_hashes(server: LocalTSA, since: int) -> set[str]:
    """The message-imprint hashes of the requests the TSA received since the ``since``-th."""
    return {
        tsp.TimeStampReq.load(body)["message_imprint"]["hash_algorithm"]["algorithm"].native
        for body in server.requests[since:]
    }


@pytest.fixture
def weak_notice(tsa: LocalTSA) -> bytes:  # noqa: F811
    notice = _restamped(_notice(), "sha1")
    assert _token_hashes(notice) == ("sha1", "sha1")
    return notice


def test_a_stamp_with_a_weak_hash_is_renewed_with_a_strong_one_long_before_it_expires(
    authority: Authority,
    plan: FilePlan,
    tsa: LocalTSA,  # noqa: F811
    weak_notice: bytes,
) -> None:
    file = _file_with_notice(authority, weak_notice)
    asked = len(tsa.requests)

    result = renew_archive_timestamps()

    assert result.renewed == [f"{file.reference} Bescheid v1 (weak hash: sha1) -> v2"]
    assert result.checked == 1 and result.failed == [] and result.problem == ""
    first, second = _versions(file)
    stamp = ArchiveTimestamp.objects.get(version=first)
    # read from the token; its TSA certificate runs ten years, far outside the renewal window
    assert (stamp.imprint_algorithm, stamp.signature_algorithm) == ("sha1", "sha1")
    assert stamp.expires_at is not None
    assert stamp.expires_at > timezone.now() + datetime.timedelta(days=3000)
    assert stamp.renewed_by == second and stamp.problem == ""
    # the TSA was asked for SHA-512 only, and the new stamp is SHA-512 throughout
    assert _asked_hashes(tsa, asked) == {"sha512"}
    renewed = read_version(second)
    assert renewed.startswith(read_version(first))
    assert _token_hashes(renewed) == ("sha512", "sha512")
    status = validate_pdf_timestamp(
        _newest_stamp(renewed), validation_context=ValidationContext(trust_roots=tsa_trust_roots())
    )
    assert status.intact and status.valid and status.trusted
    new_stamp = ArchiveTimestamp.objects.get(version=second)
    assert (new_stamp.imprint_algorithm, new_stamp.signature_algorithm) == ("sha512", "sha512")
    # the TSA kept its certificate: a renewal for the hash needs no new one
    assert new_stamp.expires_at == stamp.expires_at
    event = AuditEvent.objects.get(action="records.archive_timestamp_renewed")
    assert event.after["reasons"] == ["weak_hash"] and event.after["weak_algorithms"] == ["sha1"]
    assert event.before["imprint_algorithm"] == "sha1"
    assert event.after["imprint_algorithm"] == event.after["signature_algorithm"] == "sha512"

    again = renew_archive_timestamps()  # the renewed copy is strong: nothing is due
    assert again.renewed == [] and again.failed == [] and len(_versions(file)) == 2


def test_a_strong_stamp_far_from_expiry_is_recorded_with_its_hashes_and_left_alone(
    authority: Authority,
    plan: FilePlan,
    tsa: LocalTSA,  # noqa: F811
) -> None:
    file = _file_with_notice(authority, _notice())
    asked = len(tsa.requests)

    result = renew_archive_timestamps()

    assert result.checked == 1 and result.renewed == [] and result.failed == []
    [version] = _versions(file)
    stamp = ArchiveTimestamp.objects.get(version=version)
    assert (stamp.imprint_algorithm, stamp.signature_algorithm) == ("sha256", "sha256")
    assert stamp.renewed_by is None and stamp.problem == "" and stamp.problem_at is None
    assert len(tsa.requests) == asked  # the TSA was not asked
    assert not AuditEvent.objects.filter(action="records.archive_timestamp_renewed").exists()
    with translation.override("en"):
        assert site._registry[ArchiveTimestamp].due_because(stamp) == ""


def test_listing_sha256_as_weak_makes_sha256_stamps_due(
    authority: Authority,
    plan: FilePlan,
    tsa: LocalTSA,  # noqa: F811
    settings: Any,
    django_user_model: Any,
) -> None:
    file = _file_with_notice(authority, _notice())
    assert renew_archive_timestamps().renewed == []
    [first] = _versions(file)
    stamp = ArchiveTimestamp.objects.get(version=first)

    settings.RECORDS_WEAK_HASH_ALGORITHMS = SHA256_WEAK  # the BSI announces the end of SHA-256
    admin = site._registry[ArchiveTimestamp]
    with translation.override("en"):
        assert admin.due_because(stamp) == "weak hash: sha256"
    superuser = django_user_model.objects.create_superuser(
        email="admin@example.org", password="x" * 12
    )
    with translation.override("de"):
        page = admin.changelist_view(_request(superuser)).render().content.decode()
    assert "schwacher Hash: sha256" in page

    result = renew_archive_timestamps()

    assert result.renewed == [f"{file.reference} Bescheid v1 (weak hash: sha256) -> v2"]
    _, second = _versions(file)
    renewed = read_version(second)
    assert _token_hashes(renewed) == ("sha512", "sha512")
    seal = validate_seal(renewed, trust_roots=seal_trust_roots())
    assert seal.valid, seal.problem
    assert seal.level == "B-LTA"
    event = AuditEvent.objects.get(action="records.archive_timestamp_renewed")
    assert event.after["weak_algorithms"] == ["sha256"]
    assert renew_archive_timestamps().renewed == []  # SHA-512 is not listed: done


def test_a_renewal_hash_that_is_itself_weak_is_refused(
    authority: Authority,
    plan: FilePlan,
    tsa: LocalTSA,  # noqa: F811
    settings: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    file = _file_with_notice(authority, _notice())
    settings.RECORDS_ARCHIVE_TIMESTAMP_RENEW_DAYS = 3660  # due by its expiry
    tsa.rotate(valid_days=7300)  # and a TSA certificate that would outlive it
    settings.RECORDS_ARCHIVE_TIMESTAMP_HASH = "sha1"
    asked = len(tsa.requests)

    with caplog.at_level(logging.ERROR, logger="rathaus.records.preservation"):
        result = renew_archive_timestamps()

    assert result.checked == 1  # the stamps are still recorded
    assert result.renewed == [] and result.failed == []
    assert "RECORDS_ARCHIVE_TIMESTAMP_HASH=sha1 is itself listed" in result.problem
    assert "no archive time stamp renewed" in caplog.text
    assert len(tsa.requests) == asked and len(_versions(file)) == 1
    assert "is itself listed" in renew_archive_timestamps_job.call()["problem"]
    assert "records.E001" in {e.id for e in run_checks(include_deployment_checks=True)}
    with pytest.raises(CommandError, match="is itself listed"):
        call_command("renew_archive_timestamps", stdout=io.StringIO())

    # the same when the hash configured was fine until the operator listed it weak
    settings.RECORDS_ARCHIVE_TIMESTAMP_HASH = "sha256"
    settings.RECORDS_WEAK_HASH_ALGORITHMS = SHA256_WEAK
    assert "sha256 is itself listed" in renew_archive_timestamps().problem
    # names nobody knows are refused too, rather than leaving a weak hash unrenewed
    settings.RECORDS_ARCHIVE_TIMESTAMP_HASH = "sha-257"
    assert "is no hash a renewed archive time stamp can use" in renew_archive_timestamps().problem
    settings.RECORDS_ARCHIVE_TIMESTAMP_HASH = "sha512"
    settings.RECORDS_WEAK_HASH_ALGORITHMS = "md5,sha1,sha-1x"
    assert "unknown hash algorithms: sha1x" in renew_archive_timestamps().problem
    assert len(tsa.requests) == asked and len(_versions(file)) == 1

    # corrected (written as the BSI writes it): renewed at once
    settings.RECORDS_WEAK_HASH_ALGORITHMS = SHA256_WEAK
    settings.RECORDS_ARCHIVE_TIMESTAMP_HASH = "SHA-384"
    assert "records.E001" not in {e.id for e in run_checks(include_deployment_checks=True)}
    done = renew_archive_timestamps()
    assert done.problem == "" and len(done.renewed) == 1
    assert _token_hashes(read_version(_versions(file)[1])) == ("sha384", "sha384")
    event = AuditEvent.objects.get(action="records.archive_timestamp_renewed")
    assert event.after["reasons"] == ["certificate_expires", "weak_hash"]


def test_a_tsa_that_signs_with_a_weak_hash_does_not_renew_a_stamp_due_for_its_hash(
    authority: Authority,
    plan: FilePlan,
    tsa: LocalTSA,  # noqa: F811
    settings: Any,
) -> None:
    file = _file_with_notice(authority, _notice())
    settings.RECORDS_WEAK_HASH_ALGORITHMS = SHA256_WEAK
    tsa.rotate(valid_days=3650)  # a stamper of its own: the fixture puts the session's back
    assert tsa.stamper is not None
    tsa.stamper.override_md = "sha256"  # asked for SHA-512, it signs with SHA-256 all the same

    result = renew_archive_timestamps()

    # the stamp lapses for nothing (SHA-256 has no sunset, its certificate runs ten years):
    # a renewal no stronger is not filed, and the job warns
    assert result.renewed == [] and result.failed == [] and result.problem == ""
    [warning] = result.warnings
    assert f"{file.reference} Bescheid v1 (weak hash: sha256): " in warning
    assert "needs a TSA that signs with a strong hash" in warning
    [version] = _versions(file)
    stamp = ArchiveTimestamp.objects.get(version=version)
    assert "RECORDS_WEAK_HASH_ALGORITHMS" in stamp.problem and stamp.problem_at is not None
    assert renew_archive_timestamps().warnings == []  # tried again a week later, not daily


def test_stamps_recorded_before_their_hashes_were_kept_are_read_by_the_job(
    authority: Authority,
    plan: FilePlan,
    tsa: LocalTSA,  # noqa: F811
    weak_notice: bytes,
) -> None:
    weak = _file_with_notice(authority, weak_notice, title="Anmeldung Erika")
    changed = _file_with_notice(authority, _notice(), title="Anmeldung Max")
    far = timezone.now() + datetime.timedelta(days=3000)
    for file in (weak, changed):  # as migration 0008 left the stamps recorded before it
        ArchiveTimestamp.objects.create(version=_versions(file)[0], expires_at=far)
    [version] = _versions(changed)
    with version.content.open("wb") as f:  # changed outside the application
        f.write(b"%PDF-1.7 manipuliert")

    result = renew_archive_timestamps()

    assert result.checked == 2
    assert result.renewed == [f"{weak.reference} Bescheid v1 (weak hash: sha1) -> v2"]
    old = ArchiveTimestamp.objects.get(version=_versions(weak)[0])
    assert (old.imprint_algorithm, old.signature_algorithm) == ("sha1", "sha1")
    unreadable = ArchiveTimestamp.objects.get(version=version)
    assert unreadable.imprint_algorithm == "" and "SHA-256" in unreadable.problem
    assert renew_archive_timestamps().checked == 0  # not read again the next day


def test_the_command_renews_a_batch_of_the_size_asked(
    authority: Authority,
    plan: FilePlan,
    tsa: LocalTSA,  # noqa: F811
    weak_notice: bytes,
) -> None:
    files = [_file_with_notice(authority, weak_notice, title=f"Anmeldung {n}") for n in "AB"]
    out = io.StringIO()
    call_command("renew_archive_timestamps", "--limit", "1", stdout=out)
    assert out.getvalue().startswith("1 read, 1 renewed, 0 failed.")
    assert f"renewed: {files[0].reference} Bescheid v1 (weak hash: sha1) -> v2" in out.getvalue()
    assert [len(_versions(f)) for f in files] == [2, 1]
    call_command("renew_archive_timestamps", stdout=out)
    assert [len(_versions(f)) for f in files] == [2, 2]
    with pytest.raises(CommandError, match="at least 1"):
        call_command("renew_archive_timestamps", "--limit", "0")


@pytest.mark.parametrize("value", [None, 5, ["md5", 5]], ids=["none", "number", "list-with-one"])
def test_a_weak_hash_setting_of_another_type_is_a_check_error_and_the_job_renews_nothing(
    authority: Authority,
    plan: FilePlan,
    tsa: LocalTSA,  # noqa: F811
    weak_notice: bytes,
    settings: Any,
    caplog: pytest.LogCaptureFixture,
    value: object,
) -> None:
    """Not a list of names nor a comma-separated string: ``check --deploy`` reports it and the
    daily job stops with the setting named, rather than both failing with a TypeError."""
    file = _file_with_notice(authority, weak_notice)
    asked = len(tsa.requests)
    settings.RECORDS_WEAK_HASH_ALGORITHMS = value
    said = f"RECORDS_WEAK_HASH_ALGORITHMS={value!r} is no list of names"

    errors = [e for e in run_checks(include_deployment_checks=True) if e.id == "records.E001"]
    assert len(errors) == 1 and errors[0].msg.startswith(said)
    with caplog.at_level(logging.ERROR, logger="rathaus.records.preservation"):
        result = renew_archive_timestamps()
    assert result.problem.startswith(said) and result.renewed == [] and result.failed == []
    assert f"no archive time stamp renewed: {said}" in caplog.text
    assert renew_archive_timestamps_job.call()["problem"].startswith(said)
    with pytest.raises(CommandError, match="is no list of names"):
        call_command("renew_archive_timestamps", stdout=io.StringIO())
    with translation.override("en"):
        [version] = _versions(file)
        stamp = ArchiveTimestamp.objects.get(version=version)
        assert "algorithm settings invalid" in site._registry[ArchiveTimestamp].due_because(stamp)
    assert len(tsa.requests) == asked and len(_versions(file)) == 1

    settings.RECORDS_WEAK_HASH_ALGORITHMS = {"md5", "sha1"}  # a set is a list of names too
    assert "records.E001" not in {e.id for e in run_checks(include_deployment_checks=True)}
    assert len(renew_archive_timestamps().renewed) == 1  # corrected: renewed at once
