"""A delivery or reply whose transaction does not commit leaves no file in the storage: no row
would name it. One that commits keeps its files."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.db import transaction

from rathaus.accounts.models import User
from rathaus.mailbox.models import Message, MessageAttachment
from rathaus.mailbox.services import send_reply


def _stored() -> set[str]:
    try:
        folders, _files = default_storage.listdir("mailbox")
    except FileNotFoundError:
        return set()
    return {
        f"mailbox/{folder}/{name}"
        for folder in folders
        for name in default_storage.listdir(f"mailbox/{folder}")[1]
    }


class LaterStepFailed(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_the_files_of_a_delivery_rolled_back_by_its_caller_are_deleted(
    deliver_notice: Any,
) -> None:
    """casework.issue_notice calls deliver() in its own transaction: a step after it that
    fails (the case's status, an event, the audit) rolls the delivery back."""
    before = _stored()
    with pytest.raises(LaterStepFailed), transaction.atomic():
        deliver_notice()
        assert len(_stored() - before) == 1  # written, not yet committed
        raise LaterStepFailed

    assert not MessageAttachment.objects.exists()
    assert _stored() == before


@pytest.mark.django_db(transaction=True)
def test_the_files_of_a_delivery_rolled_back_to_a_savepoint_are_deleted(
    deliver_notice: Any,
) -> None:
    before = _stored()
    with transaction.atomic():
        kept = deliver_notice(subject="bleibt")
        with pytest.raises(LaterStepFailed), transaction.atomic():
            deliver_notice(subject="zurückgerollt")
            raise LaterStepFailed

    assert list(Message.objects.values_list("subject", flat=True)) == ["bleibt"]
    assert _stored() - before == {kept.attachments.get().file.name}


@pytest.mark.django_db(transaction=True)
def test_the_files_of_a_committed_delivery_stay(deliver_notice: Any, notice_pdf: bytes) -> None:
    before = _stored()
    with transaction.atomic():
        message = deliver_notice()

    attachment = message.attachments.get()
    assert _stored() - before == {attachment.file.name}
    with attachment.file.open("rb") as stored:
        assert stored.read() == notice_pdf


@pytest.mark.django_db(transaction=True)
def test_the_files_of_a_reply_rolled_back_are_deleted(
    citizen: User, deliver_notice: Any, notice_pdf: bytes, clamd_address: str, settings: Any
) -> None:
    settings.CLAMD_ADDRESS = clamd_address
    message = deliver_notice()
    before = _stored()

    with pytest.raises(LaterStepFailed), transaction.atomic():
        send_reply(
            message=message,
            owner=citizen,
            body="Anbei der Nachweis.",
            attachments=[("Nachweis.pdf", "application/pdf", notice_pdf)],
        )
        raise LaterStepFailed

    assert not Message.objects.filter(from_citizen=True).exists()
    assert _stored() == before
