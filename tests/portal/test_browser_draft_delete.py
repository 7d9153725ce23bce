"""Deleting a draft in Chromium, without JavaScript needed: "Entwurf löschen" in "Meine Anträge"
leads to a confirmation page; sent without the confirmation it names the problem at the top
(focused) and beside the checkbox and deletes nothing; confirmed, the draft is gone. axe checks
every page."""

from __future__ import annotations

import re
from typing import Any

import pytest

from rathaus.accounts.models import User
from rathaus.applications.models import Application
from tests.applications.conftest import (  # noqa: F401
    _forget_form_versions,
    citizen,
    demo,
)
from tests.applications.test_browser_wohnsitz import _raise_trust_level, log_in

pytestmark = pytest.mark.browser


def test_a_draft_is_deleted_only_once_the_citizen_confirmed_it(
    page: Any,
    axe_check: Any,
    citizen: User,  # noqa: F811
    demo: None,  # noqa: F811
) -> None:
    log_in(page, citizen)
    _raise_trust_level(page, "high")
    page.goto("/antraege/neu/meldebescheinigung/")
    page.select_option('[name="gemeinde"]', "wuppertal")
    page.get_by_role("button", name="Antrag starten").click()
    page.wait_for_url("**/schritt/person/")

    page.goto("/antraege/")
    axe_check(page)
    page.get_by_role("link", name=re.compile("^Entwurf löschen")).click()
    page.wait_for_url("**/loeschen/")
    assert page.locator("h1").inner_text() == "Diesen Entwurf löschen?"
    axe_check(page)

    # Without the confirmation: nothing is deleted; the problem is named and focused.
    page.get_by_role("button", name="Entwurf löschen").click()
    page.wait_for_function("() => document.activeElement?.id === 'error-summary'")
    assert page.title().startswith("Fehler")
    message = "Bitte bestätigen Sie, dass Sie den Entwurf löschen möchten."
    assert page.locator("#confirm-error").inner_text().strip() == message
    assert Application.objects.count() == 1
    axe_check(page)
    page.locator("#error-summary").get_by_role("link").click()
    assert page.evaluate("() => document.activeElement.id") == "confirm"

    page.get_by_label("Ja, diesen Entwurf mit allen Angaben und Dateien löschen.").check()
    page.get_by_role("button", name="Entwurf löschen").click()
    # "Meine Anträge" (the browser keeps the "#confirm" of the summary's link followed)
    page.wait_for_url(re.compile(r"/antraege/(#confirm)?$"))
    assert "Der Entwurf wurde gelöscht." in page.locator("main").inner_text()
    assert not Application.objects.exists()
    axe_check(page)
