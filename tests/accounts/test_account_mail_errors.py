"""A refused account e-mail names no address in what the worker logs or keeps: the job fails
with ``MailNotSent``, the exception's class and SMTP codes only, without the original cause."""

from __future__ import annotations

import logging
import smtplib
from typing import Any

import pytest

from rathaus.accounts import account_mail
from rathaus.core.logging import JsonFormatter

pytestmark = pytest.mark.django_db

ADDRESS = "vera.vergessen@example.org"


class _Refused:
    def send(self) -> None:
        raise smtplib.SMTPRecipientsRefused({ADDRESS: (550, b"5.1.1 <" + ADDRESS.encode() + b">")})


def test_a_refused_recipient_leaves_no_address(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(account_mail, "build_message", lambda mail: _Refused())
    mail: dict[str, Any] = {"template": "account/email/email_confirmation", "user": 7, "id": "m1"}
    with caplog.at_level(logging.INFO):
        account_mail.send_account_mail.func(mail)  # fails, and queues its retry
    logged = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    assert "MailNotSent('SMTPRecipientsRefused 550')" in logged
    assert ADDRESS not in logged
