"""Uploads in the application flow: each bad file is refused with its reason, nothing is lost."""

from __future__ import annotations

import hashlib
import io
import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image
from pypdf import PdfReader
from pytest_django.fixtures import Settings as SettingsWrapper

from rathaus.accounts.models import User
from rathaus.applications.models import Application, Attachment
from rathaus.applications.services import (
    ApplicationError,
    complete_submission,
    keep_uploads,
    save_step,
    start_application,
    submit_application,
)
from rathaus.catalog.form_schemas import form_schema
from rathaus.catalog.models import Service
from rathaus.core.models import Municipality
from rathaus.core.scanning import ScanResult
from rathaus.forms.engine import StepResult, validate_step
from tests.applications.test_payment_flow import fill_parking_permit
from tests.applications.wohnsitz import ADULT, people
from tests.fixtures.clamd import EICAR

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def pdf_of(padding: int) -> bytes:
    """A complete PDF ``padding`` bytes larger than :data:`PDF` (a comment inside, so that it
    still ends as a PDF must)."""
    return PDF.replace(b"\n", b"\n%" + b"0" * (padding - 2) + b"\n", 1)


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
PEOPLE = people(ADULT)
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
        ("gross.pdf", pdf_of(10 * 1024 * 1024), "größer als 10 MB"),
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


def test_a_motion_photo_with_the_wrong_ending_is_stored_as_the_photo_it_is(
    upload_step: tuple[Client, Application, str],
) -> None:
    """A phone's motion photo, its name changed to ".png": the JPEG is stored without the video
    behind it, named ".jpg", and its hash and size are those of what is stored."""
    client, application, url = upload_step
    out = io.BytesIO()
    Image.frombytes("RGB", (64, 48), bytes(range(256)) * 36).save(out, "JPEG")
    photo = out.getvalue()
    video = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64
    upload = SimpleUploadedFile("Mietvertrag.png", photo + video, "image/png")
    response = client.post(url, {"landlord_confirmation": upload})
    assert response.status_code == 302
    attachment = Attachment.objects.get()
    assert (attachment.original_name, attachment.content_type) == ("Mietvertrag.jpg", "image/jpeg")
    assert attachment.size == len(photo)
    assert attachment.sha256 == hashlib.sha256(photo).hexdigest()
    with attachment.file.open("rb") as stored:
        assert stored.read() == photo
    application.refresh_from_db()
    [descriptor] = application.answers["landlord_confirmation"]
    assert (descriptor["name"], descriptor["size"]) == ("Mietvertrag.jpg", len(photo))


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
            "registration_document": SimpleUploadedFile("riesig.pdf", pdf_of(3 * limit)),
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
    half = pdf_of(600 * 1024)
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


class CountingScanner:
    """A clean verdict for every file, counting the scans (``settings.VIRUS_SCANNER``)."""

    scanned: list[int] = []

    def scan(self, data: bytes) -> ScanResult:
        CountingScanner.scanned.append(len(data))
        return ScanResult(clean=True)


@pytest.fixture
def counting_scanner(settings: SettingsWrapper) -> list[int]:
    settings.VIRUS_SCANNER = f"{__name__}.CountingScanner"
    CountingScanner.scanned = []
    return CountingScanner.scanned


def test_files_that_cannot_be_kept_are_refused_before_they_are_scanned(
    vehicle_step: tuple[Client, Application, str],
    settings: SettingsWrapper,
    counting_scanner: list[int],
) -> None:
    """Twenty files for a field that takes two, with room for one: a scan each would let one
    request keep the scanner busy for nothing."""
    client, _application, url = vehicle_step
    settings.APPLICATION_UPLOAD_LIMIT_MB = 1
    half = pdf_of(600 * 1024)
    many = client.post(
        url,
        {
            "plate": "W-AB 1234",
            "holder": "self",
            "registration_document": [SimpleUploadedFile(f"seite{n}.pdf", half) for n in range(20)],
        },
        HTTP_ACCEPT_LANGUAGE="de",
    )
    body = many.content.decode()
    assert many.status_code == 400
    assert "Laden Sie höchstens 2 Dateien hoch." in body
    assert 'value="W-AB 1234"' in body
    assert counting_scanner == []

    two = client.post(
        url,
        {
            "plate": "W-AB 1234",
            "holder": "self",
            "registration_document": [
                SimpleUploadedFile("vorne.pdf", half),
                SimpleUploadedFile("hinten.pdf", half),
            ],
        },
        HTTP_ACCEPT_LANGUAGE="de",
    )
    assert two.status_code == 400
    assert "höchstens 1 MB" in two.content.decode()
    assert len(counting_scanner) == 1  # the second file did not fit: not scanned
    assert not Attachment.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_replaced_file_the_storage_fails_to_delete_keeps_the_new_one_and_is_retried(
    citizen: User, demo: None, wuppertal: Municipality, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old file's deletion runs after the commit: its failure must neither fail the saved
    step nor take the new file (which the committed answers refer to) with it."""
    from django.core.files.storage import InMemoryStorage

    from rathaus.applications.models import PendingFileDeletion
    from rathaus.applications.uploads import delete_pending_files

    service = Service.objects.get(slug="bewohnerparkausweis")
    application = start_application(
        applicant=citizen, service=service, municipality=wuppertal, trust_level="high"
    )
    schema, _digest = form_schema(service)
    vehicle = {"plate": "W-AB 1234", "holder": "self"}

    def vehicle_step(data: dict[str, Any], name: str) -> StepResult:
        result = validate_step(
            schema,
            "vehicle",
            {**vehicle, **data},
            {"registration_document": [SimpleUploadedFile(name, PDF)]},
            answers=application.answers,
        )
        assert result.is_valid, result.errors
        return result

    save_step(application=application, result=vehicle_step({}, "alt.pdf"))
    old = Attachment.objects.get()
    storage, old_name = old.file.storage, old.file.name
    original = InMemoryStorage.delete
    failures: list[str] = []

    def delete_fails_once(self: InMemoryStorage, name: str) -> None:
        if name == old_name and not failures:
            failures.append(name)
            raise OSError("storage not reachable")
        original(self, name)

    monkeypatch.setattr(InMemoryStorage, "delete", delete_fails_once)
    replaced = vehicle_step({"registration_document__remove": str(old.pk)}, "neu.pdf")
    assert save_step(application=application, result=replaced) is not None  # no 500
    assert failures == [old_name]
    new = Attachment.objects.get()
    assert new.original_name == "neu.pdf"
    assert storage.exists(new.file.name)
    application.refresh_from_db()
    assert [f["name"] for f in application.answers["registration_document"]] == ["neu.pdf"]
    pending = PendingFileDeletion.objects.get()
    assert (pending.storage_name, pending.attempts) == (old_name, 1)
    assert storage.exists(old_name)

    assert delete_pending_files() == 0  # the hourly retry
    assert not storage.exists(old_name)
    assert not PendingFileDeletion.objects.exists()
    assert storage.exists(new.file.name)


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
    half = pdf_of(600 * 1024)

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


def test_file_of_a_hidden_field_kept_on_an_error_step_does_not_reach_the_case(
    citizen: User, demo: None, wuppertal: Municipality
) -> None:
    """Back on the vehicle step with "self" saved, the citizen picks "company", uploads a proof
    of use and mistypes the plate: the proof is kept for the step, but it is no answer of the
    declaration sent from the review page, so it reaches neither the E-Akte nor the receipt."""
    service = Service.objects.get(slug="bewohnerparkausweis")
    app = start_application(
        applicant=citizen, service=service, municipality=wuppertal, trust_level="high"
    )
    fill_parking_permit(app)
    schema, _ = form_schema(service)
    result = validate_step(
        schema,
        "vehicle",
        {"plate": "kein Kennzeichen", "holder": "company"},
        {"usage_proof": SimpleUploadedFile("arbeitgeber.pdf", PDF)},
        answers=app.answers,
    )
    assert not result.is_valid
    keep_uploads(application=app, result=result)
    sent = submit_application(application=app, idempotency_key="k", confirmed=True, actor=citizen)
    assert "usage_proof" not in (sent.submitted_data or {})
    assert list(sent.attachments.values_list("original_name", flat=True)) == ["zb1.pdf"]
    sent = complete_submission(application_id=sent.pk)
    assert sent.case is not None and sent.case.file is not None
    docs = list(sent.case.file.documents.filter(kind="upload").values_list("title", flat=True))
    assert docs == ["zb1.pdf"]


def test_a_file_no_answer_of_the_declaration_names_is_neither_filed_nor_on_the_receipt(
    citizen: User, demo: None, wuppertal: Municipality
) -> None:
    """An application sent before unused files were dropped at submission still holds one:
    the case's file and the receipt take only the files the frozen declaration refers to."""
    from django.core.files.base import ContentFile

    from rathaus.applications.receipts import build_receipt

    service = Service.objects.get(slug="bewohnerparkausweis")
    app = start_application(
        applicant=citizen, service=service, municipality=wuppertal, trust_level="high"
    )
    fill_parking_permit(app)
    sent = submit_application(application=app, idempotency_key="k", confirmed=True, actor=citizen)
    stray = Attachment(
        application=sent, field_id="usage_proof", original_name="arbeitgeber.pdf", size=len(PDF)
    )
    stray.file.save("stray", ContentFile(PDF), save=True)
    sent = complete_submission(application_id=sent.pk)
    assert sent.case is not None and sent.case.file is not None
    docs = list(sent.case.file.documents.filter(kind="upload").values_list("title", flat=True))
    assert docs == ["zb1.pdf"]
    pdf = build_receipt(sent)
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "zb1.pdf" in text
    assert "arbeitgeber.pdf" not in text


def test_a_step_whose_files_do_not_fit_together_stores_none_of_them(
    citizen: User, demo: None, wuppertal: Municipality, settings: SettingsWrapper
) -> None:
    """The room is checked for all the step's files before any is written: a refused step
    leaves no file in storage that no row refers to."""
    from django.core.files.storage import default_storage

    settings.APPLICATION_UPLOAD_LIMIT_MB = 1
    service = Service.objects.get(slug="bewohnerparkausweis")
    app = start_application(
        applicant=citizen, service=service, municipality=wuppertal, trust_level="high"
    )
    schema, _digest = form_schema(service)
    first = validate_step(
        schema,
        "vehicle",
        {"plate": "W-AB 1234", "holder": "self"},
        {"registration_document": SimpleUploadedFile("a.pdf", pdf_of(600 * 1024))},
        answers=app.answers,
    )
    save_step(application=app, result=first)
    second = validate_step(
        schema,
        "vehicle",
        {"plate": "W-AB 1234", "holder": "company"},
        {
            "registration_document": SimpleUploadedFile("b.pdf", pdf_of(100 * 1024)),
            "usage_proof": SimpleUploadedFile("c.pdf", pdf_of(600 * 1024)),
        },
        answers=app.answers,
    )
    assert second.is_valid, second.errors
    with pytest.raises(ApplicationError, match="1 MB"):
        save_step(application=app, result=second)
    _dirs, files = default_storage.listdir(f"applications/{app.public_id}")
    assert len(files) == 1
    assert Attachment.objects.count() == 1


def test_files_refused_under_the_lock_show_the_step_again_with_everything_typed(
    vehicle_step: tuple[Client, Application, str],
    settings: SettingsWrapper,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another tab stored files after this page checked the room: the step is shown again with
    the reason beside the file field and the typed registration number, not left for another
    page."""
    from rathaus.portal import application_views

    client, application, url = vehicle_step
    settings.APPLICATION_UPLOAD_LIMIT_MB = 1
    # the check before the lock still saw the room the other tab's file has taken since
    monkeypatch.setattr(application_views, "upload_room", lambda application: 10 * 1024 * 1024)
    half = pdf_of(600 * 1024)
    other_tab = validate_step(
        form_schema(application.service)[0],
        "vehicle",
        {"plate": "W-AB 1234", "holder": "self"},
        {"registration_document": SimpleUploadedFile("vorne.pdf", half)},
        answers=application.answers,
    )
    save_step(application=application, result=other_tab)
    for language, expected in [("de", "höchstens 1 MB"), ("en", "at most 1 MB")]:
        response = client.post(
            url,
            {
                "plate": "W-XY 987",
                "holder": "self",
                "registration_document": SimpleUploadedFile("hinten.pdf", half),
            },
            HTTP_ACCEPT_LANGUAGE=language,
        )
        body = response.content.decode()
        assert response.status_code == 400, response
        assert 'value="W-XY 987"' in body
        assert expected in body
        beside = re.search(
            r'class="kern-error" id="([^"]*registration_document[^"]*)">(.*?)</div>', body, re.S
        )
        assert beside is not None and expected in beside[2], body
    assert list(Attachment.objects.values_list("original_name", flat=True)) == ["vorne.pdf"]
    application.refresh_from_db()
    assert application.answers["plate"] == "W-AB 1234"
