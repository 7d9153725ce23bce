"""Drafts and unpaid applications are kept 30 calendar days on the Berlin calendar, not
30 times 24 hours: a clock change in between (autumn 25.10.2026, spring 29.03.2026) neither takes a
day away nor adds one, and the date shown is the last day they still exist."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
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

# (saved at, in Berlin; the 30th calendar day after it, the last day kept)
ACROSS_AUTUMN = (datetime.datetime(2026, 10, 1, 0, 30, tzinfo=BERLIN), datetime.date(2026, 10, 31))
ACROSS_SPRING = (datetime.datetime(2026, 3, 1, 23, 30, tzinfo=BERLIN), datetime.date(2026, 3, 31))
ORDINARY = (datetime.datetime(2026, 6, 10, 12, 0, tzinfo=BERLIN), datetime.date(2026, 7, 10))
CASES = pytest.mark.parametrize(
    ("saved", "last_day"),
    [ACROSS_AUTUMN, ACROSS_SPRING, ORDINARY],
    ids=["across-autumn-clock-change", "across-spring-clock-change", "ordinary"],
)


@pytest.fixture
def log_in(client: Client, citizen: User, settings: Any) -> Callable[[], Client]:
    """Log the citizen in at the (frozen) time of the call: a login does not last for weeks."""
    settings.APPLICATION_DRAFT_DAYS = 30
    settings.APPLICATION_UNPAID_DAYS = 30

    def logged_in() -> Client:
        client.force_login(citizen)
        session = client.session
        session["rathaus_trust_level"] = "high"
        session.save()
        return client

    return logged_in


def _named_date(text: str, pattern: str) -> str:
    found = re.search(pattern, text)
    assert found is not None, text
    return found.group(1)


def _last_minute(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(23, 59), tzinfo=BERLIN)


def _first_run_after(day: datetime.date) -> datetime.datetime:
    following = day + datetime.timedelta(days=1)
    return datetime.datetime.combine(following, datetime.time(0, 5), tzinfo=BERLIN)


@CASES
def test_a_new_draft_is_kept_thirty_calendar_days(
    log_in: Callable[[], Client],
    meldebescheinigung: Service,
    wuppertal: Municipality,
    saved: datetime.datetime,
    last_day: datetime.date,
) -> None:
    with freeze_time(saved):
        log_in().post("/antraege/neu/meldebescheinigung/", {"gemeinde": "wuppertal"})
        listing = log_in().get("/antraege/").content.decode()
    assert _named_date(listing, r"aufbewahrt bis (\d\d\.\d\d\.\d{4})") == (
        last_day.strftime("%d.%m.%Y")
    )
    with freeze_time(_last_minute(last_day)):
        assert delete_expired_drafts() == 0
    with freeze_time(_first_run_after(last_day)):
        assert delete_expired_drafts() == 1
    assert not Application.objects.exists()


def test_saving_a_step_keeps_the_draft_thirty_calendar_days_from_then(
    log_in: Callable[[], Client], meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    saved, last_day = ACROSS_AUTUMN
    with freeze_time(datetime.datetime(2026, 9, 20, 10, 0, tzinfo=BERLIN)):
        log_in().post("/antraege/neu/meldebescheinigung/", {"gemeinde": "wuppertal"})
    with freeze_time(saved):
        answer_all(Application.objects.get())
        listing = log_in().get("/antraege/").content.decode()
    assert _named_date(listing, r"aufbewahrt bis (\d\d\.\d\d\.\d{4})") == "31.10.2026"
    with freeze_time(_last_minute(last_day)):
        assert delete_expired_drafts() == 0
    with freeze_time(_first_run_after(last_day)):
        assert delete_expired_drafts() == 1


@CASES
def test_an_unpaid_application_waits_thirty_calendar_days_for_its_fee(
    log_in: Callable[[], Client],
    citizen: User,
    meldebescheinigung: Service,
    wuppertal: Municipality,
    saved: datetime.datetime,
    last_day: datetime.date,
) -> None:
    Responsibility.objects.filter(service=meldebescheinigung).update(local_fee=Decimal("10.00"))
    with freeze_time(saved - datetime.timedelta(days=2)):
        log_in().post("/antraege/neu/meldebescheinigung/", {"gemeinde": "wuppertal"})
        application = Application.objects.get()
        answer_all(application)
    with freeze_time(saved):
        submit_application(
            application=application, idempotency_key="k", confirmed=True, actor=citizen
        )
        page = log_in().get(f"/antraege/{application.public_id}/").content.decode()
    assert _named_date(page, r"bis zum (\d\d\.\d\d\.\d{4}) bezahlt") == (
        last_day.strftime("%d.%m.%Y")
    )
    with freeze_time(_last_minute(last_day)):
        assert delete_expired_unpaid() == 0
    assert Application.objects.exists()
    with freeze_time(_first_run_after(last_day)):
        assert delete_expired_unpaid() == 1
    assert not Application.objects.exists()
