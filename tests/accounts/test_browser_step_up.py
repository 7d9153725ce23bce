"""Step-up (issue 9): a citizen logged in with a password ("low") continues a draft of a service
that needs "high", identifies with the online ID card at the BundID-style test IdP and comes back
to the same step of the draft, nothing lost. Driven in Chromium, the way a person does it.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from rathaus.accounts.models import FederatedIdentity, IdentityProvider
from rathaus.applications import services
from rathaus.applications.models import Application
from rathaus.catalog.models import Service
from rathaus.core.models import Municipality
from tests.accounts.factories import PASSWORD, ProfileFactory


@pytest.fixture
def demo(transactional_db: None) -> None:
    call_command("load_demo", verbosity=0)


def log_in_with_password(page: Any, email: str) -> None:
    page.goto("/konto/login/")
    page.fill('[name="login"]', email)
    page.fill('[name="password"]', PASSWORD)
    page.locator('main form button[type="submit"]').first.click()
    page.wait_for_url("**/konto/**")


def identify_with_id_card(page: Any, axe_check: Any) -> None:
    """From the step-up page through the test IdP and back, confirming the link."""
    assert page.title().startswith("Identifizieren Sie sich")
    axe_check(page)
    page.get_by_role("link", name="Mit BundID (Test) anmelden").click()
    page.get_by_role("button", name="Erika Mustermann (Online-Ausweis, hoch)").click()
    page.get_by_role("button", name="Weiter zum Portal").click()  # the IdP's HTTP POST form
    page.wait_for_selector("h1:has-text('Bürgerkonto verknüpfen')")
    axe_check(page)
    page.get_by_role("button", name="Verknüpfen und weiter").click()


@pytest.mark.browser
def test_citizen_steps_up_to_high_and_returns_to_the_same_step_of_the_draft(
    demo: None, page: Any, axe_check: Any, saml_provider: IdentityProvider
) -> None:
    profile = ProfileFactory(given_names="Erika", family_name="Musterfrau")
    citizen = profile.user
    application = services.start_application(
        applicant=citizen,
        service=Service.objects.get(slug="wohnsitz-anmelden"),
        municipality=Municipality.objects.get(slug="wuppertal"),
        trust_level="high",  # begun in an earlier session with the ID card
    )
    today = timezone.localdate()
    answers = {
        **application.answers,
        "move_in_date": today.isoformat(),
        "new_address": {
            "street": "Friedrich-Engels-Allee",
            "house_number": "12",
            "postal_code": "42283",
            "place": "Wuppertal",
        },
        "residence_kind": "main",
    }
    Application.objects.filter(pk=application.pk).update(answers=answers, current_step="previous")
    step_url = f"/antraege/{application.public_id}/schritt/previous/"

    log_in_with_password(page, citizen.email)
    page.goto("/antraege/")
    page.get_by_role("link", name="Fortsetzen").first.click()

    # Password login is "low": the draft sends the citizen to identify at "high" first.
    assert "/konto/vertrauensniveau/" in page.url
    identify_with_id_card(page, axe_check)

    page.wait_for_url(f"**{step_url}")
    axe_check(page)
    application.refresh_from_db()
    assert application.answers == answers
    assert application.current_step == "previous"
    assert FederatedIdentity.objects.get().user == citizen
    assert page.get_by_text("Vertrauensniveau: hoch").is_visible()

    # The draft is still there: the first step shows what was entered before.
    page.goto(f"/antraege/{application.public_id}/schritt/move/")
    assert page.input_value('[name="new_address__street"]') == "Friedrich-Engels-Allee"


@pytest.mark.browser
def test_start_page_offers_the_step_up_login_and_comes_back(
    demo: None, page: Any, axe_check: Any, saml_provider: IdentityProvider
) -> None:
    citizen = ProfileFactory(birth_date=datetime.date(1985, 3, 27)).user
    log_in_with_password(page, citizen.email)

    page.goto("/antraege/neu/wohnsitz-anmelden/")
    assert page.locator("#step-up").is_visible()
    axe_check(page)
    page.get_by_role("link", name="Mit Bürgerkonto identifizieren").click()
    identify_with_id_card(page, axe_check)

    page.wait_for_url("**/antraege/neu/wohnsitz-anmelden/**")
    assert page.locator("#step-up").count() == 0
    page.select_option('[name="gemeinde"]', "wuppertal")
    page.get_by_role("button", name="Antrag starten").click()
    page.wait_for_url("**/schritt/move/")
    assert Application.objects.filter(applicant=citizen).count() == 1
