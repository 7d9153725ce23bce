"""allauth's account e-mails go through the task queue: a mail server that is down or slow never
fails or holds a sign-up, login or password reset; the e-mail is sent later, retried with
backoff, in the language of the request, and its link is kept neither in the task table nor in
the logs once it is sent (``rathaus.accounts.account_mail``)."""

from __future__ import annotations

import json
import logging
import re
from datetime import timedelta
from typing import Any

import pytest
from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from allauth.core.context import request_context
from django.conf import settings as django_settings
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.test import Client, RequestFactory
from django.utils import timezone, translation
from django_tasks_db.models import DBTaskResult
from freezegun import freeze_time

from rathaus.accounts.account_mail import ERASED, send_account_mail
from rathaus.accounts.models import User
from tests.accounts.conftest import log_in
from tests.accounts.factories import PASSWORD
from tests.accounts.mail_queue import Sent
from tests.fixtures.smtp import SMTPServer

NEW = "neu@example.org"
LINK = re.compile(r"https?://[^/\s]+(/konto/[^\s]+)")


def _work() -> None:
    call_command("db_worker", batch=True, no_startup_delay=True, queue_name="*", verbosity=0)


def _jobs() -> Any:
    return DBTaskResult.objects.filter(task_path=send_account_mail.module_path)


def _sign_up(client: Client, **headers: Any) -> Any:
    return client.post(
        "/konto/signup/",
        {"email": NEW, "password1": PASSWORD, "password2": PASSWORD},
        **headers,
    )


def _queued_link() -> str:
    """The link in the e-mail waiting in the queue (read from the job's arguments)."""
    [job] = _jobs().filter(status="READY")
    found = LINK.search(json.dumps(job.args_kwargs).replace("\\n", "\n"))
    assert found, job.args_kwargs
    return found.group(0)


def _text(message: Any) -> str:
    return str(message.get_body(preferencelist=("plain",)).get_content())


def _link(message: Any) -> str:
    found = LINK.search(_text(message))
    assert found
    return found.group(1)


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(str(vars(record)) for record in caplog.records)


@pytest.mark.django_db(transaction=True)
def test_sign_up_with_the_mail_server_down_goes_through_and_the_link_is_sent_when_it_is_back(
    client: Client, smtp_server: SMTPServer, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    smtp_server.configure(settings)
    smtp_server.stop()

    response = _sign_up(client)

    assert response.status_code == 302
    assert response["Location"] == "/konto/confirm-email/"
    assert not EmailAddress.objects.get(email=NEW).verified
    assert _jobs().filter(status="READY").count() == 1
    link = _queued_link()

    smtp_server.start()
    _work()

    [message] = smtp_server.messages
    assert message["To"] == NEW
    # (Django folds an encoded subject onto the next line; the parser keeps that space)
    assert message["Subject"].strip() == "[Rathaus] Bitte bestätigen Sie Ihre E-Mail-Adresse"
    assert "Bitte öffnen Sie diesen Link" in _text(message)
    confirm_url = _link(message)
    assert client.post(confirm_url).status_code == 302
    assert EmailAddress.objects.get(email=NEW).verified
    # the link is kept neither in the task table nor in the logs
    assert not _jobs().exists()
    assert link not in _logged(caplog)
    user = User.objects.get(email=NEW)
    sent = [r for r in caplog.records if r.getMessage() == "account mail sent"]
    assert [(r.mail_kind, r.user) for r in sent] == [  # type: ignore[attr-defined]
        ("account/email/email_confirmation_signup", user.pk)
    ]


@pytest.mark.django_db(transaction=True)
def test_login_of_an_unconfirmed_account_with_the_mail_server_down_goes_to_the_confirmation_page(
    client: Client, smtp_server: SMTPServer, settings: Any
) -> None:
    smtp_server.configure(settings)
    smtp_server.stop()
    _sign_up(client)
    client.logout()

    response = client.post("/konto/login/", {"login": NEW, "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/konto/confirm-email/"
    smtp_server.start()
    _work()
    assert {m["To"] for m in smtp_server.messages} == {NEW}
    assert not _jobs().exists()


@pytest.mark.django_db(transaction=True)
def test_password_reset_with_the_mail_server_down_is_sent_later_in_the_requests_language(
    client: Client, citizen: User, smtp_server: SMTPServer, settings: Any
) -> None:
    smtp_server.configure(settings)
    smtp_server.stop()

    response = client.post(
        "/konto/password/reset/", {"email": citizen.email}, HTTP_ACCEPT_LANGUAGE="en"
    )

    assert response.status_code == 302
    assert _jobs().filter(status="READY").count() == 1
    smtp_server.start()
    translation.activate("de")  # the worker's own language plays no part
    _work()
    assert not _jobs().exists()

    [message] = smtp_server.messages
    assert message["To"] == citizen.email
    assert message["Subject"] == "[Rathaus] Choose a new password"
    text = _text(message)
    assert "asked to reset the password of your citizen account" in text
    reset = client.get(_link(message))
    assert reset.status_code == 302
    changed = client.post(
        reset["Location"], {"password1": "Neues-Passwort-2026", "password2": "Neues-Passwort-2026"}
    )
    assert changed.status_code == 302
    citizen.refresh_from_db()
    assert citizen.check_password("Neues-Passwort-2026")


@pytest.mark.django_db(transaction=True)
def test_adding_an_address_with_the_mail_server_down_goes_through(
    client: Client, citizen: User, smtp_server: SMTPServer, settings: Any
) -> None:
    log_in(client, citizen)
    smtp_server.configure(settings)
    smtp_server.stop()

    response = client.post("/konto/email/", {"action_add": "", "email": "zweite@example.org"})

    assert response.status_code == 302
    assert EmailAddress.objects.filter(email="zweite@example.org", verified=False).exists()
    smtp_server.start()
    _work()
    assert "zweite@example.org" in {m["To"] for m in smtp_server.messages}


@pytest.mark.django_db(transaction=True)
def test_a_refused_account_mail_is_retried_with_backoff_and_sent_once(
    client: Client, smtp_server: SMTPServer, settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    smtp_server.configure(settings)
    smtp_server.stop()
    with freeze_time("2026-11-20 13:00:00") as clock:
        _sign_up(client)
        link = _queued_link()
        _work()  # refused
        assert smtp_server.messages == []
        # the failed attempt's row is gone; the retry waits, holding the e-mail once
        [retry] = _jobs()
        assert retry.status == "READY" and retry.args_kwargs["kwargs"] == {"attempt": 2}

        clock.tick(timedelta(seconds=31))
        _work()  # still refused
        [retry] = _jobs()
        assert retry.args_kwargs["kwargs"] == {"attempt": 3}

        smtp_server.start()
        _work()  # the next attempt is not due yet
        assert smtp_server.messages == []
        clock.tick(timedelta(minutes=2))
        _work()
        clock.tick(timedelta(hours=3))
        _work()

    assert [m["To"] for m in smtp_server.messages] == [NEW]
    assert not _jobs().exists()
    refused = [r for r in caplog.records if r.getMessage() == "account mail not sent"]
    assert len(refused) == 2
    assert link not in _logged(caplog)


@pytest.mark.django_db(transaction=True)
def test_an_account_mail_that_never_gets_through_ends_failed_without_its_link(
    client: Client, citizen: User, smtp_server: SMTPServer, settings: Any
) -> None:
    smtp_server.configure(settings)
    smtp_server.stop()
    with freeze_time("2026-11-20 13:00:00") as clock:
        client.post("/konto/password/reset/", {"email": citizen.email})
        link = _queued_link()
        for _ in range(15):
            _work()
            clock.tick(timedelta(hours=2))

    [failed] = _jobs()
    assert failed.status == "FAILED"  # the administrator sees it, with the error
    assert failed.exception_class_path == "rathaus.core.mail_errors.MailNotSent"
    assert failed.args_kwargs == ERASED
    stored = json.dumps(list(DBTaskResult.objects.values()), default=str)
    assert link not in stored
    assert smtp_server.messages == []


@pytest.mark.django_db(transaction=True)
def test_an_account_mail_of_a_transaction_that_is_rolled_back_is_never_sent(
    citizen: User, settings: Any
) -> None:
    """Queued after the commit: with a backend that runs jobs at once too."""
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "QUEUES": django_settings.TASKS["default"]["QUEUES"],
        }
    }
    request = RequestFactory().get("/")
    context = {"user": citizen, "password_reset_url": "http://testserver/konto/reset/x/"}
    adapter = get_adapter(request)

    with request_context(request):
        with pytest.raises(RuntimeError), transaction.atomic():
            adapter.send_mail("account/email/password_reset_key", citizen.email, context)
            raise RuntimeError("rolled back")
        assert mail.outbox == []

        with transaction.atomic():
            adapter.send_mail("account/email/password_reset_key", citizen.email, context)
            assert mail.outbox == []
    assert [m.to for m in mail.outbox] == [[citizen.email]]


def test_the_row_of_a_job_lost_with_its_worker_is_deleted_after_a_day(
    client: Client,
    citizen: User,
    account_mail_sent: Sent,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A worker killed while sending leaves its job "running" for ever, the link in its row."""
    with account_mail_sent():
        client.post("/konto/password/reset/", {"email": citizen.email})
    mail.outbox.clear()
    send_account_mail.enqueue(
        {"id": "lost", "body": "http://testserver/konto/password/reset/key/x"}
    )
    _jobs().update(status="RUNNING", started_at=timezone.now() - timedelta(hours=23))
    recent = _jobs().get()

    with account_mail_sent():
        client.post("/konto/password/reset/", {"email": citizen.email})
    assert list(_jobs()) == [recent]  # may still be sending

    _jobs().update(started_at=timezone.now() - timedelta(days=1, minutes=1))
    with account_mail_sent():
        client.post("/konto/password/reset/", {"email": citizen.email})
    assert not _jobs().exists()
    assert [m.to for m in mail.outbox] == [[citizen.email]] * 2
    assert any(r.getMessage() == "lost account mail jobs deleted" for r in caplog.records)
