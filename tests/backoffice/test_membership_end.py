"""A clerk moved to another unit in the admin loses the old unit's cases assigned to them; the
team lead finds them unassigned in the queue."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client

from rathaus.accounts.models import User
from rathaus.accounts.roles import CLERK
from rathaus.casework import services as casework
from rathaus.casework.models import Case, StaffMembership
from rathaus.core.models import AuditEvent, OrgUnit
from tests.backoffice.conftest import future
from tests.backoffice.page_forms import html

pytestmark = pytest.mark.django_db


def _moved_clerk_with_a_case(
    make_staff: Callable[..., User], open_case: Callable[..., Case], unit: OrgUnit
) -> tuple[User, Case]:
    clerk = make_staff(CLERK, unit, name="wechsel")
    case = open_case(unit.authority, unit=unit, family_name="Altfall")
    casework.assign(cases=[case], user=clerk, actor=clerk)  # taken while in the unit
    return clerk, case


def _check_handed_back(
    case: Case,
    clerk: User,
    *,
    staff_client: Callable[[User], Client],
    team_lead: User,
) -> None:
    case.refresh_from_db()
    assert case.assigned_to is None
    audit = AuditEvent.objects.get(action="case.assignee_left_unit", object_id=str(case.pk))
    assert audit.actor is not None and audit.actor.email == "root@stadt.example.org"
    client = staff_client(clerk)
    assert client.get(f"/backoffice/vorgaenge/{case.pk}/").status_code == 404
    response = client.post(
        f"/backoffice/vorgaenge/{case.pk}/unterlagen-anfordern/",
        {"request-description": "Pass", "request-due_on": future(7).isoformat()},
    )
    assert response.status_code == 404
    assert not case.document_requests.exists()
    # the team lead finds it among the unassigned cases, the history saying why
    lead = staff_client(team_lead)
    assert case.number in html(lead.get("/backoffice/", {"scope": "unassigned"}))
    page = html(lead.get(f"/backoffice/vorgaenge/{case.pk}/"))
    assert "arbeitet nicht mehr in" in page


def test_a_clerk_moved_to_another_unit_in_the_admin_loses_the_old_units_cases(
    admin_client: Client,
    make_staff: Callable[..., User],
    staff_client: Callable[[User], Client],
    team_lead: User,
    open_case: Callable[..., Case],
    unit: OrgUnit,
    other_unit: OrgUnit,
) -> None:
    clerk, case = _moved_clerk_with_a_case(make_staff, open_case, unit)
    membership = StaffMembership.objects.get(user=clerk, org_unit=unit)
    response = admin_client.post(
        f"/admin/casework/staffmembership/{membership.pk}/delete/", {"post": "yes"}
    )
    assert response.status_code == 302
    response = admin_client.post(
        "/admin/casework/staffmembership/add/", {"user": clerk.pk, "org_unit": other_unit.pk}
    )
    assert response.status_code == 302
    _check_handed_back(case, clerk, staff_client=staff_client, team_lead=team_lead)


def test_the_admins_bulk_delete_hands_the_cases_back_too(
    admin_client: Client,
    make_staff: Callable[..., User],
    staff_client: Callable[[User], Client],
    team_lead: User,
    open_case: Callable[..., Case],
    unit: OrgUnit,
) -> None:
    clerk, case = _moved_clerk_with_a_case(make_staff, open_case, unit)
    membership = StaffMembership.objects.get(user=clerk, org_unit=unit)
    response = admin_client.post(
        "/admin/casework/staffmembership/",
        {"action": "delete_selected", "_selected_action": [membership.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not StaffMembership.objects.filter(pk=membership.pk).exists()
    _check_handed_back(case, clerk, staff_client=staff_client, team_lead=team_lead)


def test_changing_the_unit_of_a_membership_in_the_admin_hands_the_cases_back(
    admin_client: Client,
    make_staff: Callable[..., User],
    staff_client: Callable[[User], Client],
    team_lead: User,
    open_case: Callable[..., Case],
    unit: OrgUnit,
    other_unit: OrgUnit,
) -> None:
    clerk, case = _moved_clerk_with_a_case(make_staff, open_case, unit)
    membership = StaffMembership.objects.get(user=clerk, org_unit=unit)
    response = admin_client.post(
        f"/admin/casework/staffmembership/{membership.pk}/change/",
        {"user": clerk.pk, "org_unit": other_unit.pk},
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.org_unit == other_unit
    _check_handed_back(case, clerk, staff_client=staff_client, team_lead=team_lead)
