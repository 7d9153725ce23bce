"""The receipt PDF lists everything submitted and is produced by the background worker."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from pypdf import PdfReader

from rathaus.accounts.models import User
from rathaus.applications.models import Application
from rathaus.applications.services import (
    complete_submission,
    start_application,
    submit_application,
)
from rathaus.catalog.models import Service
from rathaus.core.models import Municipality
from tests.applications.meldebescheinigung import answer_all


def _submitted(citizen: User, service: Service, municipality: Municipality) -> Application:
    application = start_application(
        applicant=citizen, service=service, municipality=municipality, trust_level="high"
    )
    answer_all(application, {"kind": "extended", "purpose": "Heirat"})
    return submit_application(
        application=application, idempotency_key="r1", confirmed=True, actor=citizen
    )


@pytest.mark.django_db(transaction=True)
def test_worker_renders_a_receipt_with_the_whole_declaration(
    citizen: User, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    application = _submitted(citizen, meldebescheinigung, wuppertal)
    assert not application.receipt
    call_command("db_worker", batch=True, no_startup_delay=True, queue_name="*", verbosity=0)
    application.refresh_from_db()
    assert application.receipt
    pdf = application.receipt.read()
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert application.reference in text
    assert "Mustermann" in text
    assert "Erweiterte Meldebescheinigung" in text
    assert "Heirat" in text
    assert "Remscheid" in text  # the responsible authority in the letterhead

    client = Client()
    client.force_login(citizen)
    response = client.get(f"/antraege/{application.public_id}/eingangsbestaetigung.pdf")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert b"".join(response.streaming_content).startswith(b"%PDF")  # type: ignore[attr-defined]

    other = Client()
    other.force_login(User.objects.create_user("other@example.org", "x"))
    assert (
        other.get(f"/antraege/{application.public_id}/eingangsbestaetigung.pdf").status_code == 404
    )


@pytest.mark.django_db(transaction=True)
def test_the_receipt_job_reads_what_it_needs_once(
    citizen: User, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    """One locked read of the application with its service, authority, applicant and case; the
    E-Akte and the Postfach reuse it (the postal-vote rush renders thousands of receipts)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rathaus.applications.receipts import render_receipt

    application = _submitted(citizen, meldebescheinigung, wuppertal)
    with CaptureQueriesContext(connection) as queries:
        assert render_receipt.call(application.pk) == "stored"
    reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    tables = [sql.split(" FROM ", 1)[1].split()[0].strip('"') for sql in reads]
    assert tables.count("applications_application") == 1
    for table in ("accounts_profile", "accounts_user", "catalog_service", "casework_case"):
        assert table not in tables, reads
    assert tables.count("records_file") == 1  # the lock before numbering the document
    assert render_receipt.call(application.pk) == "exists"


@pytest.mark.django_db(transaction=True)
def test_a_lost_receipt_job_is_queued_again_but_a_waiting_one_is_not_doubled(
    citizen: User, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    import datetime

    from django.utils import timezone
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    from rathaus.applications.receipts import (
        RECEIPT_MISSING_AFTER,
        queue_missing_receipts,
        render_receipt,
    )

    application = _submitted(citizen, meldebescheinigung, wuppertal)
    jobs = DBTaskResult.objects.filter(task_path=render_receipt.module_path)
    [queued] = jobs
    assert queue_missing_receipts.call() == 0  # too recent: its job may still be on its way
    long_ago = timezone.now() - RECEIPT_MISSING_AFTER - datetime.timedelta(minutes=1)
    Application.objects.filter(pk=application.pk).update(submitted_at=long_ago)
    assert queue_missing_receipts.call() == 0  # its job still waits in the queue
    DBTaskResult.objects.filter(pk=queued.pk).update(
        status=TaskResultStatus.RUNNING, started_at=timezone.now()
    )
    assert queue_missing_receipts.call() == 0  # running
    DBTaskResult.objects.filter(pk=queued.pk).update(started_at=long_ago)
    assert queue_missing_receipts.call() == 1  # running for ever: its worker was killed
    assert jobs.filter(status=TaskResultStatus.READY).count() == 1
    assert queue_missing_receipts.call() == 0  # the new one waits now

    jobs.filter(status=TaskResultStatus.READY).delete()  # lost before it was ever queued
    assert queue_missing_receipts.call() == 1
    call_command("db_worker", batch=True, no_startup_delay=True, queue_name="*", verbosity=0)
    application.refresh_from_db()
    assert application.receipt and application.receipt_sha256
    assert queue_missing_receipts.call() == 0  # nothing missing any more


def _receipt_files() -> set[str]:
    from django.core.files.storage import default_storage
    from django.utils import timezone

    folder = f"receipts/{timezone.localdate().year}"
    if not default_storage.exists(folder):
        return set()
    return set(default_storage.listdir(folder)[1])


def test_a_failed_receipt_attempt_leaves_no_file_behind(
    citizen: User,
    meldebescheinigung: Service,
    wuppertal: Municipality,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The receipt holds the whole declaration: an attempt that rolls back deletes its PDF,
    so retries do not pile up files nothing refers to."""
    from rathaus.applications import receipts

    def unreachable(application: Application, pdf: bytes) -> None:
        raise RuntimeError("Postfach unreachable")

    application = _submitted(citizen, meldebescheinigung, wuppertal)
    monkeypatch.setattr(receipts, "_deliver_to_mailbox", unreachable)
    before = _receipt_files()
    assert receipts.render_receipt.call(application.pk) is None  # failed, retry queued
    application.refresh_from_db()
    assert not application.receipt
    assert _receipt_files() == before


def test_the_receipt_reaches_the_citizen_when_the_case_file_was_closed_first(
    citizen: User,
    meldebescheinigung: Service,
    wuppertal: Municipality,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A backlog of receipt jobs (postal-vote rush): the clerk closed the case's file before
    its receipt was rendered. The closed E-Akte takes no document, but the citizen still gets
    the receipt and the Postfach copy (§ 9a Abs. 3 OZG), and the job does not fail for ever."""
    from rathaus.applications.receipts import render_receipt
    from rathaus.mailbox.models import Message
    from rathaus.records.services import close_file

    application = _submitted(citizen, meldebescheinigung, wuppertal)
    assert application.case is not None and application.case.file is not None
    file = application.case.file
    close_file(file=file, actor=None)
    documents = file.documents.count()
    assert render_receipt.call(application.pk) == "stored"
    application.refresh_from_db()
    assert application.receipt and application.receipt_sha256
    assert Message.objects.filter(owner=citizen, kind="receipt").exists()
    assert file.documents.count() == documents
    assert "case file closed" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_an_application_withdrawn_before_its_receipt_was_made_still_gets_it(
    citizen: User, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    """It reached the authority: the citizen's copy of the declaration is due all the same."""
    from rathaus.applications.document_requests import withdraw_application
    from rathaus.applications.receipts import render_receipt
    from rathaus.mailbox.models import Message

    application = _submitted(citizen, meldebescheinigung, wuppertal)
    withdraw_application(application=application, actor=citizen)
    application.refresh_from_db()
    assert application.status == Application.Status.WITHDRAWN

    assert render_receipt.call(application.pk) == "stored"
    application.refresh_from_db()
    assert application.receipt
    assert Message.objects.filter(owner=citizen, kind="receipt").exists()


@pytest.mark.django_db(transaction=True)
def test_a_hook_failing_after_the_commit_keeps_the_stored_receipt(
    citizen: User,
    meldebescheinigung: Service,
    wuppertal: Municipality,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The Postfach copy's e-mail is queued after the commit: if that fails, the receipt row,
    its GovChain entry and the Postfach copy are committed, so its file must stay."""
    from django.db import OperationalError

    from rathaus.applications.receipts import render_receipt
    from rathaus.mailbox import services as mailbox_services

    application = _submitted(citizen, meldebescheinigung, wuppertal)

    def queue_fails(message_id: int) -> None:
        raise OperationalError("the task queue is not reachable")

    monkeypatch.setattr(mailbox_services, "_queue_notification", queue_fails)
    render_receipt.call(application.pk)  # the job's retry is queued; it would find "exists"
    application.refresh_from_db()
    assert application.receipt
    assert application.receipt.storage.exists(application.receipt.name)
    client = Client()
    client.force_login(citizen)
    response = client.get(f"/antraege/{application.public_id}/eingangsbestaetigung.pdf")
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")  # type: ignore[attr-defined]
    assert render_receipt.call(application.pk) == "exists"


def test_an_english_receipt_has_an_english_title_and_subject(
    citizen: User, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    """The title is what a PDF viewer shows (DisplayDocTitle) and what a screen reader announces
    first: in the receipt's language (its /Lang), as the text is."""
    from rathaus.applications.receipts import build_receipt

    citizen.profile.preferred_language = "en"
    citizen.profile.save()
    application = _submitted(citizen, meldebescheinigung, wuppertal)
    application.refresh_from_db()
    document = PdfReader(io.BytesIO(build_receipt(application)))
    root: Any = document.trailer["/Root"]
    assert root["/Lang"] == "en"
    assert document.metadata is not None
    assert document.metadata.title == f"Receipt {application.reference}"
    assert document.metadata.subject == meldebescheinigung.name_en != meldebescheinigung.name_de


def _laid_out_receipt(application: Application, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The receipt of ``application`` laid out by WeasyPrint as the job renders it (its HTML and
    stylesheets), to measure where its text ends."""
    from weasyprint import HTML

    from rathaus.applications import receipts
    from rathaus.documents.rendering import _toolkit_for_thread, render_html

    document: dict[str, Any] = {}

    def keep(**kwargs: Any) -> bytes:
        document.update(kwargs)
        return b"%PDF-1.7\n%%EOF\n"

    monkeypatch.setattr(receipts, "render_pdf", keep)
    receipts.build_receipt(application)
    toolkit = _toolkit_for_thread()
    return HTML(string=render_html(**document), url_fetcher=toolkit.fetcher).render(
        stylesheets=toolkit.stylesheets, font_config=toolkit.font_config
    )


def _text_beyond_the_right_margin(document: Any) -> list[str]:
    """The text boxes of ``document`` that end right of the page's content area."""
    from weasyprint.formatting_structure.boxes import TextBox

    def walk(box: Any) -> Any:
        box = getattr(box, "_box", box)  # absolutely positioned boxes sit in a placeholder
        yield box
        for child in getattr(box, "children", ()):
            yield from walk(child)

    beyond = []
    for page in document.pages:
        page_box = page._page_box
        right = page_box.content_box_x() + page_box.width
        for box in walk(page_box):
            if isinstance(box, TextBox) and box.position_x + box.width > right + 0.5:
                beyond.append(box.text)
    return beyond


def test_a_long_file_name_and_a_long_answer_wrap_within_the_page(
    citizen: User, demo: None, wuppertal: Municipality, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Names and answers without a space (a scanner's file name, an e-mail address) must wrap
    rather than run off the page, where the printed receipt would lose them."""
    from rathaus.applications.models import Attachment
    from tests.applications.test_payment_flow import fill_parking_permit

    service = Service.objects.get(slug="bewohnerparkausweis")
    application = start_application(
        applicant=citizen, service=service, municipality=wuppertal, trust_level="high"
    )
    fill_parking_permit(application)
    submit_application(
        application=application, idempotency_key="long", confirmed=True, actor=citizen
    )
    sent = complete_submission(application_id=application.pk)  # as if the fee was paid
    long_name = "Scan_" + "_".join(["Zulassungsbescheinigung_Teil_I"] * 4) + "_Seite_1.pdf"
    assert len(long_name) >= 130
    Attachment.objects.filter(application=sent).update(original_name=long_name)
    sent.submitted_data = {**(sent.submitted_data or {}), "zone": "Zone_" + "x" * 120}
    sent.save(update_fields=["submitted_data"])
    sent.refresh_from_db()
    assert _text_beyond_the_right_margin(_laid_out_receipt(sent, monkeypatch)) == []
