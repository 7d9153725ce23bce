"""Preservation: the archive time stamps (PAdES B-LTA) of sealed PDFs in the E-Akte are recorded
once and renewed, as the document's next version, before their TSA certificate expires."""

from __future__ import annotations

import datetime
import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from pyhanko.pdf_utils.reader import PdfFileReader
from weasyprint import HTML

from rathaus.core.models import AuditEvent, Authority
from rathaus.documents.seal import seal_pdf, seal_signer, seal_trust_roots, validate_seal
from rathaus.records.models import ArchiveTimestamp, DocumentVersion, File, FilePlan
from rathaus.records.preservation import RETRY_AFTER, renew_archive_timestamps
from rathaus.records.services import add_document, close_file, open_file, read_version
from rathaus.records.tasks import renew_archive_timestamps_job
from tests.documents.conftest import demo_seal_dir  # noqa: F401
from tests.documents.tsa_variants import TSAVariants, tsa_variants  # noqa: F401
from tests.fixtures.tsa import LocalTSA, local_tsa  # noqa: F401

PDF = "application/pdf"
TEN_YEARS = datetime.timedelta(days=3650)


@pytest.fixture
def tsa(
    local_tsa: LocalTSA,  # noqa: F811
    tsa_variants: TSAVariants,  # noqa: F811
    settings: Any,
    demo_seal_dir: Path,  # noqa: F811
) -> Iterator[LocalTSA]:
    """The local TSA, signing with an RSA-3072 key as RECORDS_MIN_RSA_KEY_BITS asks (BSI
    TR-02102-1), also after :meth:`LocalTSA.rotate`."""
    settings.VAR_DIR = demo_seal_dir
    settings.DOCUMENTS_SEAL_PKCS12 = ""
    settings.DOCUMENTS_SEAL_TRUST_ROOTS = ""
    settings.DOCUMENTS_SEAL_LTV = True
    settings.DOCUMENTS_TSA_URL = local_tsa.url
    settings.DOCUMENTS_TSA_REQUIRED = True
    settings.DOCUMENTS_TSA_TRUST_ROOTS = str(tsa_variants.roots_pem)
    settings.DOCUMENTS_TSA_TIMEOUT = 5
    local_tsa.answer = "ok"
    original, new_stamper = local_tsa.stamper, local_tsa.new_stamper
    local_tsa.stamper = tsa_variants.stamper()
    local_tsa.new_stamper = lambda valid_days: tsa_variants.stamper(valid_days=valid_days)
    yield local_tsa
    # the session's TSA for the other tests
    local_tsa.stamper, local_tsa.new_stamper = original, new_stamper


def _notice() -> bytes:
    pdf = HTML(string="<h1>Bescheid</h1><p>Die Erlaubnis wird erteilt.</p>").write_pdf()
    assert isinstance(pdf, bytes)
    return seal_pdf(pdf, signer=seal_signer(), location="Wuppertal")


@pytest.fixture
def closed_file(authority: Authority, plan: FilePlan, tsa: LocalTSA) -> File:
    """A closed file with a sealed notice (B-LTA), an unsealed PDF and a picture."""
    file = open_file(authority=authority, plan_key="11.30.01", title="Anmeldung", actor=None)
    for title, content, content_type in [
        ("Bescheid", _notice(), PDF),
        ("Antrag", HTML(string="<p>Antrag</p>").write_pdf(), PDF),
        ("Foto", b"\xff\xd8\xff\xe0 kein echtes JPEG", "image/jpeg"),
    ]:
        assert isinstance(content, bytes)
        add_document(
            file=file,
            title=title,
            kind="notice" if title == "Bescheid" else "application",
            content=content,
            original_name=f"{title}.pdf",
            content_type=content_type,
            actor=None,
        )
    return close_file(file=file, actor=None)


def _versions(file: File, title: str) -> list[DocumentVersion]:
    return list(DocumentVersion.objects.filter(document__file=file, document__title=title))


def test_stamps_are_recorded_once_and_renewed_before_they_expire(
    closed_file: File, tsa: LocalTSA, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # 1. recorded, not yet due (the TSA certificate runs ten years, renewal starts a year before)
    result = renew_archive_timestamps()
    assert result.checked == 1 and result.renewed == [] and result.failed == []
    [notice] = _versions(closed_file, "Bescheid")
    [application] = _versions(closed_file, "Antrag")
    stamp = ArchiveTimestamp.objects.get(version=notice)
    assert stamp.expires_at is not None
    assert TEN_YEARS - datetime.timedelta(days=2) < stamp.expires_at - timezone.now() < TEN_YEARS
    # only notices are read: a PDF a citizen uploaded, or a picture, is never parsed here
    assert not ArchiveTimestamp.objects.filter(version=application).exists()
    assert not ArchiveTimestamp.objects.filter(version__content_type="image/jpeg").exists()
    assert renew_archive_timestamps().checked == 0  # no PDF is read twice

    # 2. due, but the TSA still signs with the same certificate: nothing filed, retried later
    settings.RECORDS_ARCHIVE_TIMESTAMP_RENEW_DAYS = 3660
    asked = len(tsa.requests)
    with caplog.at_level(logging.ERROR, logger="rathaus.records.preservation"):
        refused = renew_archive_timestamps()
    assert refused.renewed == [] and len(refused.failed) == 1
    assert "needs a TSA certificate that outlives it" in refused.failed[0]
    assert "not renewed" in caplog.text
    assert len(_versions(closed_file, "Bescheid")) == 1
    stamp.refresh_from_db()
    assert stamp.problem_at is not None and "outlives" in stamp.problem
    asked_once = len(tsa.requests)
    assert asked_once > asked
    assert renew_archive_timestamps().failed == []  # not asked again the next day
    assert len(tsa.requests) == asked_once

    # 3. the TSA has a new certificate; a week later the renewal goes through
    tsa.rotate(valid_days=7300)
    later = timezone.now() + RETRY_AFTER + datetime.timedelta(hours=1)
    done = renew_archive_timestamps(now=later)
    assert len(done.renewed) == 1 and done.failed == []
    first, second = _versions(closed_file, "Bescheid")
    assert second.number == 2 and second.original_name == first.original_name
    renewed = read_version(second)
    assert renewed.startswith(read_version(first))  # the issued bytes, then the new revision
    status = validate_seal(renewed, trust_roots=seal_trust_roots())
    assert status.valid, status.problem
    assert status.level == "B-LTA"
    reader = PdfFileReader(__import__("io").BytesIO(renewed), strict=False)
    assert len(reader.embedded_signatures) == 3  # the seal and two document time stamps
    stamp.refresh_from_db()
    assert stamp.renewed_by == second and stamp.problem == "" and stamp.problem_at is None
    new_stamp = ArchiveTimestamp.objects.get(version=second)
    assert new_stamp.expires_at is not None and stamp.expires_at is not None
    assert new_stamp.expires_at > stamp.expires_at + datetime.timedelta(days=3000)
    event = AuditEvent.objects.get(action="records.archive_timestamp_renewed")
    assert event.after["version"] == 2 and event.before["version"] == 1
    closed_file.refresh_from_db()
    assert closed_file.is_closed  # preserving a document does not reopen its file
    assert len(_versions(closed_file, "Antrag")) == 1

    # 4. the renewed copy is not due: nothing more to do
    again = renew_archive_timestamps(now=later)
    assert again.checked == 0 and again.renewed == [] and again.failed == []


def test_a_refusing_tsa_leaves_the_file_as_it_was(
    closed_file: File, tsa: LocalTSA, settings: Any
) -> None:
    renew_archive_timestamps()
    settings.RECORDS_ARCHIVE_TIMESTAMP_RENEW_DAYS = 3660
    tsa.answer = "refuse"
    result = renew_archive_timestamps()
    assert len(result.failed) == 1 and "no time stamp" in result.failed[0]
    assert len(_versions(closed_file, "Bescheid")) == 1
    assert not AuditEvent.objects.filter(action="records.archive_timestamp_renewed").exists()


def test_a_changed_stored_content_is_reported_not_stamped(
    closed_file: File, tsa: LocalTSA, settings: Any
) -> None:
    [notice] = _versions(closed_file, "Bescheid")
    with notice.content.open("wb") as f:  # changed outside the application
        f.write(b"%PDF-1.7 manipuliert")
    result = renew_archive_timestamps()
    assert result.checked == 1
    stamp = ArchiveTimestamp.objects.get(version=notice)
    assert stamp.expires_at is None and "SHA-256" in stamp.problem and stamp.problem_at is not None


def test_the_daily_job_is_scheduled_and_reports(closed_file: File, settings: Any) -> None:
    assert ("rathaus.records.tasks.renew_archive_timestamps_job", 86400) in settings.PERIODIC_JOBS
    report = renew_archive_timestamps_job.call()
    assert report == {"checked": 1, "renewed": [], "failed": []}


# --- the renewed copy still verifies as the issued document ----------------------------------


def _append_revision(pdf: bytes, change: Any) -> bytes:
    import io

    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_a_renewed_copy_verifies_as_the_issued_document(
    authority: Authority, tsa: LocalTSA, client: Any, settings: Any
) -> None:
    from pyhanko.pdf_utils import generic

    from rathaus.documents.seal import earlier_revisions, renew_archive_timestamp
    from rathaus.ledger import services as ledger_services
    from rathaus.ledger.selectors import Status, verify_document, verify_renewed_copy
    from rathaus.ledger.sequencer import sequence

    issued = _notice()
    ledger_services.append(document=issued, document_type="notice", authority=authority)
    sequence()
    tsa.rotate(valid_days=7300)
    renewed = renew_archive_timestamp(issued)
    assert hashlib.sha256(issued).hexdigest() in earlier_revisions(renewed)

    assert verify_document(document=renewed).status == Status.UNKNOWN  # not byte for byte
    result = verify_renewed_copy(renewed)
    assert result is not None and result.renewed_copy and result.status == Status.VALID
    assert result.as_json()["renewed_copy"] is True
    assert verify_renewed_copy(issued) is None  # the issued file itself: no earlier revision
    assert verify_renewed_copy(issued + b"\n") is None  # bytes after the end are no revision

    # anything else appended after the seal (here: a new title) is not the issued document
    def retitle(writer: Any) -> None:
        info = writer.trailer["/Info"]
        info[generic.NameObject("/Title")] = generic.TextStringObject("Gefälscht")
        writer.update_container(info)

    assert verify_renewed_copy(_append_revision(renewed, retitle)) is None
    # an unsealed issued document with something appended is not accepted either
    plain = HTML(string="<p>Eingangsbestätigung</p>").write_pdf()
    assert isinstance(plain, bytes)
    ledger_services.append(document=plain, document_type="receipt", authority=authority)
    assert verify_renewed_copy(_append_revision(plain, retitle)) is None

    # the public page and the API say so
    settings.LEDGER_VERIFY_RATE_LIMITS = {"upload": (0, 60), "code": (0, 60)}
    page = client.post("/pruefen/", {"document": _upload(renewed)})
    assert page.status_code == 200
    text = page.content.decode()
    assert "enthält das ausgestellte Dokument unverändert" in text
    api = client.post("/api/v1/verify/", {"document": _upload(renewed)})
    assert api.status_code == 200 and api.json()["renewed_copy"] is True
    assert api.json()["status"] == "valid" and api.json()["seal"]["valid"] is True


def _upload(content: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("bescheid.pdf", content, content_type="application/pdf")


# --- one stamp's failure does not stop the others ---------------------------------------------


@pytest.fixture
def two_due_notices(
    authority: Authority, plan: FilePlan, monkeypatch: pytest.MonkeyPatch
) -> list[File]:
    """Two closed files whose notices' stamps are due, and a TSA stand-in that always renews."""
    from rathaus.records import preservation

    now = timezone.now()
    files = []
    for days, name in ((30, "Erika"), (40, "Max")):
        file = open_file(
            authority=authority, plan_key="11.30.01", title=f"Anmeldung {name}", actor=None
        )
        version = add_document(
            file=file,
            title="Bescheid",
            kind="notice",
            content=f"%PDF-1.7 Bescheid {name}".encode(),
            original_name="bescheid.pdf",
            content_type=PDF,
            actor=None,
        )
        ArchiveTimestamp.objects.create(
            version=version,
            expires_at=now + datetime.timedelta(days=days),
            imprint_algorithm="sha256",
            signature_algorithm="sha256",
        )
        files.append(close_file(file=file, actor=None))
    monkeypatch.setattr(
        preservation, "renew_archive_timestamp", lambda pdf, **kwargs: pdf + b"%renewed"
    )
    monkeypatch.setattr(preservation, "archive_timestamp_expiry", lambda pdf: now + TEN_YEARS)
    monkeypatch.setattr(
        preservation,
        "archive_timestamp_algorithms",
        lambda pdf: preservation.StampAlgorithms(imprint="sha512", signature="sha512"),
    )
    return files


def test_a_file_disposed_of_before_its_renewal_does_not_stop_the_others(
    two_due_notices: list[File], monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import transaction

    from rathaus.records import preservation
    from rathaus.records.disposal import _delete_documents

    disposed, kept = two_due_notices
    selected = preservation.due_for_renewal

    def then_disposed(**kwargs: Any) -> list[ArchiveTimestamp]:
        due = selected(**kwargs)
        with transaction.atomic():  # the disposal job, between the selection and the renewal
            _delete_documents(disposed)
            File.objects.filter(pk=disposed.pk).update(disposed_on=timezone.localdate())
        return due

    monkeypatch.setattr(preservation, "due_for_renewal", then_disposed)
    result = renew_archive_timestamps_job.call()
    assert len(result["failed"]) == 1
    assert result["failed"][0].startswith(disposed.reference)
    assert "disposed of meanwhile" in result["failed"][0]
    assert result["renewed"] == [f"{kept.reference} Bescheid v1 -> v2"]
    assert [v.number for v in _versions(kept, "Bescheid")] == [1, 2]
    assert not DocumentVersion.objects.filter(document__file=disposed).exists()


def test_an_unexpected_error_renewing_one_stamp_does_not_stop_the_others(
    two_due_notices: list[File], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from rathaus.records import preservation

    first, second = two_due_notices
    renewing = preservation.renew_archive_timestamp

    def breaks_on_the_first(pdf: bytes, **kwargs: Any) -> bytes:
        if b"Erika" in pdf:
            raise RuntimeError("connection reset by the TSA")
        return renewing(pdf, **kwargs)

    monkeypatch.setattr(preservation, "renew_archive_timestamp", breaks_on_the_first)
    with caplog.at_level(logging.ERROR, logger="rathaus.records.preservation"):
        result = renew_archive_timestamps()
    assert result.failed == [f"{first.reference} Bescheid v1: connection reset by the TSA"]
    assert result.renewed == [f"{second.reference} Bescheid v1 -> v2"]
    stamp = ArchiveTimestamp.objects.get(version__document__file=first)
    assert stamp.problem == "connection reset by the TSA" and stamp.problem_at is not None
    assert "RuntimeError" in caplog.text  # logged with its traceback
