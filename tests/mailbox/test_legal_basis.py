"""The Bekanntgabe follows the notice's legal basis: § 9 Abs. 1 OZG (the default) lets an earlier
first retrieval count, § 41 Abs. 2 VwVfG (``"vwvfg_41"``) does not; the notice page and the
e-mail cite the provision that applies, with the date fixed when the notice was made available.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client
from freezegun import freeze_time

from rathaus.accounts.models import User
from rathaus.core.models import AuditEvent
from rathaus.mailbox.models import Message
from rathaus.mailbox.notifications import build_notification
from rathaus.mailbox.services import record_retrieval

FRIDAY_AFTERNOON = "2026-11-20 13:00:00"  # 14:00 in Berlin
SAME_FRIDAY_LATER = "2026-11-20 15:00:00"


def _page(user: User, message: Message) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(f"/postfach/{message.public_id}/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_a_vwvfg_41_notice_opened_at_once_is_announced_on_the_fourth_day_all_the_same(
    citizen: User, deliver_notice: Any, rf: Any, settings: Any
) -> None:
    settings.MAILBOX_ANNOUNCEMENT_DAYS = {"default": 3, "vwvfg_41": 4}
    with freeze_time(FRIDAY_AFTERNOON):
        message = deliver_notice(legal_basis="vwvfg_41")
    assert message.announced_on == date(2026, 11, 24)

    with freeze_time(SAME_FRIDAY_LATER):
        record_retrieval(message=message, user=citizen, request=rf.get("/"))

    message = Message.objects.get(pk=message.pk)
    assert message.first_retrieved_at is not None  # the retrieval is recorded
    assert message.announced_on == date(2026, 11, 24)  # § 41 Abs. 2 VwVfG: not brought forward
    event = AuditEvent.objects.get(action="mailbox.first_retrieval", object_id=str(message.pk))
    assert event.after["announced_on"] == "2026-11-24"


@pytest.mark.django_db
def test_an_ozg_notice_opened_at_once_is_announced_that_day(
    citizen: User, deliver_notice: Any, rf: Any
) -> None:
    with freeze_time(FRIDAY_AFTERNOON):
        message = deliver_notice()
    with freeze_time(SAME_FRIDAY_LATER):
        record_retrieval(message=message, user=citizen, request=rf.get("/"))

    assert Message.objects.get(pk=message.pk).announced_on == date(2026, 11, 20)


@pytest.mark.django_db
def test_a_vwvfg_41_notice_without_days_of_its_own_counts_the_four_days_of_the_law(
    deliver_notice: Any, settings: Any
) -> None:
    settings.MAILBOX_ANNOUNCEMENT_DAYS = {"default": 3}
    with freeze_time(FRIDAY_AFTERNOON):
        message = deliver_notice(legal_basis="vwvfg_41")
    assert message.announced_on == date(2026, 11, 24)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("legal_basis", "law", "wrong"),
    [("", "§ 9 Abs. 1 OZG", "VwVfG"), ("vwvfg_41", "§ 41 Abs. 2 VwVfG", "OZG")],
)
def test_the_notice_page_cites_the_provision_of_its_announcement(
    citizen: User, deliver_notice: Any, settings: Any, legal_basis: str, law: str, wrong: str
) -> None:
    settings.MAILBOX_ANNOUNCEMENT_DAYS = {"default": 3, "vwvfg_41": 4}
    message = deliver_notice(legal_basis=legal_basis)

    page = _page(citizen, message)

    announced = Message.objects.get(pk=message.pk).announced_on
    assert announced is not None
    assert (f"Der Bescheid gilt am {announced:%d.%m.%Y} als bekanntgegeben ({law}).") in page
    assert wrong not in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("legal_basis", "expected"),
    [
        (
            "",
            "Bitte beachten Sie: Die Nachricht ist ein Bescheid. Er gilt am 23.11.2026 als "
            "bekanntgegeben, oder schon an dem Tag, an dem Sie ihn zum ersten Mal öffnen "
            "(§ 9 Abs. 1 OZG).",
        ),
        (
            "vwvfg_41",
            "Bitte beachten Sie: Die Nachricht ist ein Bescheid. Er gilt am 24.11.2026 als "
            "bekanntgegeben (§ 41 Abs. 2 VwVfG).",
        ),
    ],
)
def test_the_email_states_the_date_fixed_for_the_notice_and_its_provision(
    deliver_notice: Any, settings: Any, legal_basis: str, expected: str
) -> None:
    settings.MAILBOX_ANNOUNCEMENT_DAYS = {"default": 3, "vwvfg_41": 4}
    with freeze_time(FRIDAY_AFTERNOON):
        message = deliver_notice(legal_basis=legal_basis)
    # changed before the e-mail goes out: the notice keeps the days it was provided with
    settings.MAILBOX_ANNOUNCEMENT_DAYS = {"default": 5, "vwvfg_41": 6}

    email = build_notification(message, to="erika@example.org")

    html = str(email.alternatives[0][0])
    for part in (email.body, html):
        assert expected in " ".join(part.split())


@pytest.mark.django_db
def test_the_email_of_a_message_without_legal_effect_speaks_of_no_announcement(
    deliver_notice: Any,
) -> None:
    message = deliver_notice(kind="information")

    email = build_notification(message, to="erika@example.org")

    assert "bekanntgegeben" not in email.body
    assert "bekanntgegeben" not in str(email.alternatives[0][0])
