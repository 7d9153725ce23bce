""" "Kept until 02.12.2026" and "if the fee is not paid by 02.12.2026" give the citizen that
whole day (in Europe/Berlin): the expiry jobs delete only once the named day has ended."""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from freezegun import freeze_time

from rathaus.accounts.models import User
from rathaus.applications.models import Application
from rathaus.applications.services import (
    delete_expired_drafts,
    delete_expired_unpaid,
    submit_application,
)
from rathaus.catalog.models import Responsibility, Service
from rathaus.core.models import Municipality
from tests.applications.meldebescheinigung import answer_all

BERLIN = ZoneInfo("Europe/Berlin")
STARTED = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=BERLIN)
NAMED_DAY_MORNING = datetime.datetime(2026, 12, 2, 10, 0, tzinfo=BERLIN)
NAMED_DAY_LAST_MINUTE = datetime.datetime(2026, 12, 2, 23, 59, tzinfo=BERLIN)
DAY_AFTER = datetime.datetime(2026, 12, 3, 0, 1, tzinfo=BERLIN)


@pytest.fixture
def logged_in(client: Client, citizen: User, settings: Any) -> Client:
    settings.APPLICATION_DRAFT_DAYS = 30
    settings.APPLICATION_UNPAID_DAYS = 30
    client.force_login(citizen)
    session = client.session
    session["rathaus_trust_level"] = "high"
    session.save()
    return client


def _named_date(text: str, pattern: str) -> str:
    found = re.search(pattern, text)
    assert found is not None, text
    return found.group(1)


def test_a_draft_is_kept_the_whole_day_its_list_entry_names(
    logged_in: Client, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    with freeze_time(STARTED):
        logged_in.post("/antraege/neu/meldebescheinigung/", {"gemeinde": "wuppertal"})
        listing = logged_in.get("/antraege/").content.decode()
    assert _named_date(listing, r"aufbewahrt bis (\d\d\.\d\d\.\d{4})") == "02.12.2026"
    for moment in (NAMED_DAY_MORNING, NAMED_DAY_LAST_MINUTE):
        with freeze_time(moment):
            assert delete_expired_drafts() == 0
        assert Application.objects.exists()
    with freeze_time(DAY_AFTER):
        assert delete_expired_drafts() == 1
    assert not Application.objects.exists()


def test_an_unpaid_application_may_be_paid_the_whole_day_its_page_names(
    logged_in: Client, citizen: User, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    Responsibility.objects.filter(service=meldebescheinigung).update(local_fee=Decimal("10.00"))
    with freeze_time(STARTED):
        logged_in.post("/antraege/neu/meldebescheinigung/", {"gemeinde": "wuppertal"})
        application = Application.objects.get()
        answer_all(application)
        submit_application(
            application=application, idempotency_key="k", confirmed=True, actor=citizen
        )
        page = logged_in.get(f"/antraege/{application.public_id}/").content.decode()
    assert _named_date(page, r"bis zum (\d\d\.\d\d\.\d{4}) bezahlt") == "02.12.2026"
    for moment in (NAMED_DAY_MORNING, NAMED_DAY_LAST_MINUTE):
        with freeze_time(moment):
            assert delete_expired_unpaid() == 0
        assert Application.objects.exists()
    with freeze_time(DAY_AFTER):
        assert delete_expired_unpaid() == 1
    assert not Application.objects.exists()
