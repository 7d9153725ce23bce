"""Reads of the Postfach. Every citizen-facing read is filtered by owner here, in one place.

The back office shows the delivery of a case's messages with :func:`case_deliveries` (provision,
notification, first retrieval, announcement date) and :func:`retrieval_log` (the proof).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext

from rathaus.core.models import Authority
from rathaus.core.raw_sql import fetch_value, table
from rathaus.mailbox.announcement import announcement_rule, local_date, recorded_announcement
from rathaus.mailbox.models import (
    NO_CONFIRMED_ADDRESS,
    NOTIFICATION_ATTEMPTS,
    NOTIFICATION_STRANDED_UNTIL,
    Message,
    MessageAttachment,
    RetrievalLog,
)

MAX_QUERY_CHARS = 200


def _owner_messages(owner: Any) -> QuerySet[Message]:
    if owner is None or not getattr(owner, "is_authenticated", False):
        return Message.objects.none()
    return Message.objects.filter(owner=owner)


def mailbox_messages(
    *, owner: Any, archived: bool = False, query: str = "", kind: str = ""
) -> QuerySet[Message]:
    """The owner's messages from the authority and own replies, newest first.

    ``archived`` picks the archive or the inbox; ``query`` searches subject, text, case number
    and attachment names (case-insensitive) in the owner's own messages only.
    """
    messages = _owner_messages(owner).filter(archived_at__isnull=not archived)
    query = (query or "").strip()[:MAX_QUERY_CHARS]
    if query:
        messages = messages.filter(
            Q(subject__icontains=query)
            | Q(body__icontains=query)
            | Q(case_number__icontains=query)
            | Q(attachments__name__icontains=query)
        ).distinct()
    if kind and kind in Message.Kind.values:
        messages = messages.filter(kind=kind)
    return messages.annotate(attachment_count=Count("attachments", distinct=True)).order_by(
        "-provided_at", "-id"
    )


def unread_count(*, owner: Any) -> int:
    """Unread messages from the authority in the inbox (not archived).

    Every logged-in page shows it in the navigation, so it is written as SQL: the ORM spends
    about a millisecond building the same COUNT each time.
    """
    if owner is None or not getattr(owner, "is_authenticated", False):
        return 0
    sql = (
        f"SELECT COUNT(*) FROM {table(Message)} WHERE owner_id = %s "  # noqa: S608
        "AND archived_at IS NULL AND read_at IS NULL AND from_citizen = %s"
    )  # only the quoted table name goes into the text
    return int(fetch_value(sql, [owner.pk, False]) or 0)


def _parse_public_id(value: Any) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError) as exc:
        raise Http404 from exc


def message_for_owner(*, owner: Any, public_id: Any) -> Message:
    """The owner's message with this public id; 404 for anyone else, as if it did not exist."""
    message = (
        _owner_messages(owner)
        .select_related("parent", "authority")
        .prefetch_related(
            "attachments",
            Prefetch(
                "replies",
                queryset=Message.objects.prefetch_related("attachments").order_by("provided_at"),
            ),
        )
        .filter(public_id=_parse_public_id(public_id))
        .first()
    )
    if message is None:
        raise Http404
    return message


def attachment_for_owner(*, owner: Any, message_id: Any, attachment_id: Any) -> MessageAttachment:
    """A file of the owner's message; 404 for anyone else or a file of another message."""
    attachment = (
        MessageAttachment.objects.select_related("message")
        .filter(
            public_id=_parse_public_id(attachment_id),
            message__public_id=_parse_public_id(message_id),
        )
        .first()
    )
    if (
        attachment is None
        or owner is None
        or not getattr(owner, "is_authenticated", False)
        or attachment.message.owner_id != owner.pk
    ):
        raise Http404
    return attachment


@dataclass(frozen=True)
class Delivery:
    """What the clerk needs to know about one message sent to the citizen."""

    message: Message
    provided_at: datetime
    notified_at: datetime | None
    first_retrieved_at: datetime | None
    announced_on: date | None  #: Bekanntgabe (notices only)
    announced: bool  #: the announcement date has been reached (remedy deadline running)
    #: the e-mail notice of § 9 Abs. 1 OZG: "sent", "no_address" (the owner has no confirmed
    #: address: withheld until one is confirmed), "failing" (SMTP refused, retried), "failed"
    #: (refused at every attempt: given up), "pending" (queued), "lost" (its job never ran and
    #: is no longer re-queued), or "" for the citizen's own messages
    notification: str = ""
    #: the provision the announcement follows ("§ 9 Abs. 1 OZG"), for notices only
    announcement_law: str = ""

    @property
    def announcement_note(self) -> str:
        """What the notice page says about the announcement, citing its legal basis."""
        if self.announced_on is None:
            return ""
        return gettext(
            "The notice counts as announced on %(date)s (%(law)s). Deadlines for legal "
            "remedies start on that day; the instructions on remedies are in the notice."
        ) % {"date": date_format(self.announced_on, "d.m.Y"), "law": self.announcement_law}


def delivery(message: Message, *, today: date | None = None) -> Delivery:
    announced_on = (
        recorded_announcement(  # as stored: a later change of the setting does not move it
            announced_on=message.announced_on,
            provided_at=message.provided_at,
            first_retrieved_at=message.first_retrieved_at,
            legal_basis=message.legal_basis,
        )
        if message.legal_effect
        else None
    )
    if today is None:
        today = local_date(timezone.now())
    return Delivery(
        message=message,
        provided_at=message.provided_at,
        notified_at=message.notified_at,
        first_retrieved_at=message.first_retrieved_at,
        announced_on=announced_on,
        announced=announced_on is not None and announced_on <= today,
        notification=_notification_state(message),
        announcement_law=(
            announcement_rule(message.legal_basis).citation if message.legal_effect else ""
        ),
    )


def _notification_state(message: Message) -> str:
    if message.from_citizen:
        return ""
    if message.notified_at is not None:
        return "sent"
    if message.notification_error == NO_CONFIRMED_ADDRESS:
        return "no_address"
    if message.notification_error:
        return "failed" if message.notification_attempts >= NOTIFICATION_ATTEMPTS else "failing"
    if (
        message.notification_attempts == 0
        and message.provided_at < timezone.now() - NOTIFICATION_STRANDED_UNTIL
    ):
        return "lost"
    return "pending"


def case_deliveries(*, authority: Authority | None, case_number: str) -> list[Delivery]:
    """Messages of one case in both directions, oldest first, with their delivery facts.

    For the clerk's case page (the caller has already checked that the clerk may see the case).
    Case numbers are unique per authority, so both are needed.
    """
    if not case_number:
        return []
    messages = (
        Message.objects.filter(authority=authority, case_number=case_number)
        .select_related("owner")
        .prefetch_related("attachments")
        .order_by("provided_at", "id")
    )
    return [delivery(message) for message in messages]


def receipt_language(message: Message) -> str:
    """The language of the receipt of ``message``'s application (by its case, else by the
    application), which is the language the citizen applied in or chose; empty if there is
    none or its language is not known."""
    if message.case_number:
        same = Q(case_number=message.case_number)
        if message.authority_id is not None:
            same &= Q(authority_id=message.authority_id)
    elif message.application_id:
        same = Q(application_id=message.application_id)
    else:
        return ""
    language = (
        Message.objects.filter(same, owner_id=message.owner_id, kind=Message.Kind.RECEIPT)
        .exclude(language="")
        .order_by("-provided_at", "-id")
        .values_list("language", flat=True)
        .first()
    )
    return language or ""


def retrieval_log(message: Message) -> QuerySet[RetrievalLog]:
    """Every opening and download of ``message`` by its owner: the proof of retrieval."""
    return RetrievalLog.objects.filter(message=message).select_related("attachment", "user")
