"""Background jobs of the mailbox: the e-mail notification, sent at most once.

The job locks the message, checks ``notified_at``, hands the e-mail to the SMTP server and marks
it sent in the same transaction: a retried or duplicated job finds the mark and sends nothing.
When the server cannot be reached the job is retried with backoff (rathaus.core.jobs); after the
last attempt it ends FAILED in the task results (admin), and the message shows the last error.
The error is kept, logged and raised as :class:`NotificationNotSent`: its kind and SMTP codes
only, never the recipient's address, which a refusal (``SMTPRecipientsRefused``) or the server's
reply text carries.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_tasks import task

from rathaus.accounts.selectors import notification_address
from rathaus.core import audit
from rathaus.core.jobs import queue_again, retrying_task
from rathaus.core.mail_errors import failure_summary
from rathaus.mailbox.models import (
    NO_CONFIRMED_ADDRESS,
    NOTIFICATION_ATTEMPTS,
    NOTIFICATION_STRANDED_AFTER,
    NOTIFICATION_STRANDED_UNTIL,
    Message,
)
from rathaus.mailbox.notifications import build_notification
from rathaus.mailbox.services import delete_pending_files

logger = logging.getLogger(__name__)


class NotificationNotSent(Exception):
    """The notification did not go out; the text is :func:`failure_summary` of the cause.

    Raised instead of the cause, which is neither chained nor kept as context: the cause's text
    may name the recipient's address, and the retry log lines (``core.jobs``), the worker's log
    and the traceback in the task results all write the exception raised.
    """


@retrying_task(
    queue_name="mail",
    max_attempts=NOTIFICATION_ATTEMPTS,
    base_delay=timedelta(seconds=30),
    max_delay=timedelta(hours=1),
)
def send_notification(message_id: int) -> str:
    """Job: e-mail the owner that a message is waiting (never its content)."""
    failure: Exception | None = None
    with transaction.atomic():
        message = (
            Message.objects.select_for_update()
            .select_related("owner")
            .filter(pk=message_id)
            .first()
        )
        if message is None:
            return "gone"
        if message.notified_at is not None:
            return "already sent"
        address = notification_address(user=message.owner)
        if not address:
            # Withheld until the owner confirms an address (queue_after_confirmation), and not
            # re-queued as stranded meanwhile.
            message.notification_attempts += 1
            message.notification_error = NO_CONFIRMED_ADDRESS
            message.save(update_fields=["notification_attempts", "notification_error"])
            return "no confirmed address"
        try:
            build_notification(message, to=address).send()
        except Exception as exc:  # SMTP refused, unreachable, timed out: retry later
            failure = exc
        else:
            message.notified_at = timezone.now()
            message.notification_attempts += 1
            message.notification_error = ""
            message.save(
                update_fields=["notified_at", "notification_attempts", "notification_error"]
            )
            audit.record(
                actor=None,
                action="mailbox.notified",
                obj=message,
                after={"notified_at": message.notified_at.isoformat()},
            )
    if failure is not None:
        summary = failure_summary(failure)[:500]
        Message.objects.filter(pk=message_id).update(
            notification_attempts=F("notification_attempts") + 1,
            notification_error=summary,
        )
        logger.warning(
            "mailbox notification failed",
            extra={"mailbox_message": message_id, "error": summary},
        )
        # not chained (``from None``, and raised outside the except block): the cause's text
        # would reach the logs and the task result's traceback
        raise NotificationNotSent(summary) from None
    logger.info("mailbox notification sent", extra={"mailbox_message": message_id})
    return "sent"


@task(queue_name="mail")
def queue_stranded_notifications() -> int:
    """Periodic: queue the notification again for messages whose job never ran and is neither
    waiting in the queue nor running (``core.jobs.queue_again``); and try again to delete the
    stored files of deleted messages that the storage refused before
    (``services.delete_pending_files``).

    Safe to repeat: the send job checks ``notified_at`` under a lock, so nothing is sent twice.
    """
    delete_pending_files()
    now = timezone.now()
    stranded = Message.objects.filter(
        from_citizen=False,
        notified_at__isnull=True,
        notification_attempts=0,
        provided_at__lte=now - NOTIFICATION_STRANDED_AFTER,
        provided_at__gte=now - NOTIFICATION_STRANDED_UNTIL,
    ).values_list("pk", flat=True)
    return queue_again(send_notification, stranded, lost_after=NOTIFICATION_STRANDED_AFTER)


def queue_after_confirmation(*, user_id: int) -> int:
    """Queue the notifications withheld while ``user_id`` had no confirmed e-mail address."""
    waiting = list(
        Message.objects.filter(
            owner_id=user_id, from_citizen=False, notified_at__isnull=True
        ).values_list("pk", flat=True)
    )
    for message_id in waiting:
        send_notification.enqueue(message_id)
    return len(waiting)
