"""The back office in English writes every date day first, as its German dates are written:
no "12/09/2026" beside "28.11.2026" on the same page."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable

import pytest
from django.test import Client
from django.utils import timezone

from rathaus.accounts.models import User
from rathaus.casework import services as casework
from rathaus.casework.models import Case
from rathaus.core.models import OrgUnit
from tests.backoffice.page_forms import html

pytestmark = pytest.mark.django_db

OpenCase = Callable[..., Case]
StaffClient = Callable[[User], Client]
US_DATE = re.compile(r"\b\d{2}/\d{2}/\d{4}\b")


def _in_english(client: Client) -> Client:
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    return client


def test_the_hint_on_a_waiting_case_gives_the_deadline_day_first(
    staff_client: StaffClient, clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    case = open_case(unit.authority, unit=unit)
    due = timezone.localdate() + datetime.timedelta(days=20)
    casework.request_documents(case=case, description="Mietvertrag", due_on=due, actor=clerk)
    page = html(_in_english(staff_client(clerk)).get(f"/backoffice/vorgaenge/{case.pk}/"))
    assert 'lang="en"' in page
    assert f"asked for documents by {due:%d.%m.%Y}" in page
    assert not US_DATE.search(page), US_DATE.findall(page)


def test_a_due_date_too_far_ahead_names_the_last_day_day_first(
    staff_client: StaffClient, clerk: User, open_case: OpenCase, unit: OrgUnit
) -> None:
    case = open_case(unit.authority, unit=unit)
    client = _in_english(staff_client(clerk))
    response = client.post(
        f"/backoffice/vorgaenge/{case.pk}/faelligkeit/", {"due-due_on": "9999-12-31"}
    )
    assert response.status_code == 400
    page = html(response)
    latest = timezone.localdate() + casework.DUE_DATE_HORIZON
    assert f"until {latest:%d.%m.%Y}" in page
    assert not US_DATE.search(page), US_DATE.findall(page)
