"""Limits of the verification API (``POST /api/v1/verify/``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler
from django.test import Client

from tests.accounts.factories import StaffFactory
from tests.documents.conftest import demo_seal_dir  # noqa: F401

pytestmark = pytest.mark.django_db
MB = 1024 * 1024


def test_oversized_upload_is_stopped_at_the_limit_and_refused_with_413(
    client: Client, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings.LEDGER_VERIFY_MAX_BYTES = MB
    seen = {TemporaryFileUploadHandler: 0, MemoryFileUploadHandler: 0}
    for handler in seen:
        receive = handler.receive_data_chunk

        def spy(self: Any, raw_data: bytes, start: int, _receive: Any = receive) -> Any:
            seen[type(self)] += len(raw_data)
            return _receive(self, raw_data, start)

        monkeypatch.setattr(handler, "receive_data_chunk", spy)
    pdf = b"%PDF-1.7\n" + b"0" * (8 * MB)
    response = client.post(
        "/api/v1/verify/",
        {"document": SimpleUploadedFile("big.pdf", pdf, content_type="application/pdf")},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 413
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 413
    assert body["detail"] == "The file is larger than 1 MB."
    assert max(seen.values()) <= MB  # what Django's handlers got to keep, in memory or on disk


def test_upload_at_the_limit_is_checked(client: Client, settings: Any) -> None:
    pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\nnot issued\n%%EOF\n"
    settings.LEDGER_VERIFY_MAX_BYTES = len(pdf)
    response = client.post(
        "/api/v1/verify/",
        {"document": SimpleUploadedFile("b.pdf", pdf, content_type="application/pdf")},
    )
    assert response.status_code == 200
    assert response.json()["status"] == "unknown"


def test_a_sealed_notice_with_a_new_title_appended_to_its_metadata_is_not_valid(
    client: Client,
    settings: Any,
    demo_seal_dir: Path,  # noqa: F811
) -> None:
    """The log knows the issued revision, but the XMP title changed after the seal: the file is
    not a renewed copy of the notice, so the answer is not "valid"."""
    from weasyprint import HTML

    from rathaus.core.models import Authority, Municipality
    from rathaus.documents.seal import seal_pdf, seal_signer
    from rathaus.ledger.issuing import issue_document
    from rathaus.ledger.sequencer import sequence
    from tests.documents.pdf_forgery import append_revision, retitle_in_new_xmp

    settings.VAR_DIR = demo_seal_dir
    settings.DOCUMENTS_SEAL_PKCS12 = settings.DOCUMENTS_SEAL_TRUST_ROOTS = ""
    town = Municipality.objects.create(
        name="Wuppertal", slug="wuppertal", ags="05124000", state=Municipality.State.NW
    )
    authority = Authority.objects.create(
        municipality=town, kind=Authority.Kind.CITIZENS_OFFICE, name="Bürgeramt Wuppertal"
    )
    rendered = HTML(string="<title>Ablehnung</title><p>Abgelehnt.</p>").write_pdf(
        pdf_variant="pdf/a-3u"
    )
    assert isinstance(rendered, bytes)
    notice = issue_document(
        render=lambda v: seal_pdf(rendered, signer=seal_signer(), location="Wuppertal"),
        document_type="notice",
        authority=authority,
    )
    sequence()
    forged = append_revision(notice.pdf, retitle_in_new_xmp)

    response = client.post(
        "/api/v1/verify/",
        {"document": SimpleUploadedFile("bescheid.pdf", forged, content_type="application/pdf")},
    )

    assert response.status_code == 200
    answer = response.json()
    assert answer["status"] == "unknown", answer
    assert answer["renewed_copy"] is False and answer["code"] is None


def test_staff_without_a_second_factor_can_verify_without_being_redirected(
    client: Client,
) -> None:
    """The API gives no staff powers: the second-factor redirect (accounts.middleware) is for
    pages, and would turn every answer of the public API into a 302 to /konto/2fa/."""
    client.force_login(StaffFactory())
    response = client.post("/api/v1/verify/", {"sha256": "a" * 64}, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["status"] == "unknown"
    assert not list(get_messages(response.wsgi_request))
    assert client.get("/backoffice/")["Location"] == "/konto/2fa/"  # pages still ask for it
