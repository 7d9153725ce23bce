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
    from django.urls import get_resolver; get_resolver().url_patterns
    log_in(page, citizen)
    _raise_trust_level(page, "high")

    page.goto("/antraege/neu/wohnsitz-anmelden/")
    axe_check(page)
    page.select_option('[name="gemeinde"]', "wuppertal")
    page.get_by_role("button", name="Antrag starten").click()

    # Step 1 with a wrong postal code: message at the top and at the field, input kept.
    today = timezone.localdate()
    page.fill('[name="move_in_date__day"]', str(today.day))
    page.fill('[name="move_in_date__month"]', str(today.month))
    page.fill('[name="move_in_date__year"]', str(today.year))
    page.fill('[name="new_address__street"]', "Friedrich-Engels-Allee")
    page.fill('[name="new_address__house_number"]', "12")
    page.fill('[name="new_address__postal_code"]', "4228")
    page.fill('[name="new_address__place"]', "Wuppertal")
    page.check('input[name="residence_kind"][value="main"]')
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

    # Step 3: people. Then leave and come back later.
    page.wait_for_url("**/schritt/people/")
    page.fill('[name="persons__1__name__given_names"]', "Erika")
    page.fill('[name="persons__1__name__family_name"]', "Mustermann")
    page.fill('[name="persons__1__birth_date__day"]', "27")
    page.fill('[name="persons__1__birth_date__month"]', "3")
    page.fill('[name="persons__1__birth_date__year"]', "1985")
    page.select_option('[name="persons__1__sex"]', "female")
    page.fill('[name="persons__1__nationality"]', "deutsch")
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
    assert "wohnungsgeberbestaetigung.pdf" in text
