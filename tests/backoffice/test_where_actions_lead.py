"""Where a person lands: after an action that took the case out of their sight, and on a queue
page beyond the last one."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from rathaus.accounts.models import User
from rathaus.backoffice import queue
from rathaus.casework.models import Case
from rathaus.core.models import OrgUnit
from tests.backoffice.page_forms import html, shown_assignment

pytestmark = pytest.mark.django_db


def test_a_team_lead_moving_a_case_out_of_sight_returns_to_the_queue_with_the_message(
    staff_client: Callable[[User], Client],
    team_lead: User,
    open_case: Callable[..., Case],
    unit: OrgUnit,
    other_unit: OrgUnit,
) -> None:
    case = open_case(unit.authority, unit=unit, family_name="Umzug")
    lead = staff_client(team_lead)
    page = html(lead.get(f"/backoffice/vorgaenge/{case.pk}/"))
    response = lead.post(
        f"/backoffice/vorgaenge/{case.pk}/zuweisen/",
        {"assign-assignee": "", "assign-org_unit": other_unit.pk, **shown_assignment(page)},
        follow=True,
    )
    assert response.redirect_chain == [("/backoffice/", 302)]
    assert response.status_code == 200
    assert "Der Vorgang wurde zugewiesen." in html(response)
    case.refresh_from_db()
    assert (case.org_unit, case.assigned_to) == (other_unit, None)


def test_an_action_on_a_case_still_in_sight_returns_to_the_case(
    staff_client: Callable[[User], Client],
    team_lead: User,
    clerk: User,
    open_case: Callable[..., Case],
    unit: OrgUnit,
    other_unit: OrgUnit,
) -> None:
    """Moved to another unit but assigned to the team lead themselves: still theirs to see."""
    case = open_case(unit.authority, unit=unit, family_name="Bleibt")
    lead = staff_client(team_lead)
    page = html(lead.get(f"/backoffice/vorgaenge/{case.pk}/"))
    response = lead.post(
        f"/backoffice/vorgaenge/{case.pk}/zuweisen/",
        {
            "assign-assignee": team_lead.pk,
            "assign-org_unit": other_unit.pk,
            **shown_assignment(page),
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/backoffice/vorgaenge/{case.pk}/"


def test_a_queue_page_beyond_the_last_leads_back_to_the_last_page(
    staff_client: Callable[[User], Client],
    clerk: User,
    open_case: Callable[..., Case],
    unit: OrgUnit,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(queue, "PAGE_SIZE", 2)
    cases = [open_case(unit.authority, unit=unit, family_name=f"Seite{i}") for i in range(5)]
    client = staff_client(clerk)
    beyond = html(client.get("/backoffice/", {"sort": "number", "page": "7"}))
    assert 'id="beyond-last-page"' in beyond
    assert "Keine Vorgänge passen zu diesen Filtern." not in beyond
    assert "sort=number&amp;page=3" in beyond  # the filters kept, the last page linked
    last = html(client.get("/backoffice/", {"sort": "number", "page": "3"}))
    assert cases[-1].number in last
    assert 'id="beyond-last-page"' not in last


def test_an_empty_queue_beyond_page_one_leads_to_page_one(
    staff_client: Callable[[User], Client], clerk: User
) -> None:
    page = html(staff_client(clerk).get("/backoffice/", {"q": "Niemand", "page": "4"}))
    assert "q=Niemand&amp;page=1" in page
