"""Vorgang: the authority's case for a submitted application, its history and its notices.

The current status is a denormalised field kept in the same transaction as the appended
:class:`CaseEvent` rows; the events are the history and are never edited (STYLE.md).
"""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from rathaus.catalog.models import Service
from rathaus.core.models import AppendOnlyModel, Authority, OrgUnit


class StaffMembership(models.Model):
    """Which org units a staff user works in; the authority is the unit's authority.

    The role (clerk, team lead, administrator) is the user's group (``accounts.roles``).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff_memberships",
        verbose_name=_("user"),
    )
    org_unit = models.ForeignKey(
        OrgUnit,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("org unit"),
    )

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")
        ordering = ["org_unit", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "org_unit"], name="staffmembership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} - {self.org_unit}"


class ServiceRouting(models.Model):
    """Which org unit of an authority handles a service (configured by its administrators)."""

    authority = models.ForeignKey(
        Authority, on_delete=models.CASCADE, related_name="+", verbose_name=_("authority")
    )
    service = models.ForeignKey(
        Service, on_delete=models.CASCADE, related_name="+", verbose_name=_("service")
    )
    org_unit = models.ForeignKey(
        OrgUnit, on_delete=models.CASCADE, related_name="+", verbose_name=_("org unit")
    )

    class Meta:
        verbose_name = _("routing of a service to an org unit")
        verbose_name_plural = _("routing of services to org units")
        ordering = ["authority", "service"]
        constraints = [
            models.UniqueConstraint(fields=["authority", "service"], name="routing_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.service} → {self.org_unit}"

    def clean(self) -> None:
        # A unit of another authority would make every submission of the service fail.
        if (
            self.org_unit_id is not None
            and self.authority_id is not None
            and self.org_unit.authority_id != self.authority_id
        ):
            raise ValidationError(
                {"org_unit": _("The org unit does not belong to the responsible authority.")}
            )


class Case(models.Model):
    """One Vorgang: an application being worked on by the responsible authority."""

    class Status(models.TextChoices):
        RECEIVED = "received", _("received")
        IN_REVIEW = "in_review", _("in review")
        WAITING_FOR_CITIZEN = "waiting_for_citizen", _("waiting for documents from the citizen")
        DECIDED = "decided", _("decided")
        CLOSED = "closed", pgettext_lazy("case", "closed")
        WITHDRAWN = "withdrawn", _("withdrawn")

    class Outcome(models.TextChoices):
        NONE = "", _("not decided")
        GRANTED = "granted", _("granted")
        PARTLY_GRANTED = "partly_granted", _("partly granted")
        REFUSED = "refused", _("refused")

    OPEN_STATUSES = (Status.RECEIVED, Status.IN_REVIEW, Status.WAITING_FOR_CITIZEN)

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    authority = models.ForeignKey(
        Authority, on_delete=models.PROTECT, related_name="cases", verbose_name=_("authority")
    )
    org_unit = models.ForeignKey(
        OrgUnit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("org unit"),
    )
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="cases", verbose_name=_("service")
    )
    applicant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cases",
        verbose_name=_("applicant"),
    )
    applicant_name = models.CharField(_("applicant's name"), max_length=200, blank=True)
    title = models.CharField(_("title"), max_length=300)
    number = models.CharField(_("case number"), max_length=32)
    status = models.CharField(
        _("status"), max_length=24, choices=Status.choices, default=Status.RECEIVED
    )
    outcome = models.CharField(
        _("outcome"), max_length=16, choices=Outcome.choices, default="", blank=True
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_cases",
        verbose_name=_("assigned to"),
        db_index=False,  # case_assignee_unit_idx starts with it
    )
    due_on = models.DateField(_("due on"), null=True, blank=True)
    opened_at = models.DateTimeField(pgettext_lazy("case", "opened"), default=timezone.now)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    closed_at = models.DateTimeField(pgettext_lazy("case", "closed"), null=True, blank=True)
    reminded_on = models.DateField(_("last overdue reminder"), null=True, blank=True)
    file = models.OneToOneField(
        "records.File",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="case",
        verbose_name=_("file"),
    )
    electronic_delivery = models.BooleanField(
        _("notice by retrieval from the mailbox"),
        default=True,
        help_text=_("§ 9 OZG: false when the citizen opted out; notices then go by post."),
    )
    particulars = models.JSONField(
        _("particulars"),
        default=dict,
        blank=True,
        help_text=_("The submitted answers, for the notice templates."),
    )
    updated_at = models.DateTimeField(_("last changed"), auto_now=True)
    # Set when the case's personal data were purged after its file was disposed of
    # (casework.disposal.purge_case); the row itself stays for statistics.
    purged_on = models.DateField(_("personal data purged on"), null=True, blank=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["authority", "number"], name="case_number_unique"),
            models.CheckConstraint(
                condition=models.Q(outcome="")
                | models.Q(status__in=["decided", "closed"], decided_at__isnull=False),
                name="case_outcome_only_when_decided",
            ),
        ]
        indexes = [
            models.Index(fields=["authority", "status", "due_on"], name="case_queue_idx"),
            models.Index(fields=["org_unit", "status", "due_on"], name="case_unit_queue_idx"),
            # Which of a clerk's cases lie outside their org units (casework.permissions).
            models.Index(fields=["assigned_to", "org_unit"], name="case_assignee_unit_idx"),
            models.Index(fields=["applicant", "-opened_at"], name="case_applicant_idx"),
            models.Index(fields=["number"], name="case_number_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def citizen_status_label(self) -> str:
        """The status as the citizen reads it in "Meine Anträge"."""
        return str(CITIZEN_STATUS_LABELS.get(self.status, self.get_status_display()))

    @property
    def is_overdue(self) -> bool:
        return bool(self.is_open and self.due_on and self.due_on < timezone.localdate())


#: How the citizen reads each status (the staff labels are the model's choices).
CITIZEN_STATUS_LABELS: dict[str, Any] = {
    Case.Status.RECEIVED: _("Received by the authority"),
    Case.Status.IN_REVIEW: _("Being processed"),
    Case.Status.WAITING_FOR_CITIZEN: _("Waiting for documents from you"),
    Case.Status.DECIDED: _("Decided"),
    Case.Status.CLOSED: _("Completed"),
    Case.Status.WITHDRAWN: _("Withdrawn"),
}


class CaseEvent(AppendOnlyModel):
    """One entry of a case's history; status changes carry ``from_status`` and ``to_status``."""

    class Kind(models.TextChoices):
        OPENED = "opened", _("case opened")
        STATUS_CHANGED = "status_changed", _("status changed")
        ASSIGNED = "assigned", _("assigned")
        NOTE_ADDED = "note_added", _("note added")
        DOCUMENT_ADDED = "document_added", _("internal document added")
        DOCUMENTS_REQUESTED = "documents_requested", _("documents requested")
        DOCUMENTS_RECEIVED = "documents_received", _("documents received")
        REQUEST_CANCELLED = "request_cancelled", _("document request cancelled")
        NOTICE_DRAFTED = "notice_drafted", _("notice drafted")
        NOTICE_SUBMITTED = "notice_submitted", _("notice submitted for approval")
        NOTICE_APPROVED = "notice_approved", _("notice approved")
        NOTICE_RETURNED = "notice_returned", _("notice returned to the drafter")
        NOTICE_ISSUED = "notice_issued", _("notice issued")
        NOTICE_REVOKED = "notice_revoked", _("notice revoked")
        REVOCATION_REQUESTED = "revocation_requested", _("revocation of the notice requested")
        REVOCATION_REJECTED = "revocation_rejected", _("revocation of the notice rejected")
        NOTICE_DISCARDED = "notice_discarded", _("notice draft discarded")
        POSTAL_DELIVERY = "postal_delivery", _("notice to be sent by post")
        POSTAL_SENT = "postal_sent", _("notice sent by post")
        REVOCATION_POSTAL = "revocation_postal", _("revocation letter to be sent by post")
        REVOCATION_POSTED = "revocation_posted", _("revocation letter sent by post")
        REPLY_RECEIVED = "reply_received", _("reply from the citizen")
        REMINDER_SENT = "reminder_sent", _("overdue reminder sent")
        DUE_DATE_SET = "due_date_set", _("due date changed")

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="events", verbose_name=_("case")
    )
    kind = models.CharField(_("kind"), max_length=24, choices=Kind.choices)
    from_status = models.CharField(
        _("from status"), max_length=24, choices=Case.Status.choices, blank=True
    )
    to_status = models.CharField(
        _("to status"), max_length=24, choices=Case.Status.choices, blank=True
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_label = models.CharField(_("actor"), max_length=254, blank=True)
    at = models.DateTimeField(_("time"), default=timezone.now)
    note = models.TextField(_("note"), blank=True)
    citizen_visible = models.BooleanField(_("shown to the citizen"), default=False)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["case", "at"], name="caseevent_case_at_idx")]

    def __str__(self) -> str:
        return f"{self.case.number}: {self.get_kind_display()}"

    @property
    def due_dates(self) -> tuple[datetime.date | None, datetime.date | None]:
        """A due date change's dates (before, after), read from ``data``; None where absent."""
        return _date_or_none(self.data.get("from")), _date_or_none(self.data.get("to"))


def _date_or_none(value: Any) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


class CaseNote(AppendOnlyModel):
    """An internal note of a clerk on a case (never shown to the citizen)."""

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="notes", verbose_name=_("case")
    )
    text = models.TextField(_("text"))
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("author"),
    )
    created_at = models.DateTimeField(_("written"), default=timezone.now)

    class Meta:
        verbose_name = _("note")
        verbose_name_plural = _("notes")
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.text[:60]


class DocumentRequest(models.Model):
    """The clerk asks the citizen for specific evidence by a deadline."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        ANSWERED = "answered", _("answered")
        CANCELLED = "cancelled", pgettext_lazy("document request", "cancelled")

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="document_requests", verbose_name=_("case")
    )
    description = models.TextField(_("what is needed"))
    due_on = models.DateField(_("due on"))
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    answer_note = models.TextField(_("citizen's comment"), blank=True)

    class Meta:
        verbose_name = _("request for documents")
        verbose_name_plural = _("requests for documents")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(status="open"),
                name="documentrequest_one_open_per_case",
            ),
        ]

    def __str__(self) -> str:
        return self.description[:60]


def notice_pdf_path(instance: Notice, filename: str) -> str:
    return f"notices/{instance.case.public_id}/{uuid.uuid4().hex}.pdf"


class Notice(models.Model):
    """A Bescheid: drafted from a template of the service, approved where required, issued."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        AWAITING_APPROVAL = "awaiting_approval", _("awaiting approval")
        ISSUED = "issued", pgettext_lazy("notice", "issued")
        REVOKED = "revoked", pgettext_lazy("notice", "revoked")
        DISCARDED = "discarded", _("discarded")

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="notices", verbose_name=_("case")
    )
    template_key = models.CharField(_("template"), max_length=64)
    document_type = models.CharField(_("document type"), max_length=64, default="notice")
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("text"))
    outcome = models.CharField(_("outcome"), max_length=16, choices=Case.Outcome.choices)
    legal_basis = models.TextField(_("legal basis"), blank=True)
    remedy = models.TextField(_("instructions on legal remedies"), blank=True)
    four_eyes = models.BooleanField(_("needs a second clerk's approval"), default=False)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("drafted by"),
    )
    drafted_at = models.DateTimeField(_("drafted"), default=timezone.now)
    # Everyone else who changed the text: under the four-eyes rule none of them may approve it.
    edited_by = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("edited by")
    )
    submitted_at = models.DateTimeField(_("submitted for approval"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved"), null=True, blank=True)
    # The SHA-256 of the text the second clerk approved (casework.services.notice_text_digest):
    # an approval covers exactly this text, and issuing checks it.
    approved_text_sha256 = models.CharField(
        _("SHA-256 of the approved text"), max_length=64, blank=True
    )
    # Raised by every change of the text or the state (casework.services): a form carries the
    # version its page showed, and an action on an older one is refused instead of acting on a
    # text the clerk never saw.
    version = models.PositiveIntegerField(_("version"), default=1)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("issued by"),
    )
    issued_at = models.DateTimeField(pgettext_lazy("notice", "issued"), null=True, blank=True)
    pdf = models.FileField(_("PDF"), upload_to=notice_pdf_path, blank=True, max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    ledger_code = models.CharField(_("verification code"), max_length=64, blank=True)
    record_version = models.ForeignKey(
        "records.DocumentVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("document in the file"),
    )
    mailbox_message = models.ForeignKey(
        "mailbox.Message",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("mailbox message"),
    )
    delivered_by_post = models.BooleanField(_("delivered by post"), default=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    revoked_at = models.DateTimeField(pgettext_lazy("notice", "revoked"), null=True, blank=True)
    revocation_reason = models.TextField(_("reason for revocation"), blank=True)
    revocation_legal_basis = models.TextField(_("legal basis of the revocation"), blank=True)
    # Widerruf (§ 49 VwVfG) or Rücknahme (§ 48 VwVfG): the reason GovChain logs.
    revocation_kind = models.CharField(_("kind of revocation"), max_length=16, blank=True)
    # Under the four-eyes rule a revocation is requested by one clerk (reason, legal basis and
    # kind above; the notice stays issued) and confirmed by a second one, who revokes it.
    revocation_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("revocation requested by"),
    )
    revocation_requested_at = models.DateTimeField(_("revocation requested"), null=True, blank=True)
    revocation_confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("revocation confirmed by"),
    )
    # The revocation is itself a notice (Aufhebungsbescheid): sealed, logged in GovChain, filed,
    # and announced the way the revoked notice was (mailbox or post).
    revocation_letter = models.ForeignKey(
        "records.DocumentVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("revocation letter in the file"),
    )
    revocation_sha256 = models.CharField(
        _("SHA-256 of the revocation letter"), max_length=64, blank=True
    )
    revocation_ledger_code = models.CharField(
        _("verification code of the revocation letter"), max_length=64, blank=True
    )
    revocation_message = models.ForeignKey(
        "mailbox.Message",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("mailbox message with the revocation letter"),
    )

    class Meta:
        verbose_name = _("notice")
        verbose_name_plural = _("notices")
        ordering = ["-drafted_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(status="issued"),
                name="notice_one_issued_per_case",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_editable(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def revocation_pending(self) -> bool:
        """Its revocation has been requested and awaits a second clerk's confirmation."""
        return self.status == self.Status.ISSUED and self.revocation_requested_at is not None


class PostalDeliveryTask(models.Model):
    """The citizen opted out of electronic delivery (§ 9 OZG): a clerk posts the notice, or the
    letter revoking a notice that had already been posted (``letter``, filed in the E-Akte)."""

    class Kind(models.TextChoices):
        NOTICE = "notice", _("notice")
        REVOCATION = "revocation", _("revocation letter")

    class Status(models.TextChoices):
        OPEN = "open", _("to be posted")
        SENT = "sent", _("posted")
        CANCELLED = "cancelled", _("not posted: notice revoked")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.NOTICE)
    # The notice posted, or the one the revocation letter revokes.
    notice = models.ForeignKey(
        Notice, on_delete=models.PROTECT, related_name="postal_tasks", verbose_name=_("notice")
    )
    letter = models.ForeignKey(
        "records.DocumentVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("letter in the file"),
    )
    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="postal_tasks", verbose_name=_("case")
    )
    authority = models.ForeignKey(
        Authority, on_delete=models.PROTECT, related_name="+", verbose_name=_("authority")
    )
    status = models.CharField(
        _("status"), max_length=12, choices=Status.choices, default=Status.OPEN
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    sent_on = models.DateField(_("posted on"), null=True, blank=True)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("posted by"),
    )

    class Meta:
        verbose_name = _("postal delivery task")
        verbose_name_plural = _("postal delivery tasks")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["authority", "status"], name="postaltask_queue_idx")]
        constraints = [
            models.UniqueConstraint(fields=["notice", "kind"], name="postaltask_one_per_notice"),
            # a notice task posts the notice itself; a revocation task posts its filed letter
            models.CheckConstraint(
                condition=models.Q(kind="notice", letter__isnull=True)
                | models.Q(kind="revocation", letter__isnull=False),
                name="postaltask_letter_for_revocation",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case.number}: {self.get_status_display()}"

    @property
    def title(self) -> str:
        """What goes into the envelope, as the back office lists it."""
        if self.kind == self.Kind.REVOCATION and self.letter is not None:
            return str(self.letter.document.title)
        return self.notice.title


def snapshot(case: Case) -> dict[str, Any]:
    """The fields of a case that the audit trail records before and after a change."""
    return {
        "status": case.status,
        "outcome": case.outcome,
        "assigned_to": case.assigned_to_id,
        "org_unit": case.org_unit_id,
        "due_on": case.due_on.isoformat() if case.due_on else None,
    }
