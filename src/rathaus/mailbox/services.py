"""Writes to the Postfach: deliver a message, take a citizen's reply, record retrievals.

Every change is audited in its own transaction; the e-mail notification is queued after commit
(rathaus.mailbox.tasks) so that a rolled-back delivery never announces a message.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import partial
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from rathaus.core import audit
from rathaus.core.models import Authority
from rathaus.core.scanning import VirusScanner
from rathaus.core.stored_files import (
    StoredFileUnavailable,
    delete_pending,
    delete_unless_committed,
    read_verified,
)
from rathaus.core.uploads import UploadPolicy, check_upload
from rathaus.mailbox.announcement import (
    announcement_after_retrieval,
    deemed_announcement,
    recorded_announcement,
)
from rathaus.mailbox.errors import MailboxError, ReplyKeyUsed, ReplyRefused
from rathaus.mailbox.models import (
    Message,
    MessageAttachment,
    PendingFileDeletion,
    RetrievalLog,
)
from rathaus.mailbox.signals import reply_received

logger = logging.getLogger(__name__)

#: (file name, content type, bytes): how attachments travel into the mailbox.
AttachmentData = tuple[str, str, bytes]

MAX_REPLY_CHARS = 10_000
MAX_REPLY_FILES = 10
AUTHORITY_KINDS = {
    Message.Kind.NOTICE,
    Message.Kind.REQUEST,
    Message.Kind.INFORMATION,
    Message.Kind.RECEIPT,
}


def _clean_name(name: str) -> str:
    """The bare file name, without any folder a browser or caller put in front of it."""
    bare = PureWindowsPath(PurePosixPath(name or "").name).name.strip()
    return (bare or "Anhang")[:255]


def _store_attachments(
    message: Message, attachments: Sequence[AttachmentData], written: list[str]
) -> list[str]:
    """Store the files of ``message``, naming each in ``written`` as soon as it is stored;
    returns their SHA-256 digests in order."""
    digests = []
    for name, content_type, data in attachments:
        digest = hashlib.sha256(data).hexdigest()
        attachment = MessageAttachment(
            message=message,
            name=_clean_name(name),
            content_type=(content_type or "application/octet-stream")[:100],
            size=len(data),
            sha256=digest,
        )
        attachment.file.save(digest, ContentFile(data), save=False)
        written.append(attachment.file.name)
        attachment.save()
        digests.append(digest)
    return digests


def deliver(
    *,
    owner: Any,
    kind: str,
    subject: str,
    body: str,
    attachments: Sequence[AttachmentData] = (),
    application_id: int | str | None = None,
    case_number: str = "",
    legal_basis: str = "",
    actor: Any = None,
    authority: Authority | None = None,
    provided_at: datetime | None = None,
    language: str = "",
) -> Message:
    """Make a message from the authority available in ``owner``'s Postfach.

    Records the moment of provision (§ 9 Abs. 1 OZG: the authority must prove it), computes the
    announcement date for notices and queues the e-mail notification for after the commit.
    ``language``: the language ``subject`` and ``body`` are written in, empty if not known;
    pages in another language mark them with it (WCAG 3.1.2).
    """
    if language and language not in dict(settings.LANGUAGES):
        raise ValueError(f"not a language of the site: {language!r}")
    if kind not in AUTHORITY_KINDS:
        raise MailboxError(_("Unknown kind of message: %(kind)s") % {"kind": kind})
    subject = (subject or "").strip()
    if not subject:
        raise MailboxError(_("A message needs a subject."))
    provided = provided_at or timezone.now()
    legal_effect = kind == Message.Kind.NOTICE
    written: list[str] = []
    with transaction.atomic():
        delete_unless_committed(
            written, storage=MessageAttachment._meta.get_field("file").storage, what="delivery"
        )
        message = Message.objects.create(
            owner=owner,
            kind=kind,
            subject=subject[:200],
            body=body or "",
            language=language,
            authority=authority,
            application_id="" if application_id is None else str(application_id),
            case_number=case_number or "",
            legal_basis=legal_basis or "",
            legal_effect=legal_effect,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            provided_at=provided,
            announced_on=(
                deemed_announcement(provided_at=provided, legal_basis=legal_basis)
                if legal_effect
                else None
            ),
        )
        digests = _store_attachments(message, attachments, written)
        audit.record(
            actor=actor,
            action="mailbox.delivered",
            obj=message,
            after={
                "kind": kind,
                "owner": owner.pk,
                "case_number": message.case_number,
                "application_id": message.application_id,
                "provided_at": provided.isoformat(),
                "announced_on": message.announced_on.isoformat() if message.announced_on else None,
                "attachments": digests,
            },
            municipality=authority.municipality if authority is not None else None,
        )
        # robust: the message is committed; a queue that fails now is logged, and
        # tasks.queue_stranded_notifications queues the e-mail later
        transaction.on_commit(lambda: _queue_notification(message.pk), robust=True)
    return message


def _queue_notification(message_id: int) -> None:
    from rathaus.mailbox.tasks import send_notification

    send_notification.enqueue(message_id)


@dataclass(frozen=True)
class SentReply:
    """What :func:`send_reply` did: ``message`` is the reply; ``repeated`` is True when it had
    been sent before with the same form key (a double click), so nothing new was stored."""

    message: Message
    repeated: bool


def send_reply(
    *,
    message: Message,
    owner: Any,
    body: str,
    attachments: Sequence[AttachmentData] = (),
    scanner: VirusScanner | None = None,
    idempotency_key: str = "",
) -> SentReply:
    """Store the owner's reply to a message from the authority and tell casework about it.

    Files go through the same checks as uploads in applications (type by content, virus scan).
    Raises :class:`ReplyRefused` with messages per field when the reply cannot be accepted.

    ``idempotency_key`` is the key of the reply form (unique per owner): the same form posted
    again (a double click, a resent request) gets the reply stored the first time back, and no
    second reply reaches the append-only E-Akte. The same key with another text, other files or
    for another message raises :class:`ReplyKeyUsed` rather than dropping what was written.
    Without a key (a page from before keys) every post is a new reply.
    """
    if owner is None or message.owner_id != owner.pk:
        raise PermissionDenied
    if message.from_citizen:
        raise MailboxError(_("You can only reply to messages from the authority."))
    body = (body or "").strip()
    idempotency_key = (idempotency_key or "").strip()[:64]
    if idempotency_key and (earlier := _earlier_reply(owner, idempotency_key)) is not None:
        return _repeated(earlier, message=message, body=body, attachments=attachments)
    errors: dict[str, list[str]] = {}
    if not body and not attachments:
        errors.setdefault("body", []).append(_("Please write a text or attach a file."))
    if len(body) > MAX_REPLY_CHARS:
        errors.setdefault("body", []).append(
            _("Please shorten your text to at most %(limit)s characters.")
            % {"limit": MAX_REPLY_CHARS}
        )
    if len(attachments) > MAX_REPLY_FILES:
        errors.setdefault("attachments", []).append(
            _("Please attach at most %(limit)s files.") % {"limit": MAX_REPLY_FILES}
        )
    checked: list[AttachmentData] = []
    if "attachments" not in errors:
        for name, _claimed_type, data in attachments:
            verdict = check_upload(name=name, data=data, policy=UploadPolicy(), scanner=scanner)
            if verdict.accepted:
                checked.append((verdict.name, verdict.content_type, verdict.data))
            else:
                errors.setdefault("attachments", []).append(
                    f"{_clean_name(name)}: {verdict.message}"
                )
    if errors:
        raise ReplyRefused(errors)
    now = timezone.now()
    subject = message.subject if message.subject.startswith("Re: ") else f"Re: {message.subject}"
    written: list[str] = []
    try:
        with transaction.atomic():
            delete_unless_committed(
                written, storage=MessageAttachment._meta.get_field("file").storage, what="reply"
            )
            answer = Message.objects.create(
                owner=message.owner,
                kind=Message.Kind.REPLY,
                subject=subject[:200],
                body=body,
                authority=message.authority,
                application_id=message.application_id,
                case_number=message.case_number,
                legal_basis="",
                parent=message,
                from_citizen=True,
                created_by=owner,
                provided_at=now,
                read_at=now,
                idempotency_key=idempotency_key,
            )
            _store_attachments(answer, checked, written)
            audit.record(
                actor=owner,
                action="mailbox.reply_received",
                obj=answer,
                after={
                    "parent": message.pk,
                    "case_number": answer.case_number,
                    "attachments": [a.sha256 for a in answer.attachments.all()],
                },
            )
            reply_received.send(sender=Message, message=answer, original=message)
    except IntegrityError:
        # The same form posted twice at once: the other request stored the reply first (the
        # unique key waited for its commit), so this one is the repeat.
        earlier = _earlier_reply(owner, idempotency_key) if idempotency_key else None
        if earlier is None:
            raise
        return _repeated(earlier, message=message, body=body, attachments=attachments)
    return SentReply(message=answer, repeated=False)


def _earlier_reply(owner: Any, idempotency_key: str) -> Message | None:
    return (
        Message.objects.filter(owner=owner, idempotency_key=idempotency_key)
        .prefetch_related("attachments")
        .first()
    )


def _repeated(
    earlier: Message, *, message: Message, body: str, attachments: Sequence[AttachmentData]
) -> SentReply:
    """The reply ``earlier`` stored with this form's key, if this post is the same reply again."""
    same = (
        earlier.parent_id == message.pk
        and earlier.body == body
        and sorted(a.sha256 for a in earlier.attachments.all())
        == sorted(hashlib.sha256(data).hexdigest() for _name, _type, data in attachments)
    )
    if not same:
        raise ReplyKeyUsed(
            _(
                "This form has already been used to send another reply. Your text is kept "
                "below: please check it and send it again."
            )
        )
    logger.info(
        "mailbox reply sent again with the same form key",
        extra={"reply": str(earlier.public_id)},
    )
    return SentReply(message=earlier, repeated=True)


def _client_ip(request: HttpRequest | None) -> str | None:
    """The client's IP address for the retrieval log (an IPv6 zone left off), or None when the
    server gave none (a Unix socket behind a proxy): the column only takes addresses, and the
    retrieval must be logged all the same."""
    if request is None:
        return None
    address = str(request.META.get("REMOTE_ADDR") or "").split("%", 1)[0]  # without a zone
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:
        return None


def attachment_content(attachment: MessageAttachment) -> bytes:
    """The stored bytes of ``attachment``, checked against the SHA-256 kept at delivery.

    Raises :class:`MailboxError` when they are gone or differ: the retrieval log is the
    authority's proof that the citizen received *this* document, so a changed file is never
    handed out (nor logged) as if it were the delivered one.
    """
    try:
        return read_verified(
            attachment.file,
            sha256=attachment.sha256,
            what="mailbox attachment",
            attachment=str(attachment.public_id),
        )
    except StoredFileUnavailable as exc:
        raise MailboxError(_("This file is not available at the moment.")) from exc


def record_retrieval(
    *,
    message: Message,
    user: Any,
    request: HttpRequest | None,
    attachment: MessageAttachment | None = None,
) -> RetrievalLog:
    """Log one opening (or, with ``attachment``, one download) by the owner.

    The first retrieval of a message from the authority is kept on the message and never
    moves. Under § 9 Abs. 1 OZG it is the moment of announcement if it comes before the day
    fixed at provision (the third day); under § 41 Abs. 2 VwVfG it changes nothing
    (``announcement.announcement_rule``).
    """
    if user is None or not getattr(user, "is_authenticated", False) or user.pk != message.owner_id:
        raise PermissionDenied
    if attachment is not None and attachment.message_id != message.pk:
        raise PermissionDenied
    now = timezone.now()
    with transaction.atomic():
        entry = RetrievalLog.objects.create(
            message=message,
            attachment=attachment,
            user=user,
            action=RetrievalLog.Action.DOWNLOADED if attachment else RetrievalLog.Action.OPENED,
            at=now,
            sha256=attachment.sha256 if attachment else "",
            ip_address=_client_ip(request),
            user_agent=(request.META.get("HTTP_USER_AGENT", "") if request else "")[:300],
        )
        if not message.from_citizen:
            locked = Message.objects.select_for_update().get(pk=message.pk)
            changed: list[str] = []
            if locked.first_retrieved_at is None:
                locked.first_retrieved_at = now
                changed.append("first_retrieved_at")
                if locked.legal_effect:
                    # only ever earlier than the date fixed at provision, and only where the
                    # legal basis says so (never recomputed from today's setting)
                    announced_on = announcement_after_retrieval(
                        announced_on=locked.announced_on,
                        provided_at=locked.provided_at,
                        retrieved_at=now,
                        legal_basis=locked.legal_basis,
                    )
                    if announced_on != locked.announced_on:
                        locked.announced_on = announced_on
                        changed.append("announced_on")
            if locked.read_at is None:
                locked.read_at = now
                changed.append("read_at")
            if changed:
                locked.save(update_fields=changed)
                if "first_retrieved_at" in changed:
                    audit.record(
                        actor=user,
                        action="mailbox.first_retrieval",
                        obj=locked,
                        after={
                            "first_retrieved_at": now.isoformat(),
                            "announced_on": locked.announced_on.isoformat()
                            if locked.announced_on
                            else None,
                            "retrieval": entry.pk,
                        },
                    )
                for name in changed:
                    setattr(message, name, getattr(locked, name))
    return entry


def _set_archived(*, message: Message, user: Any, archived: bool) -> Message:
    if user is None or user.pk != message.owner_id:
        raise PermissionDenied
    with transaction.atomic():
        locked = Message.objects.select_for_update().get(pk=message.pk)
        if (locked.archived_at is not None) == archived:
            return locked
        locked.archived_at = timezone.now() if archived else None
        locked.save(update_fields=["archived_at"])
        audit.record(
            actor=user,
            action="mailbox.archived" if archived else "mailbox.unarchived",
            obj=locked,
        )
    return locked


def archive(*, message: Message, user: Any) -> Message:
    """Move a message out of the inbox; it stays searchable and can be moved back."""
    return _set_archived(message=message, user=user, archived=True)


def unarchive(*, message: Message, user: Any) -> Message:
    return _set_archived(message=message, user=user, archived=False)


def announcement_date(message: Message) -> date | None:
    """The Bekanntgabe date of a notice as stored on it (None for messages without legal
    effect): fixed at provision, made earlier by the first retrieval."""
    if not message.legal_effect:
        return None
    return recorded_announcement(
        announced_on=message.announced_on,
        provided_at=message.provided_at,
        first_retrieved_at=message.first_retrieved_at,
        legal_basis=message.legal_basis,
    )


# --- erasure (Art. 17 GDPR) -------------------------------------------------------------------


def erase_for_account_deletion(user: Any) -> None:
    """Account deletion (registered with accounts, runs in its transaction): the owner's
    messages go, and their stored files after the commit (:func:`delete_files_after_commit`).

    Replies go before the messages they answer (``Message.parent`` protects those), so that a
    citizen who once replied is not kept from deleting the account. The copies the authority
    must keep (notices, filed replies) are in the case's E-Akte, not here.
    """
    messages = Message.objects.filter(owner_id=user.pk)
    delete_files_after_commit(MessageAttachment.objects.filter(message__in=messages))
    while True:
        unanswered = messages.exclude(Exists(Message.objects.filter(parent=OuterRef("pk"))))
        deleted, _per_model = unanswered.delete()
        if not deleted:
            return  # none left (or a loop of replies, which the account's cascade refuses)


def delete_files_after_commit(attachments: Iterable[MessageAttachment]) -> None:
    """Delete the stored files of ``attachments`` once their deletion commits (a rolled-back
    deletion keeps them). Each is noted as pending in the caller's transaction, so that a file
    the storage does not delete is retried by :func:`delete_pending_files`, not forgotten."""
    names = [attachment.file.name for attachment in attachments if attachment.file.name]
    if not names:
        return
    PendingFileDeletion.objects.bulk_create([PendingFileDeletion(storage_name=n) for n in names])
    # robust: the deletion never fails the request or job whose transaction has committed
    transaction.on_commit(partial(delete_pending_files, names=names), robust=True)


def delete_pending_files(*, names: Iterable[str] | None = None) -> int:
    """Delete the stored files still pending deletion (all of them, or those ``names``), each
    on its own (``core.stored_files.delete_pending``): one the storage refuses is logged with
    its storage name, kept for the next run (``tasks.queue_stranded_notifications``, every ten
    minutes) and does not stop the others. Returns how many are still pending."""
    pending = PendingFileDeletion.objects.all()
    if names is not None:
        pending = pending.filter(storage_name__in=list(names))
    storage = MessageAttachment._meta.get_field("file").storage
    return delete_pending(pending, storage=storage, what="file of a deleted mailbox message")
