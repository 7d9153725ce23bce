"""The main menu offers each member of staff the pages they may open, and only those: the case
queue to those who work cases, preRESC planning to planners, the admin site to ``is_staff``."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from rathaus.accounts.models import User
from rathaus.accounts.roles import ADMINISTRATOR, CLERK, PLANNER, TEAM_LEAD
from rathaus.core.models import OrgUnit
from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

MakeStaff = Callable[..., User]
StaffClient = Callable[[User], Client]

QUEUE, RESCUE, ADMIN = "/backoffice/", "/backoffice/rettungsdienst/", "/admin/"
STAFF_PAGES = (QUEUE, RESCUE, ADMIN)


def _menu(page: str) -> list[str]:
    """The addresses the main navigation links to."""
    nav = page.split('class="rathaus-nav"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'<a class="rathaus-nav__link" href="([^"]+)"', nav)


def _offered(client: Client) -> list[str]:
    response = client.get("/leistungen/")
    assert response.status_code == 200
    return [href for href in _menu(response.content.decode()) if href in STAFF_PAGES]


def _assert_offers_what_opens(client: Client, expected: list[str]) -> None:
    assert _offered(client) == expected
    for path in STAFF_PAGES:
        status = client.get(path).status_code
        if path in expected:
            assert status == 200, path
        else:
            assert status != 200, path  # refused (403) or sent to log in: so not offered


@pytest.mark.parametrize(
    ("roles", "expected"),
    [
        ((CLERK,), [QUEUE]),
        ((TEAM_LEAD,), [QUEUE]),
        ((ADMINISTRATOR,), [QUEUE]),
        ((PLANNER,), [RESCUE]),
        ((TEAM_LEAD, PLANNER), [QUEUE, RESCUE]),
    ],
)
def test_the_menu_offers_each_role_the_pages_it_may_open(
    staff_client: StaffClient,
    make_staff: MakeStaff,
    unit: OrgUnit,
    roles: tuple[str, ...],
    expected: list[str],
) -> None:
    first, *others = roles
    user = make_staff(first, *((unit,) if first != PLANNER else ()), name="menu")
    for role in others:
        user.groups.add(Group.objects.get(name=role))
    _assert_offers_what_opens(staff_client(user), expected)


def test_a_planner_is_offered_the_planning_and_not_the_case_queue(
    staff_client: StaffClient, planner: User
) -> None:
    client = staff_client(planner)
    page = client.get("/").content.decode()
    assert 'href="/backoffice/"' not in page
    assert f'href="{RESCUE}"' in page
    assert client.get(RESCUE).status_code == 200


def test_a_superuser_is_offered_planning_and_administration_not_the_case_queue(
    admin_client: Client,
) -> None:
    _assert_offers_what_opens(admin_client, [RESCUE, ADMIN])


def test_staff_of_the_admin_site_with_a_case_role_get_both(
    staff_client: StaffClient, make_staff: MakeStaff, unit: OrgUnit
) -> None:
    user = make_staff(ADMINISTRATOR, unit, name="beides")
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    _assert_offers_what_opens(staff_client(user), [QUEUE, ADMIN])


def test_a_citizen_is_offered_no_staff_page(client: Client) -> None:
    citizen = UserFactory()
    client.post("/konto/login/", {"login": citizen.email, "password": PASSWORD})
    assert _offered(client) == []


def test_only_the_section_shown_is_marked_current(
    staff_client: StaffClient, make_staff: MakeStaff, unit: OrgUnit
) -> None:
    user = make_staff(TEAM_LEAD, unit, name="planend")
    user.groups.add(Group.objects.get(name=PLANNER))
    client = staff_client(user)
    for path, current in ((QUEUE, QUEUE), (RESCUE, RESCUE)):
        page = client.get(path).content.decode()
        nav = page.split('class="rathaus-nav"', 1)[1].split("</nav>", 1)[0]
        marked = re.findall(r'href="([^"]+)" aria-current="page"', nav)
        assert marked == [current], path
