"""In Chromium: the sandbox payment page is accessible and the return lands on the portal.

The full citizen journey (apply for a Bewohnerparkausweis, pay, see it submitted) belongs to the
applications module; this covers the payments part of it with the real pages.
"""

from __future__ import annotations

from typing import Any

import pytest

from rathaus.core.models import Municipality
from rathaus.payments.models import PaymentStatus, PaymentTransaction, ProviderConfig
from rathaus.payments.providers import PaymentItem
from rathaus.payments.services import start_payment
from tests.payments.conftest import Sandbox

#: A payable no module owns: the payments pages alone (an "applications.application" that does
#: not exist is found missing by the applications module, and its payment is to be refunded).
MATTER = "tests.matter"


def start(config: ProviderConfig, payable_type: str = MATTER) -> str:
    return start_payment(
        municipality=config.municipality,
        payable_type=payable_type,
        payable_id="42",
        amount_cents=3060,
        items=[PaymentItem("permit", "Bewohnerparkausweis Zone A", 1, 3060)],
        purpose="Bewohnerparkausweis",
        description="Bewohnerparkausweis Zone A",
    ).redirect_url


@pytest.fixture
def configured(
    sandbox: Sandbox, transactional_db: None, live_server: Any, settings: Any
) -> ProviderConfig:
    settings.PAYMENTS_RETURN_BASE_URL = live_server.url
    municipality = Municipality.objects.create(
        name="Wuppertal", slug="wuppertal", ags="05124000", state="NW"
    )
    return ProviderConfig.objects.create(
        municipality=municipality,
        base_url=sandbox.url,
        originator_id="rathaus-wuppertal",
        auth_scheme=ProviderConfig.AuthScheme.NONE,
    )


@pytest.mark.browser
def test_citizen_pays_on_the_sandbox_page_and_returns_to_the_portal(
    page: Any, axe_check: Any, configured: ProviderConfig
) -> None:
    page.goto(start(configured))
    assert page.locator("h1").inner_text() == "Gebühr bezahlen"
    assert "30,60" in page.locator("main").inner_text()
    axe_check(page)

    page.get_by_role("button", name="Bezahlen").click()

    page.wait_for_url("**/zahlung/*/")
    assert "Vielen Dank, Ihre Zahlung ist eingegangen." in page.locator("main").inner_text()
    assert PaymentTransaction.objects.get().status == PaymentStatus.PAYED
    axe_check(page)


@pytest.mark.browser
def test_failed_payment_can_be_retried_and_paid(page: Any, configured: ProviderConfig) -> None:
    page.goto(start(configured))
    page.get_by_role("button", name="Zahlung fehlschlagen lassen").click()
    page.wait_for_url("**/zahlung/*/")
    assert "fehlgeschlagen" in page.locator("main").inner_text()

    page.goto(start(configured))
    page.get_by_role("button", name="Bezahlen").click()
    page.wait_for_url("**/zahlung/*/")

    assert list(PaymentTransaction.objects.order_by("pk").values_list("status", flat=True)) == [
        PaymentStatus.FAILED,
        PaymentStatus.PAYED,
    ]


@pytest.mark.browser
def test_a_payment_for_an_application_that_is_gone_shows_its_refund(
    page: Any, axe_check: Any, configured: ProviderConfig
) -> None:
    page.goto(start(configured, payable_type="applications.application"))  # no application 42

    page.get_by_role("button", name="Bezahlen").click()

    page.wait_for_url("**/zahlung/*/")
    main = page.locator("main").inner_text()
    assert "Vielen Dank" not in main
    assert "der Antrag, für den sie bestimmt war, besteht jedoch nicht mehr" in main
    assert "Der Betrag von 30,60 € wird Ihnen erstattet." in main
    assert page.get_by_role("heading", name="Erstattung").is_visible()
    assert PaymentTransaction.objects.get().refund_due
    axe_check(page)
