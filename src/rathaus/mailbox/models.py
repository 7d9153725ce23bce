"""The Postfach: messages between the authority and a citizen, their files and the retrieval log.

The mailbox sits below applications and casework (DESIGN.md), so a message names its application
and case by plain values (``application_id``, ``case_number``), never by a foreign key upward.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from rathaus.core.models import AppendOnlyModel, Authority

#: ``Message.notification_error`` while the owner has no confirmed e-mail address: the § 9 OZG
#: notification is withheld until they confirm one (``tasks.queue_after_confirmation``).
NO_CONFIRMED_ADDRESS = "no confirmed e-mail address"
#: How often the notification job tries to send before it gives up (``tasks.send_notification``).
NOTIFICATION_ATTEMPTS = 10
#: A notification whose job has not run this long after provision is re-queued as probably lost
#: (``tasks.queue_stranded_notifications``), up to ``NOTIFICATION_STRANDED_UNTIL``; older ones
#: are left to the administration.
NOTIFICATION_STRANDED_AFTER = timedelta(minutes=10)
NOTIFICATION_STRANDED_UNTIL = timedelta(days=1)


class Message(models.Model):
    """One message in a citizen's Postfach, from the authority or (a reply) from the citizen."""

    class Kind(models.TextChoices):
        NOTICE = "notice", _("Notice")
        REQUEST = "request", _("Request")
        INFORMATION = "information", _("Information")
        RECEIPT = "receipt", pgettext_lazy("message kind", "Receipt")
        REPLY = "reply", _("Reply")

    #: The id in URLs: random, so that nobody reaches a message by counting.
    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="mailbox_messages",
        verbose_name=pgettext_lazy("mailbox", "owner"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("text"), blank=True)
    #: The language subject and text are written in ("de", "en"); empty where it is not known
    #: (a citizen's reply). Pages in another language mark them with it (WCAG 3.1.2).
    language = models.CharField(_("language"), max_length=2, blank=True, default="")
    authority = models.ForeignKey(
        Authority,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("authority"),
    )
    application_id = models.CharField(_("application"), max_length=64, blank=True, db_index=True)
    case_number = models.CharField(_("case number"), max_length=40, blank=True, db_index=True)
    legal_basis = models.CharField(
        _("legal basis"),
        max_length=40,
        blank=True,
        help_text=_("Key in MAILBOX_ANNOUNCEMENT_DAYS; empty means the default."),
    )
    legal_effect = models.BooleanField(
        _("legal effect"),
        default=False,
        help_text=_("Notices take effect when announced (§ 9 OZG); other messages do not."),
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replies",
        verbose_name=_("in reply to"),
    )
    from_citizen = models.BooleanField(_("from the citizen"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    #: § 9 Abs. 1 OZG: when the message was made available for retrieval (the authority's proof).
    provided_at = models.DateTimeField(_("made available"), db_index=True)
    #: When the e-mail "a message is waiting" was accepted by the mail server; set exactly once.
    notified_at = models.DateTimeField(_("notified by e-mail"), null=True, blank=True)
    notification_attempts = models.PositiveSmallIntegerField(_("notification attempts"), default=0)
    notification_error = models.CharField(_("last notification error"), max_length=500, blank=True)
    #: The owner's first opening or download (RetrievalLog holds every one).
    first_retrieved_at = models.DateTimeField(_("first retrieved"), null=True, blank=True)
    #: Bekanntgabe, kept in step with provision and first retrieval (mailbox.announcement).
    announced_on = models.DateField(_("announced on"), null=True, blank=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    #: A reply's key from the form that sent it, unique per owner: a second post of the same
    #: form (a double click) is answered with the first reply (services.send_reply). Empty for
    #: messages from the authority and for replies sent from a page without a key.
    idempotency_key = models.CharField(_("reply key"), max_length=64, blank=True, default="")
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)

    class Meta:
        verbose_name = _("mailbox message")
        verbose_name_plural = _("mailbox messages")
        ordering = ["-provided_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "archived_at", "-provided_at"]),
            models.Index(fields=["authority", "case_number"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(from_citizen=False) | models.Q(parent__isnull=False),
                name="mailbox_reply_has_parent",
            ),
            models.CheckConstraint(
                condition=models.Q(legal_effect=False) | models.Q(announced_on__isnull=False),
                name="mailbox_legal_effect_has_announcement",
            ),
            models.UniqueConstraint(
                fields=["owner", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="mailbox_reply_key_unique_per_owner",
            ),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_unread(self) -> bool:
        return self.read_at is None and not self.from_citizen


def attachment_path(instance: MessageAttachment, filename: str) -> str:
    return f"mailbox/{instance.message.public_id}/{uuid.uuid4().hex}"


class MessageAttachment(models.Model):
    """A file of a message (the notice PDF, a receipt, a citizen's evidence); stored once."""

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("message")
    )
    name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    file = models.FileField(
        pgettext_lazy("upload", "file"), upload_to=attachment_path, max_length=255
    )
    size = models.PositiveIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    created_at = models.DateTimeField(_("stored"), auto_now_add=True)

    class Meta:
        verbose_name = _("message attachment")
        verbose_name_plural = _("message attachments")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class PendingFileDeletion(models.Model):
    """A stored file of a deleted message attachment, still to be deleted from the storage.

    Written in the transaction that deletes the attachment (the owner's account deletion,
    Art. 17 GDPR) and removed once the storage confirms the deletion
    (``services.delete_pending_files``): a storage failure, or a process that dies in between,
    leaves a row that the periodic job retries, never a notice or a citizen's evidence in the
    storage that nothing refers to."""

    storage_name = models.CharField(_("storage name"), max_length=255)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("file still to be deleted")
        verbose_name_plural = _("files still to be deleted")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.storage_name


class RetrievalLog(AppendOnlyModel):
    """Every opening and download of a message by its owner: the authority's proof of retrieval."""

    class Action(models.TextChoices):
        OPENED = "opened", pgettext_lazy("message", "opened")
        DOWNLOADED = "downloaded", _("downloaded")

    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, related_name="retrievals", verbose_name=_("message")
    )
    attachment = models.ForeignKey(
        MessageAttachment,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("attachment"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("retrieved by"),
    )
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    at = models.DateTimeField(_("time"), db_index=True)
    #: What exactly was retrieved: the file's SHA-256 for a download.
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("browser"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("retrieval")
        verbose_name_plural = _("retrieval log")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{timezone.localtime(self.at):%Y-%m-%d %H:%M} {self.action} {self.message_id}"
