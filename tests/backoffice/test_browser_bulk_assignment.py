"""The queue's bulk assignment in Chromium, without JavaScript doing anything special: a
colleague's assignment made after the queue was read is not overwritten; the team lead reads
what changed, finds their selection kept (also of a case the filtered list no longer shows) and
assigns again knowingly. axe checks the queue and the refused page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from rathaus.accounts.models import User
from rathaus.accounts.roles import TEAM_LEAD
from rathaus.casework import services as casework
from rathaus.casework.models import Case
from rathaus.core.models import OrgUnit
from tests.accounts.factories import PASSWORD
from tests.backoffice.conftest import totp_code


def _log_in(page: Any, user: User) -> None:
    """Password, then the code of the authenticator app (generated here from its secret)."""
    page.goto("/konto/login/")
    page.fill('[name="login"]', user.email)
    page.fill('[name="password"]', PASSWORD)
    page.locator('main form button[type="submit"]').first.click()
    page.wait_for_url("**/konto/2fa/authenticate/")
    for _attempt in range(2):
        # A code typed at the end of its 30 seconds may arrive in the next step: type the new one.
        page.fill('[name="code"]', totp_code(user.secret))  # type: ignore[attr-defined]
        with page.expect_navigation():
            page.locator('main form button[type="submit"]').first.click()
        if "/2fa/authenticate/" not in page.url:
            break
    assert "/2fa/authenticate/" not in page.url


@pytest.mark.browser
def test_a_stale_bulk_assignment_keeps_the_selection_and_says_what_changed(
    page: Any,
    axe_check: Any,
    make_staff: Callable[..., User],
    open_case: Callable[..., Case],
    unit: OrgUnit,
    team_lead: User,
    clerk: User,
    second_clerk: User,
) -> None:
    first = open_case(unit.authority, unit=unit, family_name="Erstfall")
    second = open_case(unit.authority, unit=unit, family_name="Zweitfall")
    _log_in(page, team_lead)
    page.goto("/backoffice/?scope=unassigned")
    axe_check(page)
    for case in (first, second):
        page.get_by_label(f"Vorgang {case.number} auswählen").check()
    page.select_option('[name="bulk-assignee"]', str(clerk.pk))
    # Meanwhile a colleague gives the first case to Conrad.
    casework.assign(cases=[first], user=second_clerk, actor=make_staff(TEAM_LEAD, unit))

    with page.expect_navigation():
        page.get_by_role("button", name="Zuweisen").click()

    summary = page.locator("#error-summary").inner_text()
    assert first.number in summary and second_clerk.email in summary
    assert "Keiner der ausgewählten Vorgänge wurde zugewiesen" in summary
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.assigned_to, second.assigned_to) == (second_clerk, None)
    # Both stay selected: the first below the list, which shows unassigned cases only.
    assert page.get_by_role("heading", name="Ausgewählte Vorgänge, die diese Liste nicht zeigt")
    for case in (first, second):
        assert page.get_by_label(f"Vorgang {case.number} auswählen").is_checked()
    assert page.locator('[name="bulk-assignee"]').input_value() == str(clerk.pk)
    axe_check(page)

    with page.expect_navigation():
        page.get_by_role("button", name="Zuweisen").click()
    assert "2 Vorgang/Vorgänge zugewiesen" in page.inner_text("main")
    assert set(Case.objects.filter(assigned_to=clerk)) == {first, second}


@pytest.mark.browser
def test_the_error_summarys_link_to_the_cases_leads_to_the_list_which_says_the_error(
    page: Any,
    axe_check: Any,
    open_case: Callable[..., Case],
    unit: OrgUnit,
    team_lead: User,
    clerk: User,
) -> None:
    """WCAG 3.3.1: "Assign" with no case ticked; the summary's link to the cases moves the focus
    to the list, whose error is said beside it (and read with it: aria-describedby)."""
    case = open_case(unit.authority, unit=unit)
    _log_in(page, team_lead)
    page.goto("/backoffice/")
    page.select_option('[name="bulk-assignee"]', str(clerk.pk))
    with page.expect_navigation():
        page.get_by_role("button", name="Zuweisen").click()

    link = page.locator("#error-summary a", has_text="Wählen Sie mindestens einen Vorgang")
    link.click()
    focused = page.evaluate("document.activeElement.id")
    assert focused == "id_bulk-cases"
    group = page.get_by_role("group", name="Vorgänge", exact=True)
    assert group.get_attribute("aria-describedby") == "id_bulk-cases_error"
    assert (
        "Wählen Sie mindestens einen Vorgang" in page.locator("#id_bulk-cases_error").inner_text()
    )
    assert page.get_by_label(f"Vorgang {case.number} auswählen").is_visible()
    axe_check(page)
