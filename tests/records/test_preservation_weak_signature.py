"""Preservation: an archive time stamp whose TSA signed with a weak signature scheme or too short
a key is renewed like one with a weak hash (BSI TR-02102-1: RSA keys of 3000 bits, EC curves of
250 bits); scheme and key are read from the token. A TSA below that minimum (RSA-2048, as many)
still renews the stamps that would lapse, with a warning, and leaves those due only for their
own key; one weak by the sunsets renews nothing and stops the run."""

from __future__ import annotations

import datetime
import hashlib
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
from pyhanko.sign import signers
from pyhanko.sign.timestamps import TimeStamper

from rathaus.core.models import AuditEvent, Authority
from rathaus.documents.seal import seal_trust_roots, validate_seal
from rathaus.records.models import ArchiveTimestamp, DocumentVersion, File, FilePlan
from rathaus.records.preservation import due_for_renewal, renew_archive_timestamps
from rathaus.records.services import add_document, close_file, open_file, read_version
from rathaus.records.tasks import renew_archive_timestamps_job
from tests.documents.conftest import demo_seal_dir  # noqa: F401
from tests.documents.tsa_variants import (  # noqa: F401
    TSAVariants,
    outside_event_loop,
    tsa_variants,
)
from tests.fixtures.tsa import LocalTSA, local_tsa  # noqa: F401
from tests.records.test_admin import _request
from tests.records.test_preservation import _notice, tsa  # noqa: F401

PDF = "application/pdf"


def _restamped(pdf: bytes, stamper: TimeStamper, md_algorithm: str = "sha256") -> bytes:
    """``pdf`` with a document time stamp of ``stamper`` appended, as an older system left it."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    timestamper = signers.PdfTimeStamper(stamper)
    return bytes(outside_event_loop(timestamper.timestamp_pdf, writer, md_algorithm).getvalue())


def _stamps_asked(server: LocalTSA, since: int) -> int:
    """How many documents the TSA was asked to stamp since its ``since``-th request (pyHanko
    asks once more per client for a stamp of the empty string, to size the signature)."""
    count = 0
    for body in server.requests[since:]:
        imprint = tsp.TimeStampReq.load(body)["message_imprint"]
        empty = hashlib.new(imprint["hash_algorithm"]["algorithm"].native, b"").digest()
        count += imprint["hashed_message"].native != empty
    return count


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


def _recorded(stamp: ArchiveTimestamp) -> tuple[str, str, str, str, int | None]:
    return (
        stamp.imprint_algorithm,
        stamp.signature_algorithm,
        stamp.signature_mechanism,
        stamp.key_algorithm,
        stamp.key_bits,
    )


def test_a_stamp_of_a_tsa_with_an_rsa_1024_key_is_renewed_long_before_it_expires(
    authority: Authority,
    plan: FilePlan,
    tsa: LocalTSA,  # noqa: F811
    tsa_variants: TSAVariants,  # noqa: F811
) -> None:
    file = _file_with_notice(authority, _restamped(_notice(), tsa_variants.stamper(bits=1024)))
    asked = len(tsa.requests)

    result = renew_archive_timestamps()

    assert result.renewed == [f"{file.reference} Bescheid v1 (weak signature: rsa-1024) -> v2"]
    assert result.failed == [] and result.problem == ""
    first, second = _versions(file)
    stamp = ArchiveTimestamp.objects.get(version=first)
    # read from the token; SHA-256 throughout, its certificate runs ten years
    assert _recorded(stamp) == ("sha256", "sha256", "rsassa_pkcs1v15", "rsa", 1024)
    assert stamp.expires_at is not None
    assert stamp.expires_at > timezone.now() + datetime.timedelta(days=3000)
    assert stamp.renewed_by == second and stamp.problem == ""
    assert _stamps_asked(tsa, asked) == 1
    assert read_version(second).startswith(read_version(first))
    new_stamp = ArchiveTimestamp.objects.get(version=second)
    assert _recorded(new_stamp) == ("sha512", "sha512", "rsassa_pkcs1v15", "rsa", 3072)
    event = AuditEvent.objects.get(action="records.archive_timestamp_renewed")
    assert event.after["reasons"] == ["weak_signature"]
    assert event.after["weak_signature"] == ["rsa-1024"] and event.after["weak_algorithms"] == []
    assert event.before["signature_key"] == "RSA-1024"
    assert event.after["signature_key"] == "RSA-3072"

    again = renew_archive_timestamps()  # the renewed copy rests on RSA-3072: nothing is due
    assert again.renewed == [] and again.failed == [] and len(_versions(file)) == 2


def test_a_stamp_signed_sha1_with_rsa_is_renewed_and_a_strong_one_is_not(
    authority: Authority,
    plan: FilePlan,
    tsa: LocalTSA,  # noqa: F811
    tsa_variants: TSAVariants,  # noqa: F811
) -> None:
    # the imprint SHA-256, the TSA's signature sha1WithRSAEncryption
    sha1_rsa = tsa_variants.stamper(md="sha1", signature_algorithm="sha1_rsa")
    weak = _file_with_notice(authority, _restamped(_notice(), sha1_rsa), title="Anmeldung Erika")
    strong = _file_with_notice(authority, _notice(), title="Anmeldung Max")

    result = renew_archive_timestamps()

    assert result.renewed == [f"{weak.reference} Bescheid v1 (weak hash: sha1) -> v2"]
    old = ArchiveTimestamp.objects.get(version=_versions(weak)[0])
    assert _recorded(old) == ("sha256", "sha1", "rsassa_pkcs1v15", "rsa", 3072)
    [version] = _versions(strong)
    kept = ArchiveTimestamp.objects.get(version=version)
    assert _recorded(kept) == ("sha256", "sha256", "rsassa_pkcs1v15", "rsa", 3072)
    assert kept.renewed_by is None
    with translation.override("en"):
        assert site._registry[ArchiveTimestamp].due_because(kept) == ""
        assert site._registry[ArchiveTimestamp].signature_key(kept) == "RSA-3072"


def test_key_lengths_and_schemes_are_settings(
    authority: Authority,
    plan: FilePlan,
    tsa: LocalTSA,  # noqa: F811
    tsa_variants: TSAVariants,  # noqa: F811
    settings: Any,
    django_user_model: Any,
) -> None:
    # a stamp of a TSA on an RSA-2048 key: weak by BSI TR-02102-1 since 2024 (3000 bits)
    file = _file_with_notice(authority, _restamped(_notice(), tsa_variants.stamper(bits=2048)))
    renew_archive_timestamps()  # recorded, and renewed at once
    first, second = _versions(file)
    assert ArchiveTimestamp.objects.get(version=first).renewed_by == second

    settings.RECORDS_MIN_RSA_KEY_BITS = "2048"  # an operator who accepts 2048 bits (as text:
    # the environment's)
    other = _file_with_notice(
        authority, _restamped(_notice(), tsa_variants.stamper(bits=2048)), title="Anmeldung Max"
    )
    assert renew_archive_timestamps().renewed == []
    [version] = _versions(other)
    stamp = ArchiveTimestamp.objects.get(version=version)
    assert stamp.key_bits == 2048 and stamp.renewed_by is None
    assert {e.id for e in run_checks(include_deployment_checks=True)} >= {"records.W001"}

    # listing the TSA's scheme makes its stamps due, and the admin says why
    settings.RECORDS_WEAK_SIGNATURE_ALGORITHMS = "dsa, rsassa_pkcs1v15"
    assert stamp in due_for_renewal()
    superuser = django_user_model.objects.create_superuser(
        email="admin@example.org", password="x" * 12
    )
    admin = site._registry[ArchiveTimestamp]
    with translation.override("en"):
        assert admin.due_because(stamp) == "weak signature: rsassa_pkcs1v15"
    with translation.override("de"):
        page = admin.changelist_view(_request(superuser)).render().content.decode()
    assert "schwache Signatur: rsassa_pkcs1v15" in page

    # the sunset of an algorithm within the renewal window makes its stamps due too
    settings.RECORDS_WEAK_SIGNATURE_ALGORITHMS = ["dsa"]
    assert stamp not in due_for_renewal()
    soon = timezone.localdate() + datetime.timedelta(days=100)
    settings.DOCUMENTS_ALGORITHM_SUNSETS = {"rsa<3000": soon.isoformat()}
    assert stamp in due_for_renewal()
    with translation.override("en"):
        assert admin.due_because(stamp) == "weak signature: rsa-2048"


def test_an_unreadable_scheme_setting_renews_nothing_and_is_reported(
    authority: Authority,
    plan: FilePlan,
    tsa: LocalTSA,  # noqa: F811
    tsa_variants: TSAVariants,  # noqa: F811
    settings: Any,
) -> None:
    file = _file_with_notice(authority, _restamped(_notice(), tsa_variants.stamper(bits=1024)))
    asked = len(tsa.requests)

    settings.RECORDS_WEAK_SIGNATURE_ALGORITHMS = "dsa,sha1WithRSAEncryption"
    result = renew_archive_timestamps()
    assert "unknown signature" in result.problem and result.renewed == [] and result.failed == []
    assert "records.E002" in {e.id for e in run_checks(include_deployment_checks=True)}
    with pytest.raises(CommandError, match="unknown signature"):
        call_command("renew_archive_timestamps", stdout=io.StringIO())
    with translation.override("en"):
        [version] = _versions(file)
        stamp = ArchiveTimestamp.objects.get(version=version)
        assert "algorithm settings invalid" in site._registry[ArchiveTimestamp].due_because(stamp)
    assert len(tsa.requests) == asked and len(_versions(file)) == 1

    del settings.RECORDS_WEAK_SIGNATURE_ALGORITHMS
    checks = {e.id for e in run_checks(include_deployment_checks=True)}
    assert "records.E002" not in checks and "records.W001" not in checks
    assert len(renew_archive_timestamps().renewed) == 1  # corrected: renewed at once


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("RECORDS_MIN_RSA_KEY_BITS", "viel"),
        ("RECORDS_MIN_RSA_KEY_BITS", "3k"),
        ("RECORDS_MIN_RSA_KEY_BITS", "³⁰⁰⁰"),  # str.isdigit() says yes
        ("RECORDS_MIN_EC_KEY_BITS", -1),
    ],
)
def test_an_unreadable_key_length_is_reported_and_the_default_applies_meanwhile(
    authority: Authority,
    plan: FilePlan,
    tsa: LocalTSA,  # noqa: F811
    tsa_variants: TSAVariants,  # noqa: F811
    settings: Any,
    caplog: pytest.LogCaptureFixture,
    name: str,
    value: object,
) -> None:
    # RSA-2048: due by the default minimum of 3000 bits only, renewed by the RSA-3072 TSA
    file = _file_with_notice(authority, _restamped(_notice(), tsa_variants.stamper(bits=2048)))
    setattr(settings, name, value)
    errors = [e for e in run_checks(include_deployment_checks=True) if e.id == "records.E002"]
    assert len(errors) == 1 and errors[0].msg.startswith(f"{name}={value!r} is no key length")

    with caplog.at_level(logging.ERROR, logger="rathaus.records.preservation"):
        result = renew_archive_timestamps()

    assert result.problem == "" and result.failed == []
    assert result.renewed == [f"{file.reference} Bescheid v1 (weak signature: rsa-2048) -> v2"]
    [warning] = result.warnings
    assert f"{name}={value!r} is no key length" in warning
    assert "the default applies (3000 bits for RSA and DSA, 250 for EC" in warning
    assert "is no key length" in caplog.text
    # the command says so and does its work; a warning is no failure
    out, err = io.StringIO(), io.StringIO()
    call_command("renew_archive_timestamps", stdout=out, stderr=err)
    assert "0 failed" in out.getvalue() and "warning: " in err.getvalue()


def _due_only_for_its_key(
    authority: Authority, variants: TSAVariants, title: str, *, valid_days: int
) -> File:
    """A notice stamped by a TSA on RSA-2048 whose certificate runs ``valid_days`` more: due
    only for the key, below RECORDS_MIN_RSA_KEY_BITS (3000) but secure until 2029."""
    stamper = variants.stamper(bits=2048, valid_days=valid_days)
    return _file_with_notice(authority, _restamped(_notice(), stamper), title=title)


@pytest.mark.parametrize("lapses", ["expiring", "sunset"])
def test_a_stamp_that_lapses_is_renewed_by_a_tsa_on_rsa_2048_with_a_warning(
    authority: Authority,
    plan: FilePlan,
    tsa: LocalTSA,  # noqa: F811
    tsa_variants: TSAVariants,  # noqa: F811
    settings: Any,
    caplog: pytest.LogCaptureFixture,
    lapses: str,
) -> None:
    if lapses == "expiring":  # its TSA certificate expires in 100 days
        stamper = tsa_variants.stamper(bits=2048, valid_days=100)
        reasons = ["certificate_expires", "weak_signature"]
    else:  # SHA-256, its hash, reaches its sunset in 100 days
        stamper = tsa_variants.stamper(bits=2048)
        soon = timezone.localdate() + datetime.timedelta(days=100)
        settings.DOCUMENTS_ALGORITHM_SUNSETS = f"sha256={soon.isoformat()}"
        reasons = ["weak_hash", "weak_signature"]
    file = _file_with_notice(authority, _restamped(_notice(), stamper))
    tsa.stamper = tsa_variants.stamper(bits=2048)  # the TSA signs with RSA-2048, as many do

    with caplog.at_level(logging.WARNING, logger="rathaus.records.preservation"):
        report = renew_archive_timestamps_job.call()

    assert report["failed"] == [] and "problem" not in report and len(report["renewed"]) == 1
    [warning] = report["warnings"]
    assert warning.startswith(
        "The time-stamping authority signs with SHA-512, RSA-2048: rsa-2048 below "
        "RECORDS_MIN_RSA_KEY_BITS=3000 (below the recommended minimum, BSI TR-02102-1). "
        "1 archive time stamp(s) whose TSA certificate expires or whose algorithms reach their "
        "sunset within the renewal window were renewed with it all the same"
    )
    assert warning in caplog.text
    first, second = _versions(file)
    old = ArchiveTimestamp.objects.get(version=first)
    assert old.renewed_by == second and old.problem == ""
    assert _recorded(ArchiveTimestamp.objects.get(version=second))[3:] == ("rsa", 2048)
    event = AuditEvent.objects.get(action="records.archive_timestamp_renewed")
    assert event.after["reasons"] == reasons and event.after["tsa_below_minimum"] == ["rsa-2048"]
    status = validate_seal(read_version(second), trust_roots=seal_trust_roots())
    assert status.valid, status.problem

    # the renewed copy is due for its key alone: the TSA is asked once, and its equally weak
    # stamp refused rather than filed again every day
    asked = len(tsa.requests)
    again = renew_archive_timestamps()
    assert again.renewed == [] and again.failed == [] and again.problem == ""
    [left] = again.warnings
    assert left.startswith("1 archive time stamp(s) due only for resting on an algorithm below")
    assert "would be no stronger than this one" in left
    assert _stamps_asked(tsa, asked) == 1 and len(_versions(file)) == 2
    newest = ArchiveTimestamp.objects.get(version=second)
    assert "no stronger" in newest.problem and newest.problem_at is not None
    asked = len(tsa.requests)
    assert renew_archive_timestamps().warnings == []  # tried again in a week, not daily
    assert len(tsa.requests) == asked


def test_stamps_that_lapse_are_renewed_first_and_those_due_only_for_their_key_are_left(
    authority: Authority,
    plan: FilePlan,
    tsa: LocalTSA,  # noqa: F811
    tsa_variants: TSAVariants,  # noqa: F811
) -> None:
    # due for their key only, and expiring before the one that lapses
    erika = _due_only_for_its_key(authority, tsa_variants, "Anmeldung Erika", valid_days=2000)
    max_ = _due_only_for_its_key(authority, tsa_variants, "Anmeldung Max", valid_days=2500)
    # RSA-1024, past its sunset (2019-10-01): lapses unless renewed
    weak = tsa_variants.stamper(bits=1024)
    lapsing = _file_with_notice(authority, _restamped(_notice(), weak), title="Anmeldung Jan")
    tsa.stamper = tsa_variants.stamper(bits=2048)
    asked = len(tsa.requests)

    result = renew_archive_timestamps()

    assert result.renewed == [f"{lapsing.reference} Bescheid v1 (weak signature: rsa-1024) -> v2"]
    assert result.failed == [] and result.problem == ""
    # asked once: the stamps due for their key are judged by what it signed the renewal with
    assert _stamps_asked(tsa, asked) == 1
    renewed_below, left = result.warnings
    assert "signs with SHA-512, RSA-2048" in renewed_below
    assert left.startswith("2 archive time stamp(s) due only for resting on an algorithm below")
    for file in (erika, max_):
        [version] = _versions(file)
        stamp = ArchiveTimestamp.objects.get(version=version)
        assert stamp.renewed_by is None and stamp.problem_at is not None
        assert "RECORDS_MIN_RSA_KEY_BITS=3000" in stamp.problem


@pytest.mark.parametrize(
    ("tsa_bits", "ending_soon"),
    [
        (1024, ()),  # RSA-1024: past its sunset
        (2048, ("rsa<3000",)),  # RSA-2048, when its sunset falls within the window
    ],
    ids=["rsa-1024", "rsa-2048-ending"],
)
def test_a_tsa_weak_by_a_sunset_renews_nothing_and_stops_the_run(
    authority: Authority,
    plan: FilePlan,
    tsa: LocalTSA,  # noqa: F811
    tsa_variants: TSAVariants,  # noqa: F811
    settings: Any,
    tsa_bits: int,
    ending_soon: tuple[str, ...],
) -> None:
    soon = timezone.localdate() + datetime.timedelta(days=100)
    settings.DOCUMENTS_ALGORITHM_SUNSETS = dict.fromkeys(ending_soon, soon)
    weak = tsa_variants.stamper(bits=1024)
    files = [
        _file_with_notice(authority, _restamped(_notice(), weak), title=f"Anmeldung {name}")
        for name in ("Erika", "Max")
    ]
    tsa.stamper = tsa_variants.stamper(bits=tsa_bits)
    asked = len(tsa.requests)

    result = renew_archive_timestamps()

    assert result.renewed == [] and len(result.failed) == 1
    assert result.failed[0].startswith(f"{files[0].reference} Bescheid v1 (weak signature")
    assert f"signs with SHA-512, RSA-{tsa_bits} (message imprint sha512" in result.failed[0]
    assert "reaches its sunset within the renewal window or has passed it" in result.failed[0]
    assert result.problem.startswith("No more archive time stamps renewed in this run")
    assert _stamps_asked(tsa, asked) == 1  # asked once, not once per due stamp
    first, second = (ArchiveTimestamp.objects.get(version=_versions(f)[0]) for f in files)
    assert "DOCUMENTS_ALGORITHM_SUNSETS" in first.problem and first.problem_at is not None
    assert second.problem == "" and second.renewed_by is None
    assert [len(_versions(f)) for f in files] == [1, 1]


def test_a_tsa_weaker_than_the_stamps_that_expire_does_not_renew_them(
    authority: Authority,
    plan: FilePlan,
    tsa: LocalTSA,  # noqa: F811
    tsa_variants: TSAVariants,  # noqa: F811
) -> None:
    files = [
        _file_with_notice(
            authority,
            _restamped(_notice(), tsa_variants.stamper(valid_days=days)),  # RSA-3072
            title=f"Anmeldung {days}",
        )
        for days in (100, 120)
    ]
    tsa.stamper = tsa_variants.stamper(bits=2048)
    asked = len(tsa.requests)

    result = renew_archive_timestamps()

    assert result.renewed == [] and result.problem == "" and len(result.failed) == 2
    for line, file in zip(result.failed, files, strict=True):
        assert line.startswith(f"{file.reference} Bescheid v1: ")
        assert "signs with SHA-512, RSA-2048, weaker than the stamp to renew" in line
        [version] = _versions(file)
        assert "must not weaken" in ArchiveTimestamp.objects.get(version=version).problem
    assert _stamps_asked(tsa, asked) == 1  # the second judged without asking again


def test_stamps_recorded_before_their_signature_was_kept_are_read_by_the_job(
    authority: Authority,
    plan: FilePlan,
    tsa: LocalTSA,  # noqa: F811
    tsa_variants: TSAVariants,  # noqa: F811
) -> None:
    file = _file_with_notice(authority, _restamped(_notice(), tsa_variants.stamper(bits=1024)))
    [version] = _versions(file)
    far = timezone.now() + datetime.timedelta(days=3000)
    # as migration 0009 left a stamp recorded with its hashes only
    ArchiveTimestamp.objects.create(
        version=version, expires_at=far, imprint_algorithm="sha256", signature_algorithm="sha256"
    )

    result = renew_archive_timestamps()

    assert result.checked == 1
    assert result.renewed == [f"{file.reference} Bescheid v1 (weak signature: rsa-1024) -> v2"]
    stamp = ArchiveTimestamp.objects.get(version=version)
    assert _recorded(stamp) == ("sha256", "sha256", "rsassa_pkcs1v15", "rsa", 1024)
    assert renew_archive_timestamps().checked == 0  # not read again the next day


@pytest.mark.parametrize("value", [None, 5, ["dsa", 5]], ids=["none", "number", "list-with-one"])
def test_a_scheme_setting_of_another_type_is_a_check_error_and_the_job_renews_nothing(
    authority: Authority,
    plan: FilePlan,
    tsa: LocalTSA,  # noqa: F811
    tsa_variants: TSAVariants,  # noqa: F811
    settings: Any,
    caplog: pytest.LogCaptureFixture,
    value: object,
) -> None:
    """Not a list of names nor a comma-separated string: ``check --deploy`` reports it and the
    daily job stops with the setting named, rather than both failing with a TypeError."""
    file = _file_with_notice(authority, _restamped(_notice(), tsa_variants.stamper(bits=1024)))
    asked = len(tsa.requests)
    settings.RECORDS_WEAK_SIGNATURE_ALGORITHMS = value
    said = f"RECORDS_WEAK_SIGNATURE_ALGORITHMS={value!r} is no list of names"

    errors = [e for e in run_checks(include_deployment_checks=True) if e.id == "records.E002"]
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

    settings.RECORDS_WEAK_SIGNATURE_ALGORITHMS = ("dsa",)  # a tuple is a list of names too
    assert "records.E002" not in {e.id for e in run_checks(include_deployment_checks=True)}
    assert len(renew_archive_timestamps().renewed) == 1  # corrected: renewed at once
