"""A notification the mail server refuses leaves no e-mail address behind: not in the log lines
(the mailbox's, the retries' of ``core.jobs``, the worker's), not on the message
(``notification_error``), not in the task result's traceback after the last attempt. Kept are
the kind of failure and the SMTP code, which is what the administrator needs."""

from __future__ import annotations

import importlib
import logging
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult

from rathaus.accounts.models import User
from rathaus.core.logging import JsonFormatter
from rathaus.mailbox.models import NO_CONFIRMED_ADDRESS, NOTIFICATION_ATTEMPTS, Message
from rathaus.mailbox.tasks import send_notification

#: The aiosmtpd server of the tests logs every SMTP command under "mail.log"; that is the test's
#: mail server, not Rathaus.
SERVER_LOGGER = "mail.log"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _RefusesRecipient:
    """550 for the recipient: smtplib raises SMTPRecipientsRefused({address: (550, …)})."""

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        return "550 5.1.1 Mailbox unavailable"


class _RefusesDataNamingRecipient:
    """Takes the recipient, then refuses the e-mail with a reply that repeats the address
    (many servers do): smtplib raises SMTPDataError(554, b'… <address> …')."""

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        return f"554 5.7.1 <{envelope.rcpt_tos[0]}>: mailbox over quota"


@pytest.fixture(
    params=[
        (_RefusesRecipient, "SMTPRecipientsRefused 550"),
        (_RefusesDataNamingRecipient, "SMTPDataError 554"),
    ],
    ids=["refused-recipient", "refused-data"],
)
def refusing_server(request: pytest.FixtureRequest, settings: Any) -> Iterator[str]:
    """A real SMTP server on 127.0.0.1 that refuses the notification; yields the summary the
    message must keep."""
    from aiosmtpd.controller import Controller

    handler, summary = request.param
    port = _free_port()
    controller = Controller(handler(), hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 5
    try:
        yield summary
    finally:
        controller.stop()


def _our_log_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    formatter = JsonFormatter()
    return [formatter.format(r) for r in caplog.records if r.name != SERVER_LOGGER]


@pytest.mark.django_db
def test_a_refused_notification_keeps_and_logs_no_address(
    citizen: User, deliver_notice: Any, refusing_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    message = deliver_notice()
    with caplog.at_level(logging.INFO):
        assert send_notification.call(message.pk) is None  # failed, queued again

    message.refresh_from_db()
    assert (message.notified_at, message.notification_attempts) == (None, 1)
    assert message.notification_error == refusing_server
    lines = _our_log_lines(caplog)
    assert any("mailbox notification failed" in line for line in lines)
    assert any("job failed, retrying" in line and refusing_server in line for line in lines)
    assert not [line for line in lines if citizen.email in line]


@pytest.mark.django_db(transaction=True)
def test_the_last_attempt_ends_failed_without_the_address_in_the_task_result(
    citizen: User, deliver_notice: Any, refusing_server: str, caplog: pytest.LogCaptureFixture
) -> None:
    message = deliver_notice()
    DBTaskResult.objects.all().delete()  # the first attempt queued by the delivery
    send_notification.enqueue(message.pk, attempt=NOTIFICATION_ATTEMPTS)
    with caplog.at_level(logging.INFO):
        call_command("db_worker", batch=True, no_startup_delay=True, queue_name="*", verbosity=0)

    failed = DBTaskResult.objects.get()
    assert failed.status == "FAILED"
    assert citizen.email not in failed.traceback
    assert refusing_server in failed.traceback
    assert failed.exception_class_path == "rathaus.mailbox.tasks.NotificationNotSent"
    assert Message.objects.get(pk=message.pk).notification_error == refusing_server
    lines = _our_log_lines(caplog)
    assert any("job failed for good" in line for line in lines)
    assert not [line for line in lines if citizen.email in line]


@pytest.mark.django_db
def test_the_migration_cuts_the_stored_errors_to_kind_and_code(
    citizen: User, deliver_notice: Any
) -> None:
    """Errors stored before (the exception's ``repr``) lose the address: mailbox migration
    0005 keeps their kind and SMTP code as the job does now."""
    address = citizen.email
    stored = {
        f"SMTPRecipientsRefused({{'{address}': (550, b'5.1.1 Mailbox unavailable')}})": (
            "SMTPRecipientsRefused 550"
        ),
        f"SMTPDataError(554, b'5.7.1 <{address}>: mailbox over quota')": "SMTPDataError 554",
        "ConnectionRefusedError(111, 'Connection refused')": "ConnectionRefusedError errno 111",
        "SMTPServerDisconnected('Connection unexpectedly closed')": "SMTPServerDisconnected",
        f"ValueError('Invalid address \"{address}\"')": "ValueError",
        NO_CONFIRMED_ADDRESS: NO_CONFIRMED_ADDRESS,
        "SMTPDataError 554": "SMTPDataError 554",  # already in the new form
    }
    messages = {}
    for error in stored:
        message = deliver_notice()
        Message.objects.filter(pk=message.pk).update(notification_error=error)
        messages[error] = message.pk
    migration: Any = importlib.import_module(
        "rathaus.mailbox.migrations.0005_notification_error_without_address"
    )

    migration.errors_without_address(apps, None)

    kept = {error: Message.objects.get(pk=pk).notification_error for error, pk in messages.items()}
    assert kept == stored
