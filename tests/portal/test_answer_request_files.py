"""Answering a request for documents: the number of files is checked before any is read into
memory, and each file is read only when its turn to be checked comes."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from rathaus.accounts.models import User
from rathaus.applications import document_requests
from rathaus.applications.document_requests import (
    MAX_FILES,
    AnswerRefused,
    answer_document_request,
)
from rathaus.applications.models import Application
from rathaus.applications.services import start_application, submit_application
from rathaus.casework import services as casework
from rathaus.casework.models import DocumentRequest
from rathaus.catalog.models import Service
from rathaus.core.models import Municipality
from rathaus.portal import case_views
from tests.applications.conftest import (  # noqa: F401
    _forget_form_versions,
    citizen,
    demo,
    meldebescheinigung,
    wuppertal,
)
from tests.applications.meldebescheinigung import answer_all
from tests.casework.conftest import make_staff  # noqa: F401
from tests.fixtures.clamd import clamd_address  # noqa: F401

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
TOO_MANY = "Bitte laden Sie höchstens 10 Dateien hoch."


@pytest.fixture
def open_request(
    citizen: User,  # noqa: F811
    meldebescheinigung: Service,  # noqa: F811
    wuppertal: Municipality,  # noqa: F811
    make_staff: Callable[..., User],  # noqa: F811
) -> tuple[Application, DocumentRequest]:
    application = start_application(
        applicant=citizen, service=meldebescheinigung, municipality=wuppertal, trust_level="high"
    )
    answer_all(application)
    application = submit_application(
        application=application, idempotency_key="k", confirmed=True, actor=citizen
    )
    assert application.case is not None
    clerk = make_staff(application.case.org_unit)
    request = casework.request_documents(
        case=application.case,
        description="Ausweiskopie",
        due_on=timezone.localdate() + datetime.timedelta(days=5),
        actor=clerk,
    )
    return application, request


def test_too_many_files_are_refused_beside_the_field_before_any_is_read(
    client: Client,
    citizen: User,  # noqa: F811
    open_request: tuple[Application, DocumentRequest],
) -> None:
    application, request = open_request
    client.force_login(citizen)
    files = [SimpleUploadedFile(f"d{i}.pdf", PDF) for i in range(MAX_FILES + 5)]
    with mock.patch.object(
        case_views, "answer_document_request", wraps=case_views.answer_document_request
    ) as answered:
        response = client.post(
            f"/antraege/{application.public_id}/unterlagen/{request.public_id}/",
            {"documents": files, "note": "Mein Kommentar"},
        )
    body = response.content.decode()
    assert response.status_code == 400
    assert TOO_MANY in body
    assert "Mein Kommentar" in body  # what was typed is kept
    answered.assert_not_called()  # no file was read for it
    request.refresh_from_db()
    assert request.status == DocumentRequest.Status.OPEN


def test_no_file_is_read_when_their_number_is_refused(
    citizen: User,  # noqa: F811
    open_request: tuple[Application, DocumentRequest],
) -> None:
    application, request = open_request
    read: list[str] = []

    def reader(name: str) -> Callable[[], bytes]:
        def read_file() -> bytes:
            read.append(name)
            return PDF

        return read_file

    files = [(f"d{i}.pdf", reader(f"d{i}.pdf")) for i in range(MAX_FILES + 1)]
    with pytest.raises(AnswerRefused) as refused:
        answer_document_request(
            application=application, request=request, files=files, note="", actor=citizen
        )
    assert refused.value.field_errors["files"] == [TOO_MANY]
    assert read == []


def test_each_file_is_read_only_when_it_is_checked(
    citizen: User,  # noqa: F811
    open_request: tuple[Application, DocumentRequest],
    clamd_address: str,  # noqa: F811
    settings: Any,
) -> None:
    settings.CLAMD_ADDRESS = clamd_address
    application, request = open_request
    events: list[str] = []
    honest_check = document_requests.check_upload

    def check(*, name: str, data: bytes) -> Any:
        events.append(f"check {name}")
        return honest_check(name=name, data=data)

    def reader(name: str) -> Callable[[], bytes]:
        def read_file() -> bytes:
            events.append(f"read {name}")
            return PDF

        return read_file

    files = [(f"d{i}.pdf", reader(f"d{i}.pdf")) for i in range(3)]
    with mock.patch.object(document_requests, "check_upload", check):
        answer_document_request(
            application=application, request=request, files=files, note="", actor=citizen
        )
    assert events == [
        "read d0.pdf",
        "check d0.pdf",
        "read d1.pdf",
        "check d1.pdf",
        "read d2.pdf",
        "check d2.pdf",
    ]
    request.refresh_from_db()
    assert request.status != DocumentRequest.Status.OPEN


@pytest.mark.parametrize(
    ("language", "label", "message"),
    [
        ("de", "Unterlagen", "Bitte wählen Sie mindestens eine Datei aus."),
        ("en", "Documents", "Please choose at least one file."),
    ],
)
def test_the_documents_are_required_and_say_so_beside_the_field(
    client: Client,
    citizen: User,  # noqa: F811
    open_request: tuple[Application, DocumentRequest],
    language: str,
    label: str,
    message: str,
) -> None:
    """The answer is refused without a file, so the field is not labelled optional; sent
    without one, the message stands beside the field and the comment typed is kept."""
    application, request = open_request
    client.force_login(citizen)
    client.cookies["django_language"] = language
    url = f"/antraege/{application.public_id}/unterlagen/{request.public_id}/"
    page = client.get(url).content.decode()
    assert f'for="id_documents">{label}</label>' in page
    response = client.post(url, {"note": "Mein Kommentar"})
    body = response.content.decode()
    assert response.status_code == 400
    beside = body[body.index('id="id_documents_error"') :]
    assert message in beside[: beside.index("</p>")]  # the field's own error
    assert "Mein Kommentar" in body
    request.refresh_from_db()
    assert request.status == DocumentRequest.Status.OPEN


def test_the_comment_label_says_optional_once(
    client: Client,
    citizen: User,  # noqa: F811
    open_request: tuple[Application, DocumentRequest],
) -> None:
    application, request = open_request
    client.force_login(citizen)
    client.cookies["django_language"] = "en"
    page = client.get(f"/antraege/{application.public_id}/unterlagen/{request.public_id}/")
    html = page.content.decode()
    assert 'for="id_note">Comment for the authority <span class="kern-label__optional">' in html
    assert "(optional)" not in html
