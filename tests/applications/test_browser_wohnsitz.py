"""A citizen completes a Wohnsitzanmeldung in Chromium, the way a person does (issue 3).

Makes and corrects a validation error, leaves, resumes the draft, uploads a landlord
confirmation (checked by a real clamd), reviews, submits and downloads the receipt, whose text
is checked. axe checks every page on the way.
"""

from __future__ import annotations

import io
from importlib import import_module
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from pypdf import PdfReader

from rathaus.accounts.models import User
from rathaus.applications.models import Application
from tests.accounts.factories import PASSWORD
from tests.applications.wohnsitz import ADULT, CHILD

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def log_in(page: Any, citizen: User) -> None:
    """Log in through the login page, as a person does."""
    page.goto("/konto/login/")
    page.fill('[name="login"]', citizen.email)
    page.fill('[name="password"]', PASSWORD)
    page.locator('main form button[type="submit"]').first.click()
    page.wait_for_url("**/konto/**")


def _raise_trust_level(page: Any, level: str) -> None:
    """Stands in for an eID login (issue 9): marks this browser's session as identified."""
    cookie = next(c for c in page.context.cookies() if c["name"] == settings.SESSION_COOKIE_NAME)
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=cookie["value"])
    store["rathaus_trust_level"] = level
    store.save()


def fill_move(page: Any, *, postal_code: str = "42283") -> None:
    """Answer the first step: moving in today, into a main residence in Wuppertal."""
    today = timezone.localdate()
    page.fill('[name="move_in_date__day"]', str(today.day))
    page.fill('[name="move_in_date__month"]', str(today.month))
    page.fill('[name="move_in_date__year"]', str(today.year))
    page.fill('[name="new_address__street"]', "Friedrich-Engels-Allee")
    page.fill('[name="new_address__house_number"]', "12")
    page.fill('[name="new_address__postal_code"]', postal_code)
    page.fill('[name="new_address__place"]', "Wuppertal")
    page.check('input[name="residence_kind"][value="main"]')


#: Selects of states (field type ``country``).
COUNTRY_FIELDS = {"birth_country", "nationality", "nationality_2", "nationality_3"}


def fill_person(page: Any, number: int, person: dict[str, str]) -> None:
    """Type a person's answers into row ``number``, as posted data names them."""
    for key, value in person.items():
        name = f"persons__{number}__{key}"
        if key in {"sex", "religion", "marital_status", "document_type"} | COUNTRY_FIELDS:
            page.select_option(f'[name="{name}"]', value)
        elif key == "has_document":
            page.check(f'input[name="{name}"][value="{value}"]')
        else:
            page.fill(f'[name="{name}"]', value)


@pytest.mark.browser
def test_citizen_registers_a_move_end_to_end(
    page: Any,
    axe_check: Any,
    citizen: User,
    demo: None,
    clamd_address: str,
    settings: Any,
    tmp_path: Any,
) -> None:
    settings.CLAMD_ADDRESS = clamd_address
    log_in(page, citizen)
    _raise_trust_level(page, "high")

    page.goto("/antraege/neu/wohnsitz-anmelden/")
    axe_check(page)
    page.select_option('[name="gemeinde"]', "wuppertal")
    page.get_by_role("button", name="Antrag starten").click()

    # Step 1 with a wrong postal code: message at the top and at the field, input kept.
    fill_move(page, postal_code="4228")
    page.get_by_role("button", name="Speichern und weiter").click()
    assert page.title().startswith("Fehler")
    assert page.locator("#error-summary").is_visible()
    assert page.input_value('[name="new_address__street"]') == "Friedrich-Engels-Allee"
    axe_check(page)
    page.fill('[name="new_address__postal_code"]', "42283")
    page.get_by_role("button", name="Speichern und weiter").click()

    # Step 2: previous home.
    page.wait_for_url("**/schritt/previous/")
    axe_check(page)
    page.check('input[name="previous_kept"][value="no"]')
    page.get_by_role("button", name="Speichern und weiter").click()

    # Step 3: people, with the Meldeschein's data (§ 3 Abs. 1 BMG): an adult with an ID card
    # whose serial number is mistyped, corrected after the message; then a child without an ID
    # of its own. Then leave and come back later.
    page.wait_for_url("**/schritt/people/")
    fill_person(page, 1, ADULT)
    page.fill('[name="persons__1__document_number"]', "LO1X00T47")  # letter O, not zero
    page.get_by_role("button", name="Speichern und weiter").click()
    assert page.title().startswith("Fehler")
    serial = page.locator("#field-persons-1-document_number")
    assert serial.get_attribute("aria-invalid") == "true"
    assert "Ein „O“ ist immer die Ziffer 0" in page.locator("#error-summary").inner_text()
    assert page.input_value('[name="persons__1__birth_place"]') == "Wuppertal"  # input kept
    axe_check(page)
    serial.fill("L01X00T47")
    page.get_by_role("button", name="Weitere Angabe hinzufügen: Person").click()
    fill_person(page, 2, CHILD)
    axe_check(page)
    page.get_by_role("button", name="Speichern und später fortsetzen").click()
    page.wait_for_url("**/antraege/")
    axe_check(page)
    page.get_by_role("link", name="Fortsetzen").click()

    # Step 4 and 5: landlord confirmation as an upload.
    page.wait_for_url("**/schritt/landlord/")
    axe_check(page)
    page.check('input[name="landlord_way"][value="upload"]')
    page.get_by_role("button", name="Speichern und weiter").click()
    page.wait_for_url("**/schritt/landlord_upload/")
    axe_check(page)
    upload = tmp_path / "wohnungsgeberbestaetigung.pdf"
    upload.write_bytes(PDF)
    page.set_input_files('[name="landlord_confirmation"]', str(upload))
    page.get_by_role("button", name="Speichern und weiter").click()

    # Review the whole declaration, confirm, send.
    page.wait_for_url("**/pruefen/")
    axe_check(page)
    body = page.locator("main").inner_text()
    assert "Friedrich-Engels-Allee 12" in body
    assert "L01X00T47" in body and "Paul Mustermann" in body and "Krakau" in body
    assert "wohnungsgeberbestaetigung.pdf" in body
    page.check("#confirm")
    page.get_by_role("button", name="Antrag verbindlich absenden").click()
    page.wait_for_url("**/antraege/*/")
    axe_check(page)
    application = Application.objects.get()
    assert application.status == Application.Status.SUBMITTED
    assert application.reference in page.locator("main").inner_text()

    # The worker renders the receipt; the citizen downloads it.
    call_command("db_worker", batch=True, no_startup_delay=True, queue_name="*", verbosity=0)
    page.reload()
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Eingangsbestätigung herunterladen (PDF)").click()
    pdf = download_info.value.path().read_bytes()
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    assert application.reference in text
    assert "Friedrich-Engels-Allee" in text
    assert "L01X00T47" in text and "Krakau" in text  # the Meldeschein's data, as submitted
    assert "wohnungsgeberbestaetigung.pdf" in text
