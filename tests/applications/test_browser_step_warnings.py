"""A step's warning in Chromium: the Wohnsitzanmeldung of a move three weeks ago. The step is
saved and shown once more with the note beside the date (not as an error), the second
"Speichern und weiter" goes on, and the review page names the note beside the answer. axe
checks the pages with the notes.
"""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.utils import timezone

from rathaus.accounts.models import User
from rathaus.applications.models import Application
from tests.applications.test_browser_wohnsitz import (
    _raise_trust_level,
    fill_move,
    fill_person,
    log_in,
)
from tests.applications.wohnsitz import ADULT

LATE = "Der Einzug liegt mehr als zwei Wochen zurück."


@pytest.mark.browser
def test_citizen_sees_a_warning_once_and_again_on_the_review_page(
    page: Any, axe_check: Any, citizen: User, demo: None
) -> None:
    log_in(page, citizen)
    _raise_trust_level(page, "high")
    page.goto("/antraege/neu/wohnsitz-anmelden/")
    page.select_option('[name="gemeinde"]', "wuppertal")
    page.get_by_role("button", name="Antrag starten").click()
    page.wait_for_url("**/schritt/move/")

    fill_move(page)
    moved_in = timezone.localdate() - datetime.timedelta(days=21)
    page.fill('[name="move_in_date__day"]', str(moved_in.day))
    page.fill('[name="move_in_date__month"]', str(moved_in.month))
    page.fill('[name="move_in_date__year"]', str(moved_in.year))
    page.get_by_role("button", name="Speichern und weiter").click()

    # the same step again: a note, not an error; everything typed is there
    page.wait_for_selector("#warning-summary")
    assert page.url.endswith("/schritt/move/")
    assert not page.title().startswith("Fehler")
    assert page.locator("#error-summary").count() == 0
    assert LATE in page.locator("#warning-summary").inner_text()
    assert "Ihre Angaben wurden gespeichert." in page.locator("#saved-with-notes").inner_text()
    # beside the date, and read out with it
    assert LATE in page.locator("#field-move_in_date-warning").inner_text()
    described = page.locator("#field-move_in_date-group").get_attribute("aria-describedby")
    assert "field-move_in_date-warning" in described.split()
    assert page.input_value('[name="new_address__street"]') == "Friedrich-Engels-Allee"
    assert Application.objects.get().answers["move_in_date"] == moved_in.isoformat()
    axe_check(page)

    page.get_by_role("button", name="Speichern und weiter").click()
    page.wait_for_url("**/schritt/previous/")
    page.check('input[name="previous_kept"][value="no"]')
    page.get_by_role("button", name="Speichern und weiter").click()
    page.wait_for_url("**/schritt/people/")
    fill_person(page, 1, ADULT)
    page.get_by_role("button", name="Speichern und weiter").click()
    page.wait_for_url("**/schritt/landlord/")
    page.check('input[name="landlord_way"][value="own_property"]')
    page.get_by_role("button", name="Speichern und weiter").click()

    page.wait_for_url("**/pruefen/")
    notes = page.locator("#notes-summary")
    assert f"Datum des Einzugs: {LATE}" in notes.inner_text()
    row = page.locator(".kern-description-list-item", has_text="Datum des Einzugs")
    assert LATE in row.inner_text() and moved_in.strftime("%d.%m.%Y") in row.inner_text()
    axe_check(page)
    notes.get_by_role("link").first.click()
    assert page.url.endswith("#section-move")
    page.check("#confirm")
    page.get_by_role("button", name="Antrag verbindlich absenden").click()
    # the application's page (the browser keeps the "#section-move" of the link followed)
    page.wait_for_url(re.compile(r"/antraege/[0-9a-f-]+/(#section-move)?$"))
    assert Application.objects.get().status == Application.Status.SUBMITTED
