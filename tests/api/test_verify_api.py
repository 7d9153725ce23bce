"""Limits of the verification API (``POST /api/v1/verify/``)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler
from django.test import Client

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
