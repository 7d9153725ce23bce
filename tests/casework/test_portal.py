"""The citizen's side: submitting opens the case; opt-out of electronic delivery; the status
timeline; answering a request for documents with checked uploads; withdrawing."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone, translation

from rathaus.accounts.models import User
from rathaus.applications.models import Application
from rathaus.applications.services import start_application, submit_application
from rathaus.casework import services as casework
from rathaus.casework.models import Case, CaseEvent, DocumentRequest
from rathaus.catalog.models import Responsibility, Service
from rathaus.core.models import AuditEvent, Municipality, OrgUnit
from rathaus.portal.application_list import application_list
from tests.accounts.factories import ProfileFactory
from tests.applications.meldebescheinigung import answer_all
from tests.casework.revocations import revoke

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def service(full_demo: None) -> Service:
    service = Service.objects.get(slug="meldebescheinigung")
    Responsibility.objects.filter(service=service).update(local_fee=None)
    return service


@pytest.fixture
def home(full_demo: None) -> Municipality:
    return Municipality.objects.get(ags="05124000")


@pytest.fixture
def logged_in(client: Client, citizen: User) -> Client:
    client.force_login(citizen)
    session = client.session
    session["rathaus_trust_level"] = "high"
    session.save()
    return client


def _draft(citizen: User, service: Service, home: Municipality) -> Application:
    application = start_application(
        applicant=citizen, service=service, municipality=home, trust_level="high"
    )
    answer_all(application)
    return application


def _submitted(citizen: User, service: Service, home: Municipality, key: str = "k1") -> Application:
    application = submit_application(
        application=_draft(citizen, service, home),
        idempotency_key=key,
        confirmed=True,
        actor=citizen,
    )
    application.refresh_from_db()
    return application


def test_submitting_opens_the_case_in_the_same_transaction(
    citizen: User, service: Service, home: Municipality
) -> None:
    application = _submitted(citizen, service, home)
    case = application.case
    assert case is not None
    assert case.authority == application.authority
    assert case.org_unit == OrgUnit.objects.get(authority=application.authority, code="33.1")
    assert case.applicant == citizen and case.electronic_delivery
    assert case.particulars["name"]["family_name"] == "Mustermann"
    assert case.file is not None and case.file.reference
    submitted = AuditEvent.objects.get(action="application.submitted")
    assert submitted.after["case"] == case.number
    # a repeated submission does not open a second case
    again = submit_application(
        application=application, idempotency_key="k2", confirmed=True, actor=citizen
    )
    assert again.case_id == case.pk and Case.objects.count() == 1


def test_the_review_page_records_the_opt_out_of_electronic_delivery(
    logged_in: Client, citizen: User, service: Service, home: Municipality
) -> None:
    application = _draft(citizen, service, home)
    page = logged_in.get(f"/antraege/{application.public_id}/pruefen/")
    assert "per Post" in page.content.decode()
    response = logged_in.post(
        f"/antraege/{application.public_id}/pruefen/",
        {"submission_key": "abc", "postal_delivery": "yes"},
    )
    assert response.status_code == 400  # declaration not confirmed: the choice is kept
    assert 'name="postal_delivery" value="yes" aria-describedby="postal-delivery-hint" checked' in (
        response.content.decode()
    )
    response = logged_in.post(
        f"/antraege/{application.public_id}/pruefen/",
        {"submission_key": "abc", "confirm": "yes", "postal_delivery": "yes"},
    )
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.electronic_delivery is False
    assert application.case is not None and application.case.electronic_delivery is False


def test_without_the_opt_out_notices_go_to_the_mailbox(
    logged_in: Client, citizen: User, service: Service, home: Municipality
) -> None:
    application = _draft(citizen, service, home)
    logged_in.post(
        f"/antraege/{application.public_id}/pruefen/", {"submission_key": "x", "confirm": "yes"}
    )
    application.refresh_from_db()
    assert application.electronic_delivery is True


def test_the_detail_page_shows_the_citizen_facing_timeline_only(
    logged_in: Client, citizen: User, service: Service, home: Municipality, make_staff: Any
) -> None:
    application = _submitted(citizen, service, home)
    case = application.case
    assert case is not None
    clerk = make_staff(case.org_unit)
    casework.add_note(case=case, text="Interner Vermerk: Registerabgleich offen", actor=clerk)
    casework.request_documents(
        case=case,
        description="Bitte senden Sie eine Kopie Ihres Ausweises.",
        due_on=timezone.localdate() + datetime.timedelta(days=10),
        actor=clerk,
    )
    page = logged_in.get(f"/antraege/{application.public_id}/").content.decode()
    assert "Bei der Behörde eingegangen" in page or "Antrag bei der Behörde eingegangen" in page
    assert "Bitte senden Sie eine Kopie Ihres Ausweises." in page
    assert "Interner Vermerk" not in page
    request = DocumentRequest.objects.get()
    assert f"/antraege/{application.public_id}/unterlagen/{request.public_id}/" in page
    listing = logged_in.get("/antraege/").content.decode()
    assert "Wir warten auf Unterlagen von Ihnen" in listing


def test_answering_a_request_checks_the_files_and_returns_the_case_to_review(
    logged_in: Client,
    citizen: User,
    service: Service,
    home: Municipality,
    make_staff: Any,
    clamd_address: str,
    settings: Any,
) -> None:
    settings.CLAMD_ADDRESS = clamd_address
    application = _submitted(citizen, service, home)
    case = application.case
    assert case is not None
    clerk = make_staff(case.org_unit)
    request = casework.request_documents(
        case=case, description="Ausweiskopie", due_on=timezone.localdate(), actor=clerk
    )
    url = f"/antraege/{application.public_id}/unterlagen/{request.public_id}/"
    assert logged_in.get(url).status_code == 200
    refused = logged_in.post(
        url, {"note": "Mein Kommentar", "documents": [_upload("x.exe", b"MZ")]}
    )
    assert refused.status_code == 400
    body = refused.content.decode()
    assert "Mein Kommentar" in body  # what was typed is kept
    assert "x.exe" in body
    request.refresh_from_db()
    assert request.status == DocumentRequest.Status.OPEN
    nothing = logged_in.post(url, {"note": ""})
    assert nothing.status_code == 400 and "mindestens eine Datei" in nothing.content.decode()
    done = logged_in.post(url, {"note": "Anbei", "documents": [_upload("ausweis.pdf", PDF)]})
    assert done.status_code == 302
    case.refresh_from_db()
    assert case.status == Case.Status.IN_REVIEW
    assert case.file is not None and case.file.documents.filter(kind="upload").count() == 1
    assert logged_in.get(url).status_code == 302  # answered: back to the application


def test_a_document_over_the_limit_is_refused_by_its_size_and_not_kept(
    logged_in: Client,
    citizen: User,
    service: Service,
    home: Municipality,
    make_staff: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.core.files.uploadhandler import TemporaryFileUploadHandler

    written: list[int] = []
    original = TemporaryFileUploadHandler.receive_data_chunk

    def counting(self: Any, raw_data: bytes, start: int) -> Any:
        written.append(len(raw_data))
        return original(self, raw_data, start)

    monkeypatch.setattr(TemporaryFileUploadHandler, "receive_data_chunk", counting)
    application = _submitted(citizen, service, home)
    assert application.case is not None
    clerk = make_staff(application.case.org_unit)
    request = casework.request_documents(
        case=application.case, description="Ausweis", due_on=timezone.localdate(), actor=clerk
    )
    url = f"/antraege/{application.public_id}/unterlagen/{request.public_id}/"
    big = _upload("gross.pdf", PDF + b"0" * (25 * 1024 * 1024))
    refused = logged_in.post(url, {"documents": [big], "note": "Nach der Datei getippt"})
    body = refused.content.decode()
    assert refused.status_code == 400
    assert "gross.pdf: Die Datei ist größer als 10 MB." in body
    assert "Nach der Datei getippt" in body
    assert sum(written) <= 10 * 1024 * 1024  # not the 25 MB sent
    request.refresh_from_db()
    assert request.status == DocumentRequest.Status.OPEN


def test_a_batch_file_starting_like_a_pdf_is_refused_beside_the_field_and_not_filed(
    logged_in: Client,
    citizen: User,
    service: Service,
    home: Municipality,
    make_staff: Any,
    clamd_address: str,
    settings: Any,
) -> None:
    """A batch file that starts like a PDF: filed as "Nachweis.bat", it would run as a program
    when the clerk opens it from the E-Akte. It is no whole PDF, so it is refused."""
    settings.CLAMD_ADDRESS = clamd_address
    application = _submitted(citizen, service, home)
    case = application.case
    assert case is not None and case.file is not None
    clerk = make_staff(case.org_unit)
    request = casework.request_documents(
        case=case, description="Nachweis", due_on=timezone.localdate(), actor=clerk
    )
    filed = case.file.documents.count()
    url = f"/antraege/{application.public_id}/unterlagen/{request.public_id}/"
    polyglot = b"%PDF-1.4\r\n@echo off\r\nstart calc.exe\r\n"
    refused = logged_in.post(
        url,
        {"note": "Anbei der Nachweis", "documents": [_upload("Nachweis.bat", polyglot)]},
        HTTP_ACCEPT_LANGUAGE="de",
    )
    body = refused.content.decode()
    assert refused.status_code == 400
    message = "Nachweis.bat: Diese Datei ist beschädigt oder unvollständig"
    beside = re.search(r'id="id_documents_error".{0,600}', body, re.S)
    assert beside is not None and message in beside.group(0), body
    assert "Anbei der Nachweis" in body
    request.refresh_from_db()
    assert request.status == DocumentRequest.Status.OPEN
    assert case.file.documents.count() == filed


def test_a_pdf_named_as_a_program_is_filed_with_the_pdf_ending(
    logged_in: Client,
    citizen: User,
    service: Service,
    home: Municipality,
    make_staff: Any,
    clamd_address: str,
    settings: Any,
) -> None:
    """A whole PDF the citizen named "Nachweis.bat" is filed as "Nachweis.bat.pdf": the clerk's
    computer opens it as the PDF it is, and the name still says what the citizen called it."""
    settings.CLAMD_ADDRESS = clamd_address
    application = _submitted(citizen, service, home)
    case = application.case
    assert case is not None and case.file is not None
    clerk = make_staff(case.org_unit)
    request = casework.request_documents(
        case=case, description="Nachweis", due_on=timezone.localdate(), actor=clerk
    )
    url = f"/antraege/{application.public_id}/unterlagen/{request.public_id}/"
    answered = logged_in.post(url, {"documents": [_upload("Nachweis.bat", PDF)]})
    assert answered.status_code == 302
    request.refresh_from_db()
    assert request.status == DocumentRequest.Status.ANSWERED
    filed = case.file.documents.get(title="Unterlage der antragstellenden Person: Nachweis.bat.pdf")
    assert filed.versions.get().original_name == "Nachweis.bat.pdf"


def test_another_citizen_cannot_reach_the_request(
    client: Client, citizen: User, service: Service, home: Municipality, make_staff: Any
) -> None:
    application = _submitted(citizen, service, home)
    assert application.case is not None
    clerk = make_staff(application.case.org_unit)
    request = casework.request_documents(
        case=application.case, description="x", due_on=timezone.localdate(), actor=clerk
    )
    client.force_login(ProfileFactory().user)
    url = f"/antraege/{application.public_id}/unterlagen/{request.public_id}/"
    assert client.get(url).status_code == 404
    assert client.post(url, {"documents": [_upload("a.pdf", PDF)]}).status_code == 404
    assert client.post(f"/antraege/{application.public_id}/zurueckziehen/").status_code == 404


def test_the_citizen_can_withdraw_an_open_application(
    logged_in: Client, citizen: User, service: Service, home: Municipality
) -> None:
    application = _submitted(citizen, service, home)
    url = f"/antraege/{application.public_id}/zurueckziehen/"
    logged_in.post(url, {})  # not confirmed: nothing happens
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED
    response = logged_in.post(url, {"confirm": "yes"})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == Application.Status.WITHDRAWN
    assert application.case is not None
    assert application.case.status == Case.Status.WITHDRAWN
    assert application.case.events.filter(
        kind=CaseEvent.Kind.STATUS_CHANGED, to_status=Case.Status.WITHDRAWN, actor=citizen
    ).exists()


def _upload(name: str, data: bytes) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


def test_the_receipt_goes_into_the_case_file(
    citizen: User, service: Service, home: Municipality
) -> None:
    from rathaus.applications.receipts import render_receipt

    application = _submitted(citizen, service, home)
    assert render_receipt.call(application.pk) == "stored"
    application.refresh_from_db()
    case = application.case
    assert case is not None and case.file is not None
    document = case.file.documents.get(kind="application")
    assert document.versions.get().sha256 == application.receipt_sha256


def test_my_applications_lists_drafts_and_submitted_with_the_citizens_status(
    logged_in: Client,
    citizen: User,
    service: Service,
    home: Municipality,
    make_staff: Any,
    django_user_model: Any,
) -> None:
    draft = _draft(citizen, service, home)
    application = _submitted(citizen, service, home)
    case = application.case
    assert case is not None
    clerk = make_staff(case.org_unit)
    casework.transition(case=case, to_status=Case.Status.IN_REVIEW, actor=clerk)
    # another citizen of the same name and birth date (the certificate is about the applicant)
    other = ProfileFactory(
        given_names="Erika", family_name="Mustermann", birth_date=datetime.date(1985, 3, 27)
    ).user
    stranger = _submitted(other, service, home, key="k2")

    page = logged_in.get("/antraege/").content.decode()
    assert f'href="/antraege/{application.public_id}/"' in page
    assert application.reference in page
    assert "In Bearbeitung" in page  # the citizen's label of "in review", not the clerks'
    assert f'href="/antraege/{draft.public_id}/loeschen/"' in page  # asks to confirm first
    assert f"/antraege/{draft.public_id}/" in page
    submitted_at = timezone.localtime(application.submitted_at).strftime("%d.%m.%Y %H:%M")
    assert submitted_at in page
    assert stranger.reference not in page

    with translation.override("en"):
        listing = application_list(citizen)
    assert [row.public_id for row in listing.drafts] == [str(draft.public_id)]
    assert [row.status for row in listing.submitted] == ["Being processed"]
    assert listing.submitted[0].service == (service.name_en or service.name_de)


def test_the_citizen_finds_the_revocation_of_a_notice_on_the_application_page(
    logged_in: Client, citizen: User, service: Service, home: Municipality, make_staff: Any
) -> None:
    from rathaus.casework.models import Notice

    application = _submitted(citizen, service, home)
    case = application.case
    assert case is not None
    clerk = make_staff(case.org_unit)
    draft = casework.draft_notice(case=case, template_key="granted", actor=clerk)
    if draft.four_eyes:
        pytest.skip("the demo configures four eyes for this service")
    issued = casework.issue_notice(notice=draft, actor=clerk)
    url = f"/antraege/{application.public_id}/"
    page = logged_in.get(url).content.decode()
    assert "Aufhebungsbescheid" not in page
    revoke(notice=issued, reason="Irrtum", legal_basis="§ 49 VwVfG NRW", actor=clerk)
    revoked = Notice.objects.get(pk=issued.pk)
    assert revoked.revocation_message is not None
    page = logged_in.get(url).content.decode()
    assert f"/postfach/{revoked.revocation_message.public_id}/" in page
    assert f"Aufhebungsbescheid zum Bescheid „{issued.title}“ im Postfach lesen" in page
    assert logged_in.get(f"/postfach/{revoked.revocation_message.public_id}/").status_code == 200


# --- a shared service ("Einer für Alle") acts for the resident's city ---------------------------


def _shared_case(citizen: User) -> tuple[Case, User]:
    """A Wuppertal resident's Meldebescheinigung, handled by Remscheid for Wuppertal (demo)."""
    from django.contrib.auth.models import Group

    from rathaus.accounts.roles import CLERK
    from rathaus.casework.models import StaffMembership
    from tests.accounts.factories import StaffFactory

    service = Service.objects.get(slug="meldebescheinigung")
    Responsibility.objects.filter(service=service).update(local_fee=None)
    wuppertal = Municipality.objects.get(ags="05124000")
    assert Responsibility.objects.get(service=service, municipality=wuppertal).is_shared
    application = start_application(
        applicant=citizen, service=service, municipality=wuppertal, trust_level="high"
    )
    answer_all(application)  # Neumarkt 10, 42103 Wuppertal
    case = submit_application(
        application=application, idempotency_key="k", confirmed=True, actor=citizen
    ).case
    assert case is not None and case.authority.municipality.ags == "05120000"  # Remscheid
    clerk = StaffFactory()
    clerk.groups.add(Group.objects.get_or_create(name=CLERK)[0])
    StaffMembership.objects.create(user=clerk, org_unit=case.org_unit)
    return case, clerk


def test_a_shared_service_certifies_the_register_of_the_residents_city(
    citizen: User, full_demo: None
) -> None:
    from rathaus.casework import notice_templates

    notice_templates.clear_caches()
    case, clerk = _shared_case(citizen)
    draft = casework.draft_notice(case=case, template_key="granted", actor=clerk)
    assert "Melderegisters der Stadt Wuppertal" in draft.body
    assert "Remscheid" not in draft.body


def test_a_shared_service_names_the_court_of_the_residents_district(
    citizen: User, full_demo: None, tmp_path: Any
) -> None:
    from django.test import override_settings

    from rathaus.casework import notice_templates

    courts = tmp_path / "courts.toml"
    courts.write_text(
        '[[court]]\nname = "VG Remscheid-Bezirk"\nags = ["05120000"]\n'
        '[[court]]\nname = "VG Wuppertal-Bezirk"\nags = ["05124000"]\n'
    )
    with override_settings(CASEWORK_COURTS_FILE=str(courts)):
        notice_templates.clear_caches()
        case, clerk = _shared_case(citizen)
        draft = casework.draft_notice(case=case, template_key="refused", actor=clerk)
    notice_templates.clear_caches()
    assert "VG Wuppertal-Bezirk" in draft.remedy
    assert "Remscheid" not in draft.remedy
