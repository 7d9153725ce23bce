"""The case page sent back with an error, in Chromium: the title says "Fehler:", the focus is on
the error summary at the top (not 2,000 pixels above the field), and its link takes the focus to
the field in error. axe checks the page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from rathaus.accounts.models import User
from rathaus.casework.models import Case
from rathaus.core.models import OrgUnit
from tests.backoffice.test_browser_bulk_assignment import _log_in


@pytest.mark.browser
def test_an_empty_note_is_announced_at_the_top_and_leads_to_its_field(
    page: Any, axe_check: Any, open_case: Callable[..., Case], unit: OrgUnit, clerk: User
) -> None:
    case = open_case(unit.authority, unit=unit)
    _log_in(page, clerk)
    page.goto(f"/backoffice/vorgaenge/{case.pk}/")
    with page.expect_navigation():
        page.get_by_role("button", name="Notiz hinzufügen").click()

    assert page.title().startswith("Fehler: ")
    assert page.evaluate("document.activeElement.id") == "error-summary"
    assert page.locator("#error-summary").is_visible()
    axe_check(page)
    page.locator("#error-summary a").first.click()
    assert page.evaluate("document.activeElement.id") == "id_note-text"


@pytest.mark.browser
def test_a_refused_action_is_announced_at_the_top_and_leads_to_its_message(
    page: Any, axe_check: Any, open_case: Callable[..., Case], unit: OrgUnit, clerk: User
) -> None:
    case = open_case(unit.authority, unit=unit)
    _log_in(page, clerk)
    page.goto(f"/backoffice/vorgaenge/{case.pk}/")
    # The case is received, not decided: closing it is refused. Sent as a page read before a
    # colleague reopened the case would send it (any form of the page carries the CSRF token).
    with page.expect_navigation():
        page.evaluate(
            """(url) => {
                const form = document.querySelector('form[action$="/notiz/"]');
                form.action = url;
                form.submit();
            }""",
            f"/backoffice/vorgaenge/{case.pk}/abschliessen/",
        )
    assert page.title().startswith("Fehler: ")
    assert page.evaluate("document.activeElement.id") == "error-summary"
    axe_check(page)
    page.locator("#error-summary a").first.click()
    message = page.evaluate("document.activeElement.id")
    assert message.startswith("action-error-")
    assert "Nicht möglich" in page.locator(f"#{message}").inner_text()
