"""With two elections open, a citizen chooses the election for a postal vote in Chromium: the
question on the start page, its error beside the choice, the language switch there and back
(the municipality and the question kept), then the first step. axe checks the pages.
"""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from rathaus.accounts.models import User
from rathaus.applications.models import Application
from rathaus.core.models import Municipality
from rathaus.registers.models import Election
from tests.applications.test_browser_wohnsitz import log_in


@pytest.mark.browser
def test_citizen_chooses_the_election_on_the_start_page(
    page: Any, axe_check: Any, citizen: User, demo: None
) -> None:
    wuppertal = Municipality.objects.get(slug="wuppertal")
    day = timezone.localdate() + datetime.timedelta(days=40)
    day += datetime.timedelta(days=6 - day.weekday())  # a Sunday (§ 16 Satz 2 BWahlG)
    Election.objects.create(municipality=wuppertal, name="Europawahl", election_day=day)
    local = Election.objects.create(municipality=wuppertal, name="Kommunalwahl", election_day=day)
    log_in(page, citizen)

    page.goto("/antraege/neu/briefwahl/")
    page.select_option('[name="gemeinde"]', "wuppertal")
    page.get_by_role("button", name="Antrag starten").click()
    question = page.get_by_role("group", name="Für welche Wahl beantragen Sie den Wahlschein?")
    assert question.is_visible()
    assert not Application.objects.exists()
    axe_check(page)

    # Without a choice: the message at the top and beside the question, the municipality kept.
    page.get_by_role("button", name="Antrag starten").click()
    assert page.title().startswith("Fehler")
    assert "Bitte geben Sie an, für welche Wahl" in page.locator("#error-summary").inner_text()
    assert "Bitte geben Sie an, für welche Wahl" in page.locator("#auswahl-error").inner_text()
    assert page.input_value('[name="gemeinde"]') == "wuppertal"
    axe_check(page)

    # The language switch keeps the municipality and asks the question again, in English.
    page.get_by_role("button", name="English").click()
    english = "For which election are you applying for a polling card?"
    page.get_by_role("group", name=english).wait_for()
    assert page.input_value('[name="gemeinde"]') == "wuppertal"
    axe_check(page)
    page.get_by_role("button", name="Deutsch").click()
    question.wait_for()
    assert not Application.objects.exists()

    page.get_by_label("Kommunalwahl am", exact=False).check()
    page.get_by_role("button", name="Antrag starten").click()
    page.wait_for_url("**/schritt/applicant/")
    application = Application.objects.get()
    assert application.context["election_id"] == local.pk
