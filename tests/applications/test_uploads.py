"""Uploads in the application flow: each bad file is refused with its reason, nothing is lost."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from rathaus.accounts.models import User
from rathaus.applications.models import Application, Attachment
from rathaus.applications.services import (
    ApplicationError,
    save_step,
    start_application,
    submit_application,
)
from rathaus.catalog.form_schemas import form_schema
from rathaus.catalog.models import Service
from rathaus.core.models import Municipality
from rathaus.forms.engine import StepResult, validate_step
from tests.fixtures.clamd import EICAR

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ELF = b"\x7fELF\x02\x01\x01" + b"\0" * 64
MOVE = {
    "move_in_date__day": "20",
    "move_in_date__month": "11",
    "move_in_date__year": "2026",
    "new_address__street": "Friedrich-Engels-Allee",
    "new_address__house_number": "12",
    "new_address__postal_code": "42283",
    "new_address__place": "Wuppertal",
    "residence_kind": "main",
}
PEOPLE = {
    "persons__rows": "1",
    "persons__1__name__given_names": "Erika",
    "persons__1__name__family_name": "Mustermann",
    "persons__1__birth_date__day": "27",
    "persons__1__birth_date__month": "3",
    "persons__1__birth_date__year": "1985",
    "persons__1__sex": "female",
    "persons__1__nationality": "deutsch",
}
SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.fixture
def upload_step(
    client: Client,
    citizen: User,
    demo: None,
    wuppertal: Municipality,
    settings: SettingsWrapper,
    clamd_address: str,
) -> tuple[Client, Application, str]:
    settings.CLAMD_ADDRESS = clamd_address
    service = Service.objects.get(slug="wohnsitz-anmelden")
    application = start_application(
        applicant=citizen, service=service, municipality=wuppertal, trust_level="high"
    )
    application.answers.update({"landlord_way": "upload", "move_in_date": "2026-11-20"})
    application.save()
    client.force_login(citizen)
    return client, application, f"/antraege/{application.public_id}/schritt/landlord_upload/"


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("eicar.pdf", b"%PDF-1.4\n" + EICAR, "Schadsoftware"),
        ("rechnung.pdf", ELF, "kein erlaubter Dokumenttyp"),
        ("logo.svg", SVG, "hat keinen zugelassenen Dateityp"),
        ("leer.pdf", b"", "leer"),
        ("gross.pdf", PDF + b"0" * (10 * 1024 * 1024), "größer als 10 MB"),
    ],
)
def test_bad_upload_is_refused_with_its_reason(
    upload_step: tuple[Client, Application, str], name: str, content: bytes, expected: str
) -> None:
    client, application, url = upload_step
    response = client.post(
        url, {"landlord_confirmation": SimpleUploadedFile(name, content)}, HTTP_ACCEPT_LANGUAGE="de"
    )
    body = response.content.decode()
    assert response.status_code == 400, body[:500]
    assert expected in body, re.findall(r"kern-alert__body.{0,400}", body, re.S)
    assert not Attachment.objects.exists()
    application.refresh_from_db()
    assert application.answers["landlord_way"] == "upload"  # earlier answers are kept


def test_good_upload_is_stored_with_its_hash(upload_step: tuple[Client, Application, str]) -> None:
    client, application, url = upload_step
    # the browser's claim is neither trusted nor stored (a long one would not even fit the column)
    claimed = "text/html; x=" + "y" * 150
    response = client.post(
        url,
        {"landlord_confirmation": SimpleUploadedFile("bestaetigung.pdf", PDF, claimed)},
    )
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert attachment.content_type == "application/pdf"
    assert attachment.size == len(PDF)
    application.refresh_from_db()
    stored = application.answers["landlord_confirmation"]
    assert stored[0]["name"] == "bestaetigung.pdf"
    assert len(stored[0]["sha256"]) == 64


@pytest.fixture
def vehicle_step(
    client: Client,
    citizen: User,
    demo: None,
    wuppertal: Municipality,
    settings: SettingsWrapper,
    clamd_address: str,
) -> tuple[Client, Application, str]:
    """The Bewohnerparkausweis step with a registration number and up to two files."""
    settings.CLAMD_ADDRESS = clamd_address
    service = Service.objects.get(slug="bewohnerparkausweis")
    application = start_application(
        applicant=citizen, service=service, municipality=wuppertal, trust_level="high"
    )
    client.force_login(citizen)
    return client, application, f"/antraege/{application.public_id}/schritt/vehicle/"


def test_a_file_accepted_on_a_step_with_another_error_is_kept(
    vehicle_step: tuple[Client, Application, str],
) -> None:
    """The browser does not send a file again: the citizen must not have to choose it twice."""
    client, application, url = vehicle_step
    response = client.post(
        url,
        {
            "plate": "kein Kennzeichen",
            "holder": "self",
            "registration_document": SimpleUploadedFile("schein.pdf", PDF),
        },
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert 'value="kein Kennzeichen"' in body
    assert "schein.pdf" in body  # listed as uploaded, with its remove box
    assert Attachment.objects.get().original_name == "schein.pdf"

    corrected = client.post(url, {"plate": "W-AB 1234", "holder": "self"})
    assert corrected.status_code == 302
    application.refresh_from_db()
    assert [f["name"] for f in application.answers["registration_document"]] == ["schein.pdf"]


def test_a_file_over_the_limit_is_not_read_beyond_it_and_nothing_typed_is_lost(
    vehicle_step: tuple[Client, Application, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file comes first in the body, the typed registration number after it."""
    from django.core.files import uploadhandler

    passed_on: dict[str, int] = {}
    for handler in (
        uploadhandler.MemoryFileUploadHandler,
        uploadhandler.TemporaryFileUploadHandler,
    ):
        original = handler.receive_data_chunk

        def counting(self: Any, raw_data: bytes, start: int, _original: Any = original) -> Any:
            name = type(self).__name__
            passed_on[name] = passed_on.get(name, 0) + len(raw_data)
            return _original(self, raw_data, start)

        monkeypatch.setattr(handler, "receive_data_chunk", counting)
    client, _application, url = vehicle_step
    limit = 10 * 1024 * 1024  # the field's max_size_mb (the schema's default)
    response = client.post(
        url,
        {
            "registration_document": SimpleUploadedFile("riesig.pdf", PDF + b"0" * (3 * limit)),
            "plate": "W-AB 1234",
            "holder": "self",
        },
        HTTP_ACCEPT_LANGUAGE="de",
    )
    body = response.content.decode()
    assert response.status_code == 400
    assert "Die Datei riesig.pdf ist größer als 10 MB." in body
    assert 'value="W-AB 1234"' in body  # typed after the file, still there
    assert not Attachment.objects.exists()
    # the handlers that keep files in memory or on disk got at most the limit of the 30 MB sent
    assert passed_on and all(0 < size <= limit for size in passed_on.values()), passed_on


def test_the_files_of_one_application_are_limited_in_total(
    vehicle_step: tuple[Client, Application, str], settings: SettingsWrapper
) -> None:
    client, _application, url = vehicle_step
    settings.APPLICATION_UPLOAD_LIMIT_MB = 1
    half = PDF + b"0" * (600 * 1024)
    both = client.post(
        url,
        {
            "plate": "W-AB 1234",
            "holder": "self",
            "registration_document": [
                SimpleUploadedFile("vorne.pdf", half),
                SimpleUploadedFile("hinten.pdf", half),
            ],
        },
    )
    body = both.content.decode()
    assert both.status_code == 400
    assert "höchstens 1 MB" in body, re.findall(r"kern-alert__body.{0,400}", body, re.S)
    assert 'value="W-AB 1234"' in body
    assert not Attachment.objects.exists()

    one = client.post(
        url,
        {
            "plate": "W-AB 1234",
            "holder": "self",
            "registration_document": SimpleUploadedFile("vorne.pdf", half),
        },
    )
    assert one.status_code == 302
    assert Attachment.objects.count() == 1


def test_the_total_is_checked_again_when_the_files_are_stored(
    citizen: User, demo: None, wuppertal: Municipality, settings: SettingsWrapper
) -> None:
    """Two tabs uploading at once: each was checked against the files stored before either."""
    settings.APPLICATION_UPLOAD_LIMIT_MB = 1
    service = Service.objects.get(slug="bewohnerparkausweis")
    application = start_application(
        applicant=citizen, service=service, municipality=wuppertal, trust_level="high"
    )
    schema, _digest = form_schema(service)
    half = PDF + b"0" * (600 * 1024)

    def posted() -> StepResult:
        return validate_step(
            schema,
            "vehicle",
            {"plate": "W-AB 1234", "holder": "self"},
            {"registration_document": [SimpleUploadedFile("a.pdf", half)]},
            answers=application.answers,
        )

    first, second = posted(), posted()
    save_step(application=application, result=first)
    with pytest.raises(ApplicationError, match="1 MB"):
        save_step(application=application, result=second)
    assert Attachment.objects.count() == 1


def test_files_of_a_step_that_no_longer_applies_are_deleted_and_not_sent(
    citizen: User,
    demo: None,
    wuppertal: Municipality,
    django_capture_on_commit_callbacks: Any,
) -> None:
    """The citizen uploads the landlord's confirmation, then names the landlord instead: the
    file is no answer any more, so it reaches neither the authority's file nor the receipt."""
    service = Service.objects.get(slug="wohnsitz-anmelden")
    application = start_application(
        applicant=citizen, service=service, municipality=wuppertal, trust_level="high"
    )
    schema, _digest = form_schema(service)

    def answer(step: str, data: dict[str, object], files: dict[str, object] | None = None) -> None:
        result = validate_step(schema, step, data, files, answers=application.answers)
        assert result.is_valid, result.errors
        save_step(application=application, result=result)

    answer("move", MOVE)
    answer("previous", {"previous_kept": "no"})
    answer("people", PEOPLE)
    answer("landlord", {"landlord_way": "upload"})
    answer(
        "landlord_upload",
        {},
        {"landlord_confirmation": SimpleUploadedFile("bestaetigung.pdf", PDF)},
    )
    stored = Attachment.objects.get()
    storage, name = stored.file.storage, stored.file.name
    with django_capture_on_commit_callbacks(execute=True):
        answer("landlord", {"landlord_way": "landlord_data"})
    answer(
        "landlord_details",
        {
            "landlord_name": "Hans Vermieter",
            "landlord_address__street": "Hofaue",
            "landlord_address__house_number": "5",
            "landlord_address__postal_code": "42103",
            "landlord_address__place": "Wuppertal",
        },
    )
    assert not Attachment.objects.exists()
    assert not storage.exists(name)
    sent = submit_application(
        application=application, idempotency_key="k", confirmed=True, actor=citizen
    )
    assert sent.case is not None and sent.case.file is not None
    assert not sent.case.file.documents.filter(kind="upload").exists()


def test_a_step_still_checks_csrf_with_the_size_cap_in_place(
    vehicle_step: tuple[Client, Application, str], citizen: User
) -> None:
    _client, application, url = vehicle_step
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(citizen)
    forged = strict.post(url, {"plate": "W-AB 1234", "holder": "self"})
    assert forged.status_code == 403
    page = strict.get("/antraege/").content.decode()  # its forms carry the token
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert token is not None
    honest = strict.post(
        url,
        {
            "plate": "W-AB 1234",
            "holder": "self",
            "registration_document": SimpleUploadedFile("schein.pdf", PDF),
            "csrfmiddlewaretoken": token[1],
        },
    )
    assert honest.status_code == 302  # past the CSRF check, the step saved
    application.refresh_from_db()
    assert application.answers["plate"] == "W-AB 1234"
