"""In Chromium: a citizen applies for a Bewohnerparkausweis and pays on the sandbox page (issue 6).

The first payment fails; the citizen retries and pays; the application is then submitted.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from rathaus.accounts.models import User
from rathaus.applications.models import Application
from rathaus.core.models import Municipality
from rathaus.payments.models import PaymentTransaction, ProviderConfig
from tests.applications.test_browser_wohnsitz import PDF, _raise_trust_level, log_in
from tests.payments.conftest import Sandbox


@pytest.mark.browser
def test_citizen_pays_after_a_failed_attempt_and_the_application_is_submitted(
    page: Any,
    axe_check: Any,
    live_server: Any,
    citizen: User,
    demo: None,
    wuppertal: Municipality,
    sandbox: Sandbox,
    clamd_address: str,
    settings: Any,
    tmp_path: Any,
) -> None:
    settings.CLAMD_ADDRESS = clamd_address
    settings.PAYMENTS_RETURN_BASE_URL = live_server.url  # where the provider sends people back
    ProviderConfig.objects.create(
        municipality=wuppertal,
        base_url=sandbox.url,
        originator_id="rathaus-wuppertal",
        auth_scheme=ProviderConfig.AuthScheme.NONE,
        timeout_seconds=5,
    )
    log_in(page, citizen)
    _raise_trust_level(page, "substantial")

    page.goto("/leistungen/bewohnerparkausweis/")
    page.get_by_role("link", name="Online beantragen").first.click()
    page.select_option('[name="gemeinde"]', "wuppertal")
    page.get_by_role("button", name="Antrag starten").click()
    page.fill('[name="zone"]', "Elberfeld-Mitte 3")
    page.fill('[name="address__street"]', "Luisenstraße")
    page.fill('[name="address__house_number"]', "12")
    page.fill('[name="address__postal_code"]', "42103")
    page.fill('[name="address__place"]', "Wuppertal")
    page.get_by_role("button", name="Speichern und weiter").click()
    page.wait_for_url("**/schritt/vehicle/")
    page.fill('[name="plate"]', "W-AB 1234")
    page.check('input[name="holder"][value="self"]')
    document = tmp_path / "zulassungsbescheinigung.pdf"
    document.write_bytes(PDF)
    page.set_input_files('[name="registration_document"]', str(document))
    page.get_by_role("button", name="Speichern und weiter").click()
    page.wait_for_url("**/schritt/permit/")
    start = timezone.localdate() + datetime.timedelta(days=3)
    page.fill('[name="start_date__day"]', str(start.day))
    page.fill('[name="start_date__month"]', str(start.month))
    page.fill('[name="start_date__year"]', str(start.year))
    page.get_by_role("button", name="Speichern und weiter").click()

    page.wait_for_url("**/pruefen/")
    assert "30,70" in page.locator("main").inner_text()
    axe_check(page)
    page.check("#confirm")
    page.get_by_role("button", name="Antrag verbindlich absenden und bezahlen").click()

    # The sandbox's payment page: this attempt fails.
    page.wait_for_url(f"{sandbox.url}/**")
    axe_check(page)
    page.get_by_role("button", name="Zahlung fehlschlagen lassen").click()
    page.wait_for_url("**/antraege/*/")
    application = Application.objects.get()
    assert application.status == Application.Status.AWAITING_PAYMENT
    axe_check(page)

    # Retry and pay.
    page.get_by_role("button", name="Jetzt bezahlen").click()
    page.wait_for_url(f"{sandbox.url}/**")
    page.get_by_role("button", name="Bezahlen").click()
    page.wait_for_url("**/antraege/*/")
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED
    assert "gesendet" in page.locator("main").inner_text()
    axe_check(page)
    assert PaymentTransaction.objects.filter(status="PAYED").count() == 1
    assert PaymentTransaction.objects.filter(status="FAILED").count() == 1
