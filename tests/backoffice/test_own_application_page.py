"""The case page of a clerk's own application (§ 20 Abs. 1 Nr. 1 VwVfG): readable, with a notice
why nothing can be done; every action refused; the team lead gives it to someone else."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.test import Client

from rathaus.accounts.models import User
from rathaus.accounts.roles import TEAM_LEAD
from rathaus.casework import services as casework
from rathaus.casework.models import Case, Notice
from rathaus.casework.notice_templates import templates_for
from rathaus.core.models import OrgUnit
from tests.backoffice.page_forms import html, queue_shown, shown_assignment

pytestmark = pytest.mark.django_db

OpenCase = Callable[..., Case]
StaffClient = Callable[[User], Client]
MakeStaff = Callable[..., User]


def _granted_key() -> str:
    return next(k for k, t in templates_for("wohnsitz-anmelden").items() if t.outcome == "granted")


def test_a_clerk_cannot_decide_their_own_application(
    staff_client: StaffClient, clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    case = open_case(unit.authority, unit=unit, applicant=clerk)
    client = staff_client(clerk)
    base = f"/backoffice/vorgaenge/{case.pk}"
    page = client.get(f"{base}/")
    assert page.status_code == 200  # reading stays as the role allows
    assert "Ihr eigener Antrag" in html(page) and "§ 20 Abs. 1 Nr. 1 VwVfG" in html(page)
    assert "Bescheid entwerfen" not in html(page) and "Vorgang übernehmen" not in html(page)
    drafted = client.post(f"{base}/bescheid-entwerfen/", {"draft-template_key": _granted_key()})
    assert drafted.status_code == 403
    assert not case.notices.exists()
    for action in ("uebernehmen", "pruefung-beginnen", "notiz"):
        assert client.post(f"{base}/{action}/", {"note-text": "x"}).status_code == 403, action
    case.refresh_from_db()
    assert case.status == Case.Status.RECEIVED and case.assigned_to is None


def test_a_clerk_cannot_issue_a_colleagues_notice_on_their_own_application(
    staff_client: StaffClient,
    clerk: User,
    second_clerk: User,
    open_case: OpenCase,
    unit: OrgUnit,
) -> None:
    case = open_case(unit.authority, unit=unit, applicant=clerk)
    notice = casework.draft_notice(case=case, template_key=_granted_key(), actor=second_clerk)
    response = staff_client(clerk).post(
        f"/backoffice/vorgaenge/{case.pk}/erlassen/{notice.pk}/",
        {f"erlassen{notice.pk}-version": str(notice.version)},
    )
    assert response.status_code == 403
    notice.refresh_from_db()
    assert notice.status == Notice.Status.DRAFT


def test_the_team_lead_gives_the_case_to_someone_else_not_to_the_applicant(
    staff_client: StaffClient,
    team_lead: User,
    clerk: User,
    second_clerk: User,
    open_case: OpenCase,
    unit: OrgUnit,
) -> None:
    case = open_case(unit.authority, unit=unit, applicant=clerk)
    lead = staff_client(team_lead)
    base = f"/backoffice/vorgaenge/{case.pk}"
    page = html(lead.get(f"{base}/"))
    assert "Ihr eigener Antrag" not in page
    form = page.split('name="assign-assignee"', 1)[1].split("</select>", 1)[0]
    assert f'value="{clerk.pk}"' not in form and f'value="{second_clerk.pk}"' in form
    refused = lead.post(
        f"{base}/zuweisen/", {"assign-assignee": clerk.pk, **shown_assignment(page)}
    )
    assert refused.status_code == 400  # not among the choices
    given = lead.post(
        f"{base}/zuweisen/", {"assign-assignee": second_clerk.pk, **shown_assignment(page)}
    )
    assert given.status_code == 302
    case.refresh_from_db()
    assert case.assigned_to == second_clerk


def test_the_bulk_assignment_does_not_give_a_clerk_their_own_application(
    staff_client: StaffClient, team_lead: User, clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    other = open_case(unit.authority, unit=unit, family_name="Andere")
    own = open_case(unit.authority, unit=unit, applicant=clerk)
    lead = staff_client(team_lead)
    page = html(lead.get("/backoffice/"))
    response = lead.post(
        "/backoffice/zuweisen/",
        {
            "bulk-cases": [other.pk, own.pk],
            "bulk-assignee": clerk.pk,
            "next": "/backoffice/",
            **queue_shown(page),
        },
    )
    assert response.status_code == 400
    assert own.number in html(response) and "§ 20" in html(response)
    assert not Case.objects.filter(assigned_to=clerk).exists()


def test_a_team_lead_does_not_assign_their_own_application(
    staff_client: StaffClient,
    make_staff: MakeStaff,
    clerk: User,
    open_case: OpenCase,
    unit: OrgUnit,
) -> None:
    lead = make_staff(TEAM_LEAD, unit, name="tilda")
    case = open_case(unit.authority, unit=unit, applicant=lead)
    client = staff_client(lead)
    page = html(client.get(f"/backoffice/vorgaenge/{case.pk}/"))
    assert "Ihr eigener Antrag" in page
    assert not re.search(r'name="assign-assignee"', page)
    response = client.post(
        f"/backoffice/vorgaenge/{case.pk}/zuweisen/",
        {"assign-assignee": clerk.pk, "assign-shown_assignee": 0, "assign-shown_unit": unit.pk},
    )
    assert response.status_code == 403
    bulk = client.post(
        "/backoffice/zuweisen/", {"bulk-cases": [case.pk], "bulk-assignee": clerk.pk}
    )
    assert bulk.status_code == 400  # refused by its number, beside the queue's list
    assert f"selbst beantragt haben): {case.number}." in bulk.content.decode()
    case.refresh_from_db()
    assert case.assigned_to is None
