"""The receipt carries the GovChain verification mark and its hash is logged as a receipt."""

from __future__ import annotations

import hashlib
import io

import pytest
from django.core.management import call_command
from pypdf import PdfReader

from rathaus.accounts.models import User
from rathaus.applications.models import Application
from rathaus.applications.receipts import render_receipt
from rathaus.applications.services import start_application, submit_application
from rathaus.catalog.models import Service
from rathaus.core.models import Municipality
from rathaus.ledger.leaves import format_code
from rathaus.ledger.models import Entry
from rathaus.ledger.selectors import Status, verify_document
from rathaus.ledger.sequencer import sequence
from tests.applications.meldebescheinigung import answer_all


@pytest.mark.django_db(transaction=True)
def test_receipt_shows_qr_code_and_short_code_and_is_logged_as_receipt(
    citizen: User, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    application = start_application(
        applicant=citizen, service=meldebescheinigung, municipality=wuppertal, trust_level="high"
    )
    answer_all(application, {"kind": "simple", "purpose": "Arbeitgeber"})
    submit_application(application=application, idempotency_key="v1", confirmed=True, actor=citizen)
    call_command("db_worker", batch=True, no_startup_delay=True, queue_name="*", verbosity=0)
    application.refresh_from_db()
    pdf = application.receipt.read()

    entry = Entry.objects.get(document_sha256=hashlib.sha256(pdf).hexdigest())
    assert entry.document_type == "receipt"
    assert entry.authority_id == application.authority_id
    assert application.receipt_sha256 == entry.document_sha256

    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert format_code(entry.code) in text
    assert f"/pruefen/{format_code(entry.code)}" in text
    images = [img for page in PdfReader(io.BytesIO(pdf)).pages for img in page.images]
    assert images, "the QR code is embedded as an image"

    sequence()
    assert verify_document(document=pdf).status == Status.VALID
    # the job runs again (retry): nothing new is logged
    assert render_receipt.call(application.pk) == "exists"
    assert Entry.objects.count() == 1
    assert Application.objects.get(pk=application.pk).receipt_sha256 == entry.document_sha256
