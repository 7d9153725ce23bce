"""Antrag: a citizen's application for a service, from draft to submission."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from rathaus.catalog.models import Service
from rathaus.core.models import Authority, Municipality


class Application(models.Model):
    """One application. A draft holds the answers so far; submission freezes them."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        AWAITING_PAYMENT = "awaiting_payment", _("waiting for payment")
        SUBMITTED = "submitted", _("submitted")
        WITHDRAWN = "withdrawn", _("withdrawn")

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        # never with the account: its deletion (accounts.services.delete_account) deletes drafts
        # and purged applications first and is refused while the authority keeps the others
        on_delete=models.PROTECT,
        related_name="applications",
        verbose_name=_("applicant"),
    )
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="applications", verbose_name=_("service")
    )
    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="applications",
        verbose_name=_("municipality of residence"),
    )
    authority = models.ForeignKey(
        Authority,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="applications",
        verbose_name=_("responsible authority"),
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    answers = models.JSONField(_("answers"), default=dict, blank=True)
    context = models.JSONField(
        _("service context"),
        default=dict,
        blank=True,
        help_text=_("Data a service's rules attach, e.g. the election of a postal vote."),
    )
    current_step = models.CharField(_("current step"), max_length=64, blank=True)
    schema_hash = models.CharField(_("form version"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("last saved"), auto_now=True)
    expires_at = models.DateTimeField(_("draft expires"), null=True, blank=True, db_index=True)
    # Set once, at submission (§ 9a OZG: the declaration as reviewed and confirmed).
    reference = models.CharField(
        _("reference number"), max_length=32, unique=True, null=True, blank=True
    )
    submitted_at = models.DateTimeField(_("submitted"), null=True, blank=True)
    submitted_data = models.JSONField(_("submitted declaration"), null=True, blank=True)
    declaration_confirmed_at = models.DateTimeField(
        _("declaration confirmed"), null=True, blank=True
    )
    # The key of the review form that sent it, for the record. Not unique: a submission is
    # idempotent through the row lock on the draft (submit_application), and a key posted twice
    # for two drafts (a replayed or hand-made form) must not fail the second one.
    idempotency_key = models.CharField(  # noqa: DJ001 (NULL for drafts, as it was when unique)
        _("submission key"), max_length=64, null=True, blank=True
    )
    # The one-time key of the start page that opened the draft: the same page sent twice (a
    # double click) opens one draft (services.start_application).
    start_key = models.CharField(_("start key"), max_length=32, blank=True, default="")
    # The language of the pages the citizen sent it from: the receipt is written in it unless
    # the profile names a preferred language (receipts.receipt_language).
    language = models.CharField(
        _("language of the application"), max_length=2, blank=True, default=""
    )
    # The fee as quoted on the review page when the citizen sent it (payments.FeeQuote.to_data):
    # what is paid online afterwards, even if the catalog's fees change meanwhile.
    fee_quote = models.JSONField(_("fee quoted at submission"), null=True, blank=True)
    receipt = models.FileField(
        _("receipt (PDF)"), upload_to="receipts/%Y/", blank=True, max_length=255
    )
    receipt_sha256 = models.CharField(_("receipt SHA-256"), max_length=64, blank=True)
    case = models.OneToOneField(
        "casework.Case",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="application",
        verbose_name=_("case"),
    )
    electronic_delivery = models.BooleanField(
        _("notice by retrieval from the mailbox"),
        default=True,
        help_text=_("§ 9 OZG: consent is deemed given unless the citizen opts out."),
    )
    # Set when the answers, attachments and receipt were purged after the case's file was
    # disposed of (applications.disposal.purge_application); the row stays for the citizen's
    # list and for the payments booked on it.
    purged_on = models.DateField(_("personal data purged on"), null=True, blank=True)

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["applicant", "-updated_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="submitted")
                | (models.Q(reference__isnull=False) & models.Q(submitted_at__isnull=False)),
                name="application_submitted_has_reference",
            ),
            models.UniqueConstraint(
                fields=["applicant", "start_key"],
                condition=~models.Q(start_key=""),
                name="application_start_key_once",
            ),
        ]

    def __str__(self) -> str:
        return self.reference or f"{self.service} ({self.get_status_display()})"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT


def attachment_path(instance: Attachment, filename: str) -> str:
    return f"applications/{instance.application.public_id}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    """A file the citizen uploaded for a file field; checked before it was stored."""

    application = models.ForeignKey(
        Application,
        on_delete=models.CASCADE,
        related_name="attachments",
        verbose_name=_("application"),
    )
    field_id = models.CharField(_("form field"), max_length=64)
    file = models.FileField(
        pgettext_lazy("upload", "file"), upload_to=attachment_path, max_length=255
    )
    original_name = models.CharField(_("file name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=100)
    size = models.PositiveIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.original_name


class PendingFileDeletion(models.Model):
    """A stored file of a deleted attachment, still to be deleted from the storage.

    Written in the transaction that deletes the attachment and removed once the storage confirms
    the deletion (``uploads.delete_pending_files``): a storage failure, or a process that dies in
    between, leaves a row that the hourly job retries, not a citizen's document in the storage
    that nothing refers to."""

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
