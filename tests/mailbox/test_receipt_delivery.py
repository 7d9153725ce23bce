"""The receipt of a submitted application arrives in the applicant's Postfach (no legal effect)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from rathaus.accounts.models import User
from rathaus.applications.models import Application
from rathaus.applications.receipts import render_receipt
from rathaus.applications.services import start_application, submit_application
from rathaus.catalog.models import Service
from rathaus.core.models import Municipality
from rathaus.mailbox.models import Message
from tests.applications.meldebescheinigung import answer_all


@pytest.mark.django_db(transaction=True)
def test_receipt_is_delivered_to_the_mailbox_once(
    citizen: User, meldebescheinigung: Service, wuppertal: Municipality, mailoutbox: Any
) -> None:
    application = start_application(
        applicant=citizen, service=meldebescheinigung, municipality=wuppertal, trust_level="high"
    )
    answer_all(application, {"kind": "extended", "purpose": "Heirat", "copies": "2"})
    application = submit_application(
        application=application, idempotency_key="m1", confirmed=True, actor=citizen
    )
    call_command("db_worker", batch=True, no_startup_delay=True, queue_name="*", verbosity=0)

    application = Application.objects.get(pk=application.pk)
    message = Message.objects.get(owner=citizen)
    assert message.kind == "receipt"
    assert message.legal_effect is False
    assert message.announced_on is None
    assert message.application_id == str(application.pk)
    assert message.authority_id == application.authority_id
    assert application.reference in message.body
    [attachment] = message.attachments.all()
    assert attachment.sha256 == application.receipt_sha256
    assert attachment.content_type == "application/pdf"
    assert message.notified_at is not None
    assert [m.to for m in mailoutbox] == [[citizen.email]]

    assert render_receipt.call(application.pk) == "exists"
    assert Message.objects.filter(owner=citizen).count() == 1
