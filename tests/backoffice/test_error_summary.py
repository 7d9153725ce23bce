"""A back-office form sent back with errors says so: "Fehler:"/"Error:" in the page title and an
error summary at the top of the page (focused on load) that links to each field in error."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable

import pytest
from django.test import Client

from rathaus.accounts.models import User
from rathaus.casework.models import Case
from rathaus.core.models import OrgUnit
from rathaus.rescue.models import Region
from tests.backoffice.page_forms import html

pytestmark = pytest.mark.django_db

OpenCase = Callable[..., Case]
StaffClient = Callable[[User], Client]


def _title(page: str) -> str:
    match = re.search(r"<title>(.*?)</title>", page, re.S)
    assert match
    return match.group(1).strip()


def _summary(page: str) -> str:
    """The error summary, which must come before the page's first section."""
    assert 'id="error-summary"' in page, "no error summary"
    start = page.index('id="error-summary"')
    assert start < page.index("<h2", page.index("</h1>")), "the summary is not at the top"
    return page[start : page.index("</ul>", start)]


@pytest.mark.parametrize(
    ("action", "data", "anchor"),
    [
        ("notiz", {"note-text": ""}, "#id_note-text"),
        (
            "unterlagen-anfordern",
            {"request-description": "Mietvertrag", "request-due_on": "2000-01-01"},
            "#id_request-due_on",
        ),
        ("unterlagen-anfordern", {"request-due_on": "2099-01-01"}, "#id_request-description"),
        ("faelligkeit", {"due-due_on": "2000-01-01"}, "#id_due-due_on"),
        ("faelligkeit", {"due-due_on": "kein Datum"}, "#id_due-due_on"),
        ("dokument", {"document-title": ""}, "#id_document-title"),
    ],
)
def test_invalid_input_is_summarised_at_the_top_with_links_to_the_fields(
    staff_client: StaffClient,
    clerk: User,
    open_case: OpenCase,
    unit: OrgUnit,
    action: str,
    data: dict[str, str],
    anchor: str,
) -> None:
    case = open_case(unit.authority, unit=unit)
    response = staff_client(clerk).post(f"/backoffice/vorgaenge/{case.pk}/{action}/", data)
    assert response.status_code == 400
    page = html(response)
    assert _title(page).startswith("Fehler: ")
    summary = _summary(page)
    assert "data-rathaus-autofocus" in summary and 'role="alert"' in summary
    assert f'href="{anchor}"' in summary
    assert f'id="{anchor[1:]}"' in page  # the link leads to the field


def test_the_title_says_error_in_english_too(
    staff_client: StaffClient, clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    case = open_case(unit.authority, unit=unit)
    client = staff_client(clerk)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = html(client.post(f"/backoffice/vorgaenge/{case.pk}/notiz/", {"note-text": ""}))
    assert _title(page).startswith("Error: ")
    assert 'href="#id_note-text"' in _summary(page)


def test_a_page_without_errors_has_neither_summary_nor_error_title(
    staff_client: StaffClient, clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    case = open_case(unit.authority, unit=unit)
    page = html(staff_client(clerk).get(f"/backoffice/vorgaenge/{case.pk}/"))
    assert not _title(page).startswith("Fehler")
    assert 'id="error-summary"' not in page


def test_a_refused_action_is_summarised_and_leads_to_its_message(
    staff_client: StaffClient, clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    case = open_case(unit.authority, unit=unit)
    response = staff_client(clerk).post(f"/backoffice/vorgaenge/{case.pk}/abschliessen/")
    assert response.status_code == 409
    page = html(response)
    assert _title(page).startswith("Fehler: ")
    summary = _summary(page)
    anchor = re.search(r'href="#([^"]+)"', summary)
    assert anchor and f'id="{anchor.group(1)}"' in page
    assert "data-rathaus-autofocus" in summary


def test_the_planner_form_summarises_its_errors(staff_client: StaffClient, planner: User) -> None:
    region = Region.objects.create(name="Testbereich")
    region.planners.add(planner)
    response = staff_client(planner).get(
        "/backoffice/rettungsdienst/",
        {"region": region.pk, "horizon": "viele", "day": datetime.date.today().isoformat()},
    )
    assert response.status_code == 400
    page = html(response)
    assert _title(page).startswith("Fehler: ")
    summary = _summary(page)
    assert 'href="#id_horizon"' in summary and 'id="id_horizon"' in page
