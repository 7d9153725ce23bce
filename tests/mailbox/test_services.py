"""deliver(), send_reply() and the retrieval log: what the authority can later prove."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.utils import timezone
from freezegun import freeze_time

from rathaus.accounts.models import User
from rathaus.core.models import AuditEvent
from rathaus.core.scanning import ClamdScanner
from rathaus.mailbox.errors import MailboxError, ReplyRefused
from rathaus.mailbox.models import Message, RetrievalLog
from rathaus.mailbox.selectors import case_deliveries, mailbox_messages, unread_count
from rathaus.mailbox.services import archive, deliver, record_retrieval, send_reply, unarchive
from rathaus.mailbox.signals import reply_received
from tests.fixtures.clamd import EICAR

#: A whole 1x1 PNG (signature, IHDR, IDAT, IEND): uploads are checked for being complete.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108000000003a7e9b55"
    "0000000a49444154789c63f80f0001010100b138f6140000000049454e44ae426082"
)


@pytest.mark.django_db
def test_deliver_records_provision_attachments_and_queues_the_notification(
    citizen: User,
    deliver_notice: Any,
    notice_pdf: bytes,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with (
        freeze_time("2026-11-20 13:00:00"),
        django_capture_on_commit_callbacks(execute=False) as callbacks,
    ):
        message = deliver_notice(application_id=42)
    assert message.kind == "notice"
    assert message.legal_effect is True
    assert message.provided_at.isoformat() == "2026-11-20T13:00:00+00:00"
    assert message.application_id == "42"
    [attachment] = message.attachments.all()
    assert attachment.name == "Bescheid.pdf"
    assert attachment.file.read() == notice_pdf
    assert len(attachment.sha256) == 64
    # after the commit: the e-mail job is queued, and the files are kept (a rollback deletes them)
    assert len(callbacks) == 2
    assert AuditEvent.objects.filter(action="mailbox.delivered", object_id=str(message.pk)).count()


@pytest.mark.django_db(transaction=True)
def test_a_notification_queue_failing_after_the_commit_leaves_the_delivery_standing(
    citizen: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db import OperationalError, transaction

    from rathaus.mailbox import services
    from rathaus.mailbox.tasks import queue_stranded_notifications

    def queue_fails(message_id: int) -> None:
        raise OperationalError("database is locked")

    monkeypatch.setattr(services, "_queue_notification", queue_fails)
    with transaction.atomic():  # the caller's transaction, e.g. issuing a notice
        message = deliver(owner=citizen, kind="information", subject="Hinweis", body="Text")

    assert Message.objects.filter(pk=message.pk, notified_at__isnull=True).exists()
    monkeypatch.undo()
    with freeze_time(timezone.now() + timedelta(hours=1)):
        assert queue_stranded_notifications.call() >= 1  # the e-mail is queued later


@pytest.mark.django_db
def test_deliver_refuses_unknown_kinds_and_strips_paths_from_file_names(citizen: User) -> None:
    with pytest.raises(MailboxError):
        deliver(owner=citizen, kind="reply", subject="x", body="")
    with pytest.raises(MailboxError):
        deliver(owner=citizen, kind="information", subject="  ", body="")
    message = deliver(
        owner=citizen,
        kind="information",
        subject="Hinweis",
        body="",
        attachments=[("../../etc/passwd.pdf", "application/pdf", b"%PDF-1.7")],
    )
    assert message.attachments.get().name == "passwd.pdf"


@pytest.mark.django_db
def test_reply_lands_with_its_files_and_tells_casework(
    citizen: User, deliver_notice: Any, clamd_address: str, settings: Any
) -> None:
    settings.CLAMD_ADDRESS = clamd_address
    original = deliver_notice(kind="request", subject="Bitte reichen Sie nach")
    received: list[tuple[Message, Message]] = []

    def receiver(sender: Any, message: Message, original: Message, **kwargs: Any) -> None:
        received.append((message, original))

    reply_received.connect(receiver)
    try:
        answer = send_reply(
            message=original,
            owner=citizen,
            body="Anbei das Foto.",
            attachments=[("C:\\Fotos\\foto.png", "image/png", PNG)],
        ).message
    finally:
        reply_received.disconnect(receiver)
    assert received == [(answer, original)]
    assert answer.from_citizen is True
    assert answer.parent == original
    assert answer.case_number == original.case_number
    assert answer.subject == "Re: Bitte reichen Sie nach"
    [file] = answer.attachments.all()
    assert (file.name, file.content_type) == ("foto.png", "image/png")
    assert unread_count(owner=citizen) == 1  # the citizen's own reply is never "unread"


@pytest.mark.django_db
def test_reply_with_malware_or_a_disallowed_type_is_refused_with_a_reason(
    citizen: User, deliver_notice: Any, clamd_address: str
) -> None:
    original = deliver_notice(kind="request")
    scanner = ClamdScanner(clamd_address)
    with pytest.raises(ReplyRefused) as refused:
        send_reply(
            message=original,
            owner=citizen,
            body="",
            attachments=[
                ("virus.pdf", "application/pdf", b"%PDF-1.4\n" + EICAR),
                ("seite.html", "text/html", b"<html><script>alert(1)</script></html>"),
            ],
            scanner=scanner,
        )
    errors = refused.value.field_errors["attachments"]
    assert any("virus.pdf" in e and "Schadsoftware" in e for e in errors)
    assert any("seite.html" in e and "kein erlaubter" in e for e in errors)
    assert not Message.objects.filter(from_citizen=True).exists()


@pytest.mark.django_db
def test_reply_needs_text_or_a_file(citizen: User, deliver_notice: Any) -> None:
    with pytest.raises(ReplyRefused) as refused:
        send_reply(message=deliver_notice(), owner=citizen, body="   ")
    assert refused.value.field_errors == {
        "body": ["Bitte schreiben Sie einen Text oder hängen Sie eine Datei an."]
    }


@pytest.mark.django_db
def test_nobody_but_the_owner_can_reply_or_retrieve(
    citizen: User, other_citizen: User, deliver_notice: Any
) -> None:
    message = deliver_notice()
    with pytest.raises(PermissionDenied):
        send_reply(message=message, owner=other_citizen, body="Ich bin es nicht.")
    with pytest.raises(PermissionDenied):
        record_retrieval(message=message, user=other_citizen, request=None)
    with pytest.raises(PermissionDenied):
        archive(message=message, user=other_citizen)
    message.refresh_from_db()
    assert message.first_retrieved_at is None
    assert not RetrievalLog.objects.exists()


@pytest.mark.django_db
def test_every_retrieval_is_logged_and_the_log_cannot_be_changed(
    citizen: User, deliver_notice: Any
) -> None:
    message = deliver_notice()
    attachment = message.attachments.get()
    request = RequestFactory().get("/", REMOTE_ADDR="192.0.2.7", HTTP_USER_AGENT="Testbrowser")
    with freeze_time("2026-11-21 08:00:00"):
        opened = record_retrieval(message=message, user=citizen, request=request)
    with freeze_time("2026-11-21 08:01:00"):
        downloaded = record_retrieval(
            message=message, user=citizen, request=request, attachment=attachment
        )
    assert (opened.action, downloaded.action) == ("opened", "downloaded")
    assert downloaded.sha256 == attachment.sha256
    assert downloaded.ip_address == "192.0.2.7"
    message.refresh_from_db()
    assert message.first_retrieved_at == opened.at
    assert message.read_at == opened.at
    with pytest.raises(PermissionError):
        opened.save()
    with pytest.raises(PermissionError):
        RetrievalLog.objects.all().delete()
    with pytest.raises(PermissionError):
        RetrievalLog.objects.update(ip_address=None)


@pytest.mark.django_db
@pytest.mark.parametrize("remote", ["", "unix:/run/granian.sock", "fe80::1%eth0", "2001:DB8::7"])
def test_a_retrieval_is_logged_whatever_address_the_server_reports(
    citizen: User, deliver_notice: Any, remote: str
) -> None:
    """Behind a proxy on a Unix socket there may be no IP address: the column takes addresses
    only (PostgreSQL refuses anything else), and the retrieval must be logged all the same."""
    message = deliver_notice()
    logged = record_retrieval(
        message=message, user=citizen, request=RequestFactory().get("/", REMOTE_ADDR=remote)
    )
    logged.refresh_from_db()
    expected = {"fe80::1%eth0": "fe80::1", "2001:DB8::7": "2001:db8::7"}.get(remote)
    assert logged.ip_address == expected
    message.refresh_from_db()
    assert message.first_retrieved_at == logged.at


@pytest.mark.django_db
def test_unread_count_archive_and_search_cover_only_the_owners_messages(
    citizen: User, other_citizen: User, deliver_notice: Any
) -> None:
    notice = deliver_notice(subject="Bescheid Bewohnerparkausweis")
    deliver_notice(
        kind="information", subject="Hinweis zur Wahl", body="Briefwahl ab Montag", attachments=[]
    )
    deliver_notice(owner=other_citizen, subject="Bescheid Bewohnerparkausweis fremd")

    assert unread_count(owner=citizen) == 2
    assert [m.subject for m in mailbox_messages(owner=citizen, query="parkausweis")] == [
        "Bescheid Bewohnerparkausweis"
    ]
    assert [m.subject for m in mailbox_messages(owner=citizen, query="briefwahl")] == [
        "Hinweis zur Wahl"
    ]
    assert [m.subject for m in mailbox_messages(owner=citizen, query="Bescheid.pdf")] == [
        "Bescheid Bewohnerparkausweis"
    ]
    archive(message=notice, user=citizen)
    assert unread_count(owner=citizen) == 1
    assert [m.subject for m in mailbox_messages(owner=citizen, archived=True)] == [
        "Bescheid Bewohnerparkausweis"
    ]
    unarchive(message=notice, user=citizen)
    assert mailbox_messages(owner=citizen).count() == 2
    assert mailbox_messages(owner=None).count() == 0


@pytest.mark.django_db
def test_case_deliveries_show_the_clerk_retrieval_and_announcement(
    citizen: User, deliver_notice: Any
) -> None:
    with freeze_time("2026-11-20 13:00:00"):
        message = deliver_notice()
    with freeze_time("2026-11-21 07:30:00"):
        record_retrieval(message=message, user=citizen, request=None)
        send_reply(message=message, owner=citizen, body="Danke.")
        [notice, answer] = case_deliveries(authority=None, case_number="2026-000123")
    assert notice.message == message
    assert notice.first_retrieved_at is not None
    assert str(notice.announced_on) == "2026-11-21"
    assert notice.announced is True
    assert answer.message.from_citizen is True
    assert case_deliveries(authority=None, case_number="") == []


@pytest.mark.django_db
def test_data_export_contains_the_mailbox_with_its_retrievals(
    citizen: User, other_citizen: User, deliver_notice: Any
) -> None:
    from rathaus.accounts.personal_data import collect_personal_data

    message = deliver_notice()
    deliver_notice(owner=other_citizen, subject="Nicht meins")
    record_retrieval(message=message, user=citizen, request=None)
    exported = collect_personal_data(citizen)["mailbox"]
    assert [m["subject"] for m in exported] == ["Bescheid über Ihre Meldebescheinigung"]
    assert exported[0]["attachments"][0]["name"] == "Bescheid.pdf"
    assert [r["action"] for r in exported[0]["retrievals"]] == ["opened"]
