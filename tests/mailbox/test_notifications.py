"""The e-mail "a message is waiting" goes through real SMTP, without content, exactly once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult
from freezegun import freeze_time

from rathaus.accounts.models import User
from rathaus.core.models import AuditEvent
from rathaus.mailbox.models import Message
from rathaus.mailbox.selectors import case_deliveries
from rathaus.mailbox.tasks import queue_stranded_notifications, send_notification
from tests.accounts.factories import ProfileFactory
from tests.fixtures.smtp import SMTPServer


def _work() -> None:
    call_command("db_worker", batch=True, no_startup_delay=True, queue_name="*", verbosity=0)


def _parts(mail: Any) -> tuple[str, str]:
    text = mail.get_body(preferencelist=("plain",)).get_content()
    html = mail.get_body(preferencelist=("html",)).get_content()
    return text, html


@pytest.mark.django_db(transaction=True)
def test_notification_says_a_message_is_waiting_but_never_its_content(
    citizen: User, deliver_notice: Any, smtp_server: SMTPServer, settings: Any
) -> None:
    smtp_server.configure(settings)
    message = deliver_notice(body="Ihr Antrag wird abgelehnt, Geheimnis 4711.")
    _work()

    assert len(smtp_server.messages) == 1
    mail = smtp_server.messages[0]
    assert mail["To"] == citizen.email
    assert mail["Subject"] == "Neue Nachricht in Ihrem Rathaus-Postfach"
    text, html = _parts(mail)
    for part in (text, html):
        assert "neue Nachricht" in part
        assert "http://localhost:8000/postfach/" in part
        assert "4711" not in part
        assert "abgelehnt" not in part
        assert "Meldebescheinigung" not in part  # not even the subject
    assert not list(mail.iter_attachments())
    message.refresh_from_db()
    assert message.notified_at is not None
    assert AuditEvent.objects.filter(action="mailbox.notified", object_id=str(message.pk)).exists()


@pytest.mark.django_db(transaction=True)
def test_notification_is_written_in_the_citizens_language(
    citizen: User, deliver_notice: Any, smtp_server: SMTPServer, settings: Any
) -> None:
    smtp_server.configure(settings)
    citizen.profile.preferred_language = "en"
    citizen.profile.save()
    deliver_notice()
    _work()

    mail = smtp_server.messages[0]
    assert mail["Subject"] == "New message in your Rathaus mailbox"
    text, html = _parts(mail)
    assert "a new message is waiting for you" in text
    assert 'lang="en"' in html


@pytest.mark.django_db(transaction=True)
def test_smtp_server_down_notification_is_retried_and_sent_once_when_back(
    citizen: User, deliver_notice: Any, smtp_server: SMTPServer, settings: Any
) -> None:
    smtp_server.configure(settings)
    smtp_server.stop()
    with freeze_time("2026-11-20 13:00:00") as clock:
        message = deliver_notice()
        _work()  # refused: the server is down
        message.refresh_from_db()
        assert message.notified_at is None
        assert message.notification_attempts == 1
        assert "Connection" in message.notification_error or "refused" in message.notification_error
        assert smtp_server.messages == []

        clock.tick(timedelta(seconds=31))
        _work()  # still down: second attempt, retried later again
        message.refresh_from_db()
        assert message.notification_attempts == 2

        smtp_server.start()
        _work()  # the next retry is not due yet
        assert smtp_server.messages == []
        clock.tick(timedelta(minutes=2))
        _work()
        assert len(smtp_server.messages) == 1

        # A duplicate job (a re-queue, a second worker) finds the mark and sends nothing.
        send_notification.enqueue(message.pk)
        clock.tick(timedelta(hours=3))
        _work()
        assert send_notification.call(message.pk) == "already sent"
    assert len(smtp_server.messages) == 1
    message.refresh_from_db()
    assert message.notified_at is not None
    assert message.notification_error == ""
    statuses = sorted(DBTaskResult.objects.values_list("status", flat=True))
    assert statuses == ["SUCCESSFUL"] * 4  # two refused attempts, the delivery, the duplicate


@pytest.mark.django_db(transaction=True)
def test_notification_that_never_gets_through_ends_failed_for_the_administrator(
    citizen: User, deliver_notice: Any, smtp_server: SMTPServer, settings: Any
) -> None:
    smtp_server.configure(settings)
    smtp_server.stop()
    with freeze_time("2026-11-20 13:00:00") as clock:
        message = deliver_notice()
        for _ in range(12):
            _work()
            clock.tick(timedelta(hours=2))
    failed = DBTaskResult.objects.filter(status="FAILED")
    assert failed.count() == 1
    assert failed.get().task_path == "rathaus.mailbox.tasks.send_notification"
    message = Message.objects.get(pk=message.pk)
    assert message.notified_at is None
    assert message.notification_attempts == 10
    assert message.notification_error


@pytest.mark.django_db(transaction=True)
def test_replies_from_the_citizen_send_no_notification(
    citizen: User, deliver_notice: Any, smtp_server: SMTPServer, settings: Any
) -> None:
    from rathaus.mailbox.services import send_reply

    smtp_server.configure(settings)
    message = deliver_notice()
    _work()
    send_reply(message=message, owner=citizen, body="Danke, erhalten.")
    _work()
    assert len(smtp_server.messages) == 1


@pytest.mark.django_db(transaction=True)
def test_a_notification_whose_job_was_lost_is_queued_again_and_sent_once(
    citizen: User, deliver_notice: Any, smtp_server: SMTPServer, settings: Any
) -> None:
    from rathaus.mailbox.tasks import queue_stranded_notifications

    smtp_server.configure(settings)
    with freeze_time("2026-11-20 13:00:00") as clock:
        message = deliver_notice()
        DBTaskResult.objects.all().delete()  # the worker died before the job was stored
        assert queue_stranded_notifications.call() == 0  # too early: the job may still come
        clock.tick(timedelta(minutes=11))
        assert queue_stranded_notifications.call() == 1
        _work()
        assert queue_stranded_notifications.call() == 0
    assert len(smtp_server.messages) == 1
    message.refresh_from_db()
    assert message.notified_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_notification_still_waiting_in_a_long_queue_is_not_queued_twice(
    deliver_notice: Any,
) -> None:
    from rathaus.mailbox.tasks import queue_stranded_notifications

    with freeze_time("2026-11-20 13:00:00") as clock:
        deliver_notice()
        jobs = DBTaskResult.objects.filter(task_path=send_notification.module_path)
        assert jobs.count() == 1
        clock.tick(timedelta(minutes=30))  # the mail queue is long today
        assert queue_stranded_notifications.call() == 0
        assert jobs.count() == 1


@pytest.mark.django_db(transaction=True)
def test_no_notification_to_an_unconfirmed_address_until_its_owner_confirms_it(
    deliver_notice: Any, smtp_server: SMTPServer, settings: Any
) -> None:
    """An address typed after a citizen-account login may be a typo: its owner learns nothing
    until the citizen confirms it; then the withheld notification goes out, once."""
    from allauth.account.models import EmailAddress
    from allauth.account.signals import email_confirmed
    from django.test import RequestFactory

    smtp_server.configure(settings)
    owner = ProfileFactory(
        given_names="Tippfehler", family_name="Test", user__verified_email=False
    ).user
    address = EmailAddress.objects.create(user=owner, email=owner.email, verified=False)
    message = deliver_notice(owner=owner)
    _work()
    assert smtp_server.messages == []
    message.refresh_from_db()
    assert message.notified_at is None
    assert message.notification_error == "no confirmed e-mail address"
    # the clerk sees why the citizen was not told
    [delivery] = case_deliveries(authority=message.authority, case_number=message.case_number)
    assert delivery.notification == "no_address"
    # Withheld, not stranded: the periodic re-queue leaves it alone.
    with freeze_time(message.provided_at + timedelta(hours=2)):
        assert queue_stranded_notifications.call() == 0

    address.verified = True
    address.save()
    email_confirmed.send(
        sender=EmailAddress, request=RequestFactory().get("/"), email_address=address
    )
    _work()
    _work()
    assert [mail["To"] for mail in smtp_server.messages] == [owner.email]
    message.refresh_from_db()
    assert message.notified_at is not None
    [delivery] = case_deliveries(authority=message.authority, case_number=message.case_number)
    assert delivery.notification == "sent" and delivery.notified_at == message.notified_at
