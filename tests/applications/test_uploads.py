"""Uploads in the application flow: each bad file is refused with its reason, nothing is lost."""

from __future__ import annotations

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pytest_django.fixtures import Settings as SettingsWrapper

from rathaus.accounts.models import User
from rathaus.applications.models import Application, Attachment
from rathaus.applications.services import start_application
from rathaus.catalog.models import Service
from rathaus.core.models import Municipality
from tests.fixtures.clamd import EICAR

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ELF = b"\x7fELF\x02\x01\x01" + b"\0" * 64
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
