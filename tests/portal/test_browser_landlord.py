"""Browser: a landlord confirms a move-in, gets the code and the PDF; the pages pass axe."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client
from django.urls import get_resolver
from django.utils import timezone

from rathaus.ledger.leaves import format_code
from rathaus.registers.models import LandlordConfirmation
from tests.accounts.factories import ProfileFactory

pytestmark = pytest.mark.browser


def _logged_in(page: Any, live_server: Any, user: Any) -> None:
    """A session for the user in the browser (the login page itself is tested in accounts)."""
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session, "url": live_server.url}]
    )


def test_landlord_confirms_a_move_in_and_passes_on_the_code(
    page: Any, live_server: Any, axe_check: Any
) -> None:
    get_resolver().url_patterns  # noqa: B018 - import every view now, not in the first page load
    call_command("load_demo", verbosity=0)
    landlord = ProfileFactory(given_names="Hans", family_name="Vermieter").user
    _logged_in(page, live_server, landlord)

    page.goto("/wohnungsgeberbestaetigung/")
    axe_check(page)
    page.get_by_role("link", name="Einzug bestätigen").click()
    page.wait_for_url("**/wohnungsgeberbestaetigung/neu/")
    axe_check(page)

    moved_in = timezone.localdate() - datetime.timedelta(days=1)
    page.select_option('[name="municipality"]', label="Wuppertal")
    page.fill('[name="street"]', "Friedrich-Engels-Allee")
    page.fill('[name="house_number"]', "12")
    page.fill('[name="postal_code"]', "4228")  # one digit short
    page.fill('[name="place"]', "Wuppertal")
    page.fill('[name="move_in_date"]', moved_in.strftime("%d.%m.%Y"))
    page.fill('[name="person_1_given_names"]', "Erika")
    page.fill('[name="person_1_family_name"]', "Mustermann")
    page.fill('[name="landlord_address"]', "Hofaue 5, 42103 Wuppertal")
    page.check('input[name="is_owner"][value="yes"]')
    page.check('input[name="declaration"]')
    page.get_by_role("button", name="Bestätigung ausstellen").click()
    assert page.title().startswith("Fehler")
    assert "fünfstellige Postleitzahl" in page.locator("#error-summary").inner_text()
    assert page.input_value('[name="person_1_family_name"]') == "Mustermann"
    axe_check(page)

    page.fill('[name="postal_code"]', "42283")
    page.check('input[name="declaration"]')
    page.get_by_role("button", name="Bestätigung ausstellen").click()
    page.wait_for_url("**/wohnungsgeberbestaetigung/*/")
    confirmation = LandlordConfirmation.objects.get()
    main = page.locator("main").inner_text()
    assert format_code(confirmation.code) in main
    assert "Friedrich-Engels-Allee 12, 42283 Wuppertal" in main
    axe_check(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Bestätigung herunterladen (PDF)").click()
    assert download.value.suggested_filename.endswith(".pdf")


def test_enter_in_a_field_checks_and_issues_instead_of_adding_a_row(
    page: Any, live_server: Any, axe_check: Any
) -> None:
    get_resolver().url_patterns  # noqa: B018 - import every view now, not in the first page load
    call_command("load_demo", verbosity=0)
    landlord = ProfileFactory(given_names="Hans", family_name="Vermieter").user
    _logged_in(page, live_server, landlord)
    page.goto("/wohnungsgeberbestaetigung/neu/")
    # the hidden default button is for Enter only: no second "issue" button for screen readers
    assert page.get_by_role("button", name="Bestätigung ausstellen").count() == 1
    axe_check(page)

    moved_in = timezone.localdate() - datetime.timedelta(days=1)
    page.select_option('[name="municipality"]', label="Wuppertal")
    page.fill('[name="street"]', "Friedrich-Engels-Allee")
    page.fill('[name="house_number"]', "12")
    page.fill('[name="postal_code"]', "4228")  # one digit short
    page.fill('[name="place"]', "Wuppertal")
    page.fill('[name="move_in_date"]', moved_in.strftime("%d.%m.%Y"))
    page.fill('[name="person_1_given_names"]', "Erika")
    page.fill('[name="landlord_address"]', "Hofaue 5, 42103 Wuppertal")
    page.check('input[name="is_owner"][value="yes"]')
    page.check('input[name="declaration"]')
    page.locator('[name="person_1_family_name"]').type("Mustermann")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    # the form was checked, as by "Bestätigung ausstellen": messages, and no fourth row
    assert page.title().startswith("Fehler")
    assert "fünfstellige Postleitzahl" in page.locator("#error-summary").inner_text()
    assert page.locator('[name="person_4_given_names"]').count() == 0
    assert page.input_value('[name="person_1_family_name"]') == "Mustermann"
    assert not LandlordConfirmation.objects.exists()
    axe_check(page)

    page.fill('[name="postal_code"]', "")
    page.locator('[name="postal_code"]').type("42283")
    page.check('input[name="declaration"]')
    page.locator('[name="postal_code"]').press("Enter")
    page.wait_for_url("**/wohnungsgeberbestaetigung/*/")
    confirmation = LandlordConfirmation.objects.get()
    assert confirmation.person_names == ["Erika Mustermann"]
    assert format_code(confirmation.code) in page.locator("main").inner_text()
