"""§ 9 Abs. 1 OZG: announced on the third day after provision, or at an earlier first retrieval."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone
from freezegun import freeze_time

from rathaus.accounts.models import User
from rathaus.mailbox.announcement import announcement_on, local_date
from rathaus.mailbox.models import Message
from rathaus.mailbox.selectors import delivery
from rathaus.mailbox.services import announcement_date, record_retrieval

BERLIN = ZoneInfo("Europe/Berlin")


def berlin(*args: int) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def test_notice_provided_on_a_friday_is_announced_on_monday() -> None:
    friday = berlin(2026, 11, 20, 14, 0)
    assert announcement_on(provided_at=friday, first_retrieved_at=None) == date(2026, 11, 23)


def test_retrieval_the_next_morning_is_the_announcement() -> None:
    friday = berlin(2026, 11, 20, 14, 0)
    saturday_morning = berlin(2026, 11, 21, 8, 30)
    assert announcement_on(provided_at=friday, first_retrieved_at=saturday_morning) == date(
        2026, 11, 21
    )


def test_retrieval_after_the_third_day_does_not_move_the_announcement() -> None:
    friday = berlin(2026, 11, 20, 14, 0)
    assert announcement_on(
        provided_at=friday, first_retrieved_at=berlin(2026, 11, 30, 9, 0)
    ) == date(2026, 11, 23)


def test_days_are_counted_in_berlin_when_summer_time_begins() -> None:
    # 29 March 2026, 00:30 CET is still 28 March in UTC: the Berlin date counts.
    provided = datetime(2026, 3, 28, 23, 30, tzinfo=ZoneInfo("UTC"))
    assert announcement_on(provided_at=provided, first_retrieved_at=None) == date(2026, 4, 1)
    # Opened at 00:15 CEST on 31 March (22:15 UTC on 30 March): announced on 31 March.
    retrieved = datetime(2026, 3, 30, 22, 15, tzinfo=ZoneInfo("UTC"))
    assert announcement_on(provided_at=provided, first_retrieved_at=retrieved) == date(2026, 3, 31)


def test_days_are_counted_in_berlin_when_summer_time_ends() -> None:
    # 25 October 2026, 00:30 CEST is 22:30 UTC on 24 October; the day has 25 hours.
    provided = datetime(2026, 10, 24, 22, 30, tzinfo=ZoneInfo("UTC"))
    assert announcement_on(provided_at=provided, first_retrieved_at=None) == date(2026, 10, 28)
    # 23:30 CET on 27 October is 22:30 UTC: still the 27th in Berlin.
    retrieved = datetime(2026, 10, 27, 22, 30, tzinfo=ZoneInfo("UTC"))
    assert announcement_on(provided_at=provided, first_retrieved_at=retrieved) == date(2026, 10, 27)


def test_number_of_days_is_a_setting_per_legal_basis(settings: Any) -> None:
    settings.MAILBOX_ANNOUNCEMENT_DAYS = {"default": 3, "vwvfg_41": 4}
    friday = berlin(2026, 11, 20, 14, 0)
    assert announcement_on(provided_at=friday, first_retrieved_at=None, legal_basis="vwvfg_41") == (
        date(2026, 11, 24)
    )
    assert announcement_on(provided_at=friday, first_retrieved_at=None, legal_basis="other") == (
        date(2026, 11, 23)
    )


@pytest.mark.django_db
def test_delivered_notice_carries_its_announcement_date_and_first_retrieval_moves_it(
    citizen: User, deliver_notice: Any, rf: Any
) -> None:
    with freeze_time("2026-11-20 13:00:00"):  # Friday 14:00 in Berlin
        message = deliver_notice()
    assert message.announced_on == date(2026, 11, 23)
    assert announcement_date(message) == date(2026, 11, 23)
    with freeze_time("2026-11-21 07:30:00"):  # Saturday 08:30 in Berlin
        record_retrieval(message=message, user=citizen, request=rf.get("/"))
        assert delivery(message).announced is True
    with freeze_time("2026-11-22 10:00:00"):
        record_retrieval(message=message, user=citizen, request=rf.get("/"))
    message = Message.objects.get(pk=message.pk)
    assert message.first_retrieved_at == datetime(2026, 11, 21, 7, 30, tzinfo=ZoneInfo("UTC"))
    assert message.announced_on == date(2026, 11, 21)
    assert message.retrievals.count() == 2


@pytest.mark.django_db
def test_receipts_have_no_announcement_date(citizen: User, deliver_notice: Any) -> None:
    message = deliver_notice(kind="receipt")
    assert message.announced_on is None
    assert announcement_date(message) is None
    assert delivery(message).announced is False


@pytest.mark.django_db
def test_clerk_page_keeps_the_announcement_date_after_the_days_setting_changes(
    citizen: User, deliver_notice: Any, settings: Any
) -> None:
    """The date is fixed when the notice is provided (§ 9 Abs. 1 OZG); a later change of
    MAILBOX_ANNOUNCEMENT_DAYS applies to notices provided after it, not to this one."""
    provided = timezone.now() - timedelta(days=4)
    message = deliver_notice(provided_at=provided)
    announced = local_date(provided) + timedelta(days=3)  # yesterday

    settings.MAILBOX_ANNOUNCEMENT_DAYS = {"default": 4}

    message = Message.objects.get(pk=message.pk)
    assert delivery(message).announced_on == announced
    assert delivery(message).announced is True  # the remedy deadline runs since yesterday
    assert announcement_date(message) == announced


@pytest.mark.django_db
def test_opening_after_the_days_setting_changes_does_not_move_the_stored_announcement(
    citizen: User, deliver_notice: Any, settings: Any
) -> None:
    provided = timezone.now() - timedelta(days=4)
    message = deliver_notice(provided_at=provided)
    announced = local_date(provided) + timedelta(days=3)
    settings.MAILBOX_ANNOUNCEMENT_DAYS = {"default": 4}
    client = Client()
    client.force_login(citizen)

    response = client.get(f"/postfach/{message.public_id}/", HTTP_ACCEPT_LANGUAGE="de")

    assert response.status_code == 200
    message.refresh_from_db()
    assert message.first_retrieved_at is not None
    assert message.announced_on == announced
    assert f'id="announced-on">{announced:%d.%m.%Y}<' in response.content.decode()


@pytest.mark.django_db
def test_a_first_retrieval_makes_the_fixed_date_only_earlier_whatever_the_setting_says_now(
    citizen: User, deliver_notice: Any, settings: Any, rf: Any
) -> None:
    settings.MAILBOX_ANNOUNCEMENT_DAYS = {"default": 4}
    with freeze_time("2026-11-20 13:00:00"):  # Friday 14:00 in Berlin
        message = deliver_notice()
    assert message.announced_on == date(2026, 11, 24)  # fixed at provision: the fourth day
    settings.MAILBOX_ANNOUNCEMENT_DAYS = {"default": 2}  # would be Sunday the 22nd now

    with freeze_time("2026-11-23 08:00:00"):  # Monday: before the fixed date, after "2 days"
        record_retrieval(message=message, user=citizen, request=rf.get("/"))

    message = Message.objects.get(pk=message.pk)
    assert message.announced_on == date(2026, 11, 23)  # the retrieval's day, not the 22nd
    assert delivery(message, today=date(2026, 11, 23)).announced_on == date(2026, 11, 23)
