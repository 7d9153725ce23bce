"""E-Akte: the file plan (Aktenplan) of each authority, its files and their documents.

Documents are never changed: a correction is a new version, every version keeps its SHA-256,
author and time, and neither documents nor versions can be updated or deleted (STYLE.md).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.core.validators import MaxValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from rathaus.core.models import AppendOnlyModel, Authority, OrgUnit
from rathaus.records import file_plan


def records_storage() -> Storage:
    """The storage for document contents (``settings.RECORDS_STORAGE``, an alias of STORAGES)."""
    return storages[getattr(settings, "RECORDS_STORAGE", "default")]


class RetentionTrigger(models.TextChoices):
    """When the retention period starts to run."""

    # Registraturrichtlinie: the period runs from the end of the year in which the file was
    # closed ("zu den Akten", zdA); some rules count from the day of closing itself.
    CLOSED_YEAR_END = "closed_year_end", _("end of the year in which the file is closed")
    CLOSED = "closed", _("day the file is closed")


class DisposalAction(models.TextChoices):
    """What happens when the retention period has run out (xdomea "Aussonderungsart")."""

    EVALUATE = "evaluate", _("offer to the archive for evaluation")
    ARCHIVE = "archive", _("hand over to the archive")
    DESTROY = "destroy", _("destroy")


class DisposalOutcome(models.TextChoices):
    """What became of a disposed file."""

    ARCHIVED = "archived", _("handed over to the archive")
    DESTROYED = "destroyed", _("destroyed")


class FilePlan(models.Model):
    """The Aktenplan of one authority, with the format of its file references."""

    authority = models.OneToOneField(
        Authority, on_delete=models.PROTECT, related_name="file_plan", verbose_name=_("authority")
    )
    name = models.CharField(_("name"), max_length=200)
    reference_format = models.CharField(
        _("file reference format"),
        max_length=80,
        default=file_plan.DEFAULT_REFERENCE_FORMAT,
        validators=[file_plan.validate_reference_format],
        help_text=_(
            "For files without an org unit. Placeholders: {plan} key of the plan entry, "
            "{serial:04d} serial number, {year} year opened, {unit} unit code."
        ),
    )
    unit_reference_format = models.CharField(
        _("file reference format with org unit"),
        max_length=80,
        default=file_plan.DEFAULT_UNIT_REFERENCE_FORMAT,
        validators=[file_plan.validate_unit_reference_format],
        help_text=_("For files kept by an org unit; must contain {unit}."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("file plan")
        verbose_name_plural = _("file plans")
        ordering = ["authority__municipality__name", "authority__name"]

    def __str__(self) -> str:
        return self.name


class PlanEntry(models.Model):
    """One group or subject of the plan (Aktenplaneinheit), e.g. ``11.30.01 Meldewesen``."""

    plan = models.ForeignKey(
        FilePlan, on_delete=models.CASCADE, related_name="entries", verbose_name=_("file plan")
    )
    key = models.CharField(
        _("key"),
        max_length=file_plan.KEY_MAX_LENGTH,
        validators=[file_plan.validate_key],
        help_text=_("Decimal and hierarchical, e.g. 3, 32, 32.10, 32.10.05."),
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("parent group"),
        editable=False,
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    retention_years = models.PositiveSmallIntegerField(
        _("retention period (years)"),
        null=True,
        blank=True,
        # as the CSV import: a longer period would end after the year 9999 (no date for it)
        validators=[MaxValueValidator(file_plan.MAX_RETENTION_YEARS)],
        help_text=_("Empty: the period of the parent group applies."),
    )
    retention_permanent = models.BooleanField(
        _("keep permanently"),
        default=False,
        help_text=_("Files are never due for disposal (dauernd aufbewahren)."),
    )
    retention_trigger = models.CharField(
        _("retention starts"),
        max_length=20,
        choices=RetentionTrigger.choices,
        default=RetentionTrigger.CLOSED_YEAR_END,
    )
    disposal_action = models.CharField(
        _("on disposal"),
        max_length=12,
        choices=DisposalAction.choices,
        default=DisposalAction.EVALUATE,
    )
    is_active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("Inactive entries keep their files but take no new ones."),
    )
    position = models.CharField(_("position"), max_length=200, editable=False, default="")

    class Meta:
        verbose_name = _("file plan entry")
        verbose_name_plural = _("file plan entries")
        ordering = ["plan", "position"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "key"], name="records_planentry_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.title}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        """Keeps ``position`` and the link to the group above in step with the key."""
        self.position = file_plan.sort_key(self.key)
        above = file_plan.parent_key(self.key)
        if above is None:
            self.parent = None
        elif self.parent is None or self.parent.key != above:
            self.parent = PlanEntry.objects.get(plan_id=self.plan_id, key=above)
        super().save(*args, **kwargs)

    def retention(self) -> tuple[int | None, bool]:
        """The effective ``(years, permanent)``: the entry's own, else its nearest group's.

        ``(None, False)`` means neither the entry nor a group above it sets a period.
        """
        entry: PlanEntry | None = self
        while entry is not None:
            if entry.retention_permanent:
                return None, True
            if entry.retention_years is not None:
                return entry.retention_years, False
            entry = entry.parent
        return None, False


class File(models.Model):
    """An Akte: the file of one matter, with its Aktenzeichen and retention clock."""

    authority = models.ForeignKey(
        Authority, on_delete=models.PROTECT, related_name="files", verbose_name=_("authority")
    )
    plan_entry = models.ForeignKey(
        PlanEntry, on_delete=models.PROTECT, related_name="files", verbose_name=_("plan entry")
    )
    org_unit = models.ForeignKey(
        OrgUnit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="files",
        verbose_name=_("org unit"),
    )
    serial = models.PositiveIntegerField(_("serial number"))
    year = models.PositiveSmallIntegerField(_("year"))
    reference = models.CharField(_("file reference"), max_length=file_plan.REFERENCE_MAX_LENGTH)
    title = models.CharField(_("title"), max_length=300)
    opened_at = models.DateTimeField(_("opened"))
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("opened by"),
    )
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    retention_years = models.PositiveSmallIntegerField(
        _("retention period (years)"),
        null=True,
        blank=True,
        help_text=_("Empty: kept permanently."),
    )
    retention_trigger = models.CharField(
        _("retention starts"), max_length=20, choices=RetentionTrigger.choices
    )
    disposal_action = models.CharField(
        _("on disposal"), max_length=12, choices=DisposalAction.choices
    )
    retention_starts_on = models.DateField(_("retention period starts"), null=True, blank=True)
    disposal_due_on = models.DateField(_("due for disposal on"), null=True, blank=True)
    # xdomea identifies every Schriftgutobjekt by a UUID that never changes; stored (not derived
    # from the id) so it survives a database merge and is the same in every message of a file.
    xdomea_id = models.UUIDField(_("xdomea ID"), default=uuid.uuid4, unique=True, editable=False)
    disposed_on = models.DateField(_("disposed on"), null=True, blank=True)
    disposal_outcome = models.CharField(
        _("disposal outcome"), max_length=12, choices=DisposalOutcome.choices, blank=True
    )

    class Meta:
        verbose_name = _("file")
        verbose_name_plural = _("files")
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["authority", "reference"], name="records_file_reference_unique"
            ),
        ]
        indexes = [models.Index(fields=["authority", "disposal_due_on"])]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None

    @property
    def is_disposed(self) -> bool:
        return self.disposed_on is not None


class DocumentKind(models.TextChoices):
    APPLICATION = "application", _("application")
    UPLOAD = "upload", _("upload")
    NOTICE = "notice", _("notice")
    NOTE = "note", _("note")
    INTERNAL = "internal", _("internal document")
    CORRESPONDENCE = "correspondence", _("correspondence")
    RECEIPT = "receipt", _("receipt")


class RecordDocument(AppendOnlyModel):
    """A document in a file; its content lives in its versions."""

    file = models.ForeignKey(
        File, on_delete=models.PROTECT, related_name="documents", verbose_name=_("file")
    )
    title = models.CharField(_("title"), max_length=300)
    kind = models.CharField(_("kind"), max_length=20, choices=DocumentKind.choices)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering = ["file", "created_at", "id"]

    def __str__(self) -> str:
        return self.title


class DocumentVersion(AppendOnlyModel):
    """One version of a document: written once, with its SHA-256 and who filed it when."""

    document = models.ForeignKey(
        RecordDocument,
        on_delete=models.PROTECT,
        related_name="versions",
        verbose_name=_("document"),
    )
    number = models.PositiveIntegerField(_("version"))
    content = models.FileField(_("content"), storage=records_storage, max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    content_type = models.CharField(_("content type"), max_length=120)
    original_name = models.CharField(_("original file name"), max_length=255)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("author"),
    )
    author_label = models.CharField(_("author"), max_length=254, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("document version")
        verbose_name_plural = _("document versions")
        ordering = ["document", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["document", "number"], name="records_documentversion_number_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.document} v{self.number}"


class ArchiveTimestamp(models.Model):
    """The archive time stamp (PAdES B-LTA document time stamp) of a PDF version, as the
    preservation job found it: when the certificate of its time-stamping authority expires, and
    which later version renewed it. Versions are written once, so this lives beside them."""

    version = models.OneToOneField(
        DocumentVersion,
        on_delete=models.CASCADE,
        related_name="archive_timestamp",
        verbose_name=_("version"),
    )
    expires_at = models.DateTimeField(
        _("time stamp certificate expires"),
        null=True,
        blank=True,
        db_index=True,
        help_text=_("Empty: the version carries no archive time stamp."),
    )
    # The hash algorithms of the newest document time stamp, read from its token: a stamp whose
    # hash weakens is renewed whatever its expiry (records/preservation.py). Empty beside an
    # expiry: not read yet (a stamp recorded before these fields), filled in by the daily job.
    imprint_algorithm = models.CharField(
        _("message-imprint hash"),
        max_length=32,
        blank=True,
        help_text=_("The hash algorithm of the time stamp's message imprint."),
    )
    signature_algorithm = models.CharField(
        _("time-stamp signature hash"),
        max_length=32,
        blank=True,
        help_text=_("The hash algorithm the time-stamping authority signed the time stamp with."),
    )
    # The TSA's signature scheme and key, read from the token likewise: a stamp whose scheme or
    # key length weakens is renewed too. Empty beside the hashes: recorded before these fields
    # (migration 0009), read by the daily job.
    signature_mechanism = models.CharField(
        _("time-stamp signature scheme"),
        max_length=32,
        blank=True,
        help_text=_(
            "The time-stamping authority's signature scheme, e.g. rsassa_pkcs1v15 (RSA) or ecdsa."
        ),
    )
    key_algorithm = models.CharField(
        _("time-stamp key type"),
        max_length=16,
        blank=True,
        help_text=_("The type of the time-stamping authority's key: rsa, dsa, ec, ed25519."),
    )
    key_bits = models.PositiveIntegerField(
        _("time-stamp key length"),
        null=True,
        blank=True,
        help_text=_("In bits: the RSA modulus, the DSA prime, the order of the EC curve."),
    )
    checked_at = models.DateTimeField(_("checked"), auto_now_add=True)
    renewed_by = models.OneToOneField(
        DocumentVersion,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="renews",
        verbose_name=_("renewed by version"),
    )
    problem = models.CharField(_("last renewal problem"), max_length=500, blank=True)
    problem_at = models.DateTimeField(_("last renewal attempt failed"), null=True, blank=True)

    class Meta:
        verbose_name = _("archive time stamp")
        verbose_name_plural = _("archive time stamps")

    def __str__(self) -> str:
        return f"{self.version}: {self.expires_at or '-'}"


# --- disposal (Aussonderung) ------------------------------------------------------------------


class HoldReason(models.TextChoices):
    """Why a file must not be disposed of for now (Aussonderungssperre)."""

    OBJECTION = "objection", _("pending objection")
    LAWSUIT = "lawsuit", _("pending lawsuit")
    AUDIT = "audit", _("audit")
    DATA_SUBJECT_REQUEST = "data_subject_request", _("data-subject request")
    OTHER = "other", _("other reason")


class LegalHold(models.Model):
    """A legal hold on one file: while it is not released the file is never offered,
    transferred or destroyed. A file may carry several holds (a lawsuit and an audit)."""

    file = models.ForeignKey(
        File, on_delete=models.PROTECT, related_name="holds", verbose_name=_("file")
    )
    reason = models.CharField(_("reason"), max_length=24, choices=HoldReason.choices)
    note = models.CharField(
        _("note"),
        max_length=300,
        blank=True,
        help_text=_("E.g. the court's file number; no personal data."),
    )
    placed_at = models.DateTimeField(_("placed"), auto_now_add=True)
    placed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("placed by"),
    )
    released_at = models.DateTimeField(_("released"), null=True, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("released by"),
    )

    class Meta:
        verbose_name = _("legal hold")
        verbose_name_plural = _("legal holds")
        ordering = ["-placed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file.reference}: {self.get_reason_display()}"

    @property
    def is_active(self) -> bool:
        return self.released_at is None


class DisposalRun(models.Model):
    """One Aussonderung of an authority: the files selected, offered, evaluated, handed over and
    destroyed together, under one xdomea process id."""

    class State(models.TextChoices):
        STARTED = "started", _("started")
        OFFERED = "offered", _("offered to the archive (0501)")
        EVALUATED = "evaluated", _("evaluated by the archive (0502)")
        TRANSFERRED = "transferred", _("handed over to the archive (0503)")
        CONFIRMED = "confirmed", _("import confirmed by the archive (0506)")
        DESTROYING = "destroying", _("being destroyed")
        COMPLETED = "completed", _("completed")
        CANCELLED = "cancelled", _("cancelled")

    authority = models.ForeignKey(
        Authority,
        on_delete=models.PROTECT,
        related_name="disposal_runs",
        verbose_name=_("authority"),
    )
    process_id = models.UUIDField(_("xdomea process ID"), default=uuid.uuid4, unique=True)
    state = models.CharField(_("state"), max_length=12, choices=State.choices)
    due_by = models.DateField(_("files due by"))
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("started by"),
    )
    offered_at = models.DateTimeField(_("offered"), null=True, blank=True)
    offer_receipt_at = models.DateTimeField(
        _("offer received by the archive (0504)"), null=True, blank=True
    )
    evaluated_at = models.DateTimeField(_("evaluated"), null=True, blank=True)
    evaluation_receipt_requested = models.BooleanField(
        _("archive asks for a receipt of its evaluation"), default=False
    )
    evaluation_receipt_at = models.DateTimeField(
        _("receipt of the evaluation written (0505)"), null=True, blank=True
    )
    transferred_at = models.DateTimeField(_("handed over"), null=True, blank=True)
    transfer_receipt_at = models.DateTimeField(
        _("transfer package received by the archive (0507)"), null=True, blank=True
    )
    confirmed_at = models.DateTimeField(_("import confirmed"), null=True, blank=True)
    approved_at = models.DateTimeField(_("destruction approved"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("destruction approved by"),
    )
    approved_by_label = models.CharField(_("destruction approved by"), max_length=254, blank=True)
    completed_at = models.DateTimeField(_("completed"), null=True, blank=True)

    class Meta:
        verbose_name = _("disposal run")
        verbose_name_plural = _("disposal runs")
        ordering = ["-started_at", "-id"]
        permissions = [("approve_destruction", _("Can approve the destruction of files"))]

    def __str__(self) -> str:
        return f"{self.pk} {self.authority} ({self.get_state_display()})"


class Decision(models.TextChoices):
    """xdomea "Aussonderungsart" as decided for one file (codes of the xdomea code list)."""

    ARCHIVE = "A", _("archive")
    DESTROY = "V", _("destroy")


class DisposalItem(models.Model):
    """One file in a disposal run. ``active`` is false once the file was withdrawn (legal hold,
    reopened, transfer refused by the archive); at most one active item per file."""

    run = models.ForeignKey(
        DisposalRun, on_delete=models.PROTECT, related_name="items", verbose_name=_("run")
    )
    file = models.ForeignKey(
        File, on_delete=models.PROTECT, related_name="disposal_items", verbose_name=_("file")
    )
    active = models.BooleanField(_("in the run"), default=True)
    offered = models.BooleanField(
        _("offered to the archive"), help_text=_("False: destroyed without the archive.")
    )
    decision = models.CharField(_("decision"), max_length=1, choices=Decision.choices, blank=True)
    transferred = models.BooleanField(_("handed over"), default=False)
    archive_signature = models.CharField(_("archive signature"), max_length=200, blank=True)
    confirmed_at = models.DateTimeField(_("import confirmed"), null=True, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    disposed_at = models.DateTimeField(_("disposed"), null=True, blank=True)

    class Meta:
        verbose_name = _("file in a disposal run")
        verbose_name_plural = _("files in disposal runs")
        ordering = ["run", "id"]
        constraints = [
            # One run at a time per file, also when two runs are started at the same moment.
            models.UniqueConstraint(
                fields=["file"],
                condition=models.Q(active=True, disposed_at__isnull=True),
                name="records_disposalitem_one_open_run_per_file",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.run_id}: {self.file.reference}"


class PendingContentDeletion(models.Model):
    """A stored content of a destroyed file still to be deleted from the records storage.

    Written in the transaction that deletes the version rows and removed once the storage
    confirms the deletion, so a crash in between leaves a visible, retried task instead of an
    orphaned document."""

    item = models.ForeignKey(
        DisposalItem,
        on_delete=models.PROTECT,
        related_name="pending_deletions",
        verbose_name=_("file in a disposal run"),
    )
    storage_name = models.CharField(_("storage name"), max_length=255)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("content still to be deleted")
        verbose_name_plural = _("contents still to be deleted")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.storage_name


class DisposalRecord(AppendOnlyModel):
    """Aussonderungsnachweis: the proof that a file was archived or destroyed, kept for good.

    It holds no personal data: the reference, the plan entry, dates and the outcome only
    (not the file's title, which may name a person)."""

    file = models.OneToOneField(
        File, on_delete=models.PROTECT, related_name="disposal_record", verbose_name=_("file")
    )
    run = models.ForeignKey(
        DisposalRun, on_delete=models.PROTECT, related_name="records", verbose_name=_("run")
    )
    authority = models.ForeignKey(
        Authority, on_delete=models.PROTECT, related_name="+", verbose_name=_("authority")
    )
    reference = models.CharField(_("file reference"), max_length=file_plan.REFERENCE_MAX_LENGTH)
    plan_key = models.CharField(_("plan entry key"), max_length=file_plan.KEY_MAX_LENGTH)
    plan_title = models.CharField(_("plan entry title"), max_length=200)
    xdomea_id = models.UUIDField(_("xdomea ID"))
    opened_on = models.DateField(_("opened on"))
    closed_on = models.DateField(_("closed on"))
    retention_years = models.PositiveSmallIntegerField(_("retention period (years)"), null=True)
    disposal_due_on = models.DateField(_("due for disposal on"))
    outcome = models.CharField(_("outcome"), max_length=12, choices=DisposalOutcome.choices)
    archive_signature = models.CharField(_("archive signature"), max_length=200, blank=True)
    documents = models.PositiveIntegerField(_("documents"))
    versions = models.PositiveIntegerField(_("versions"))
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_by_label = models.CharField(_("approved by"), max_length=254)
    approved_at = models.DateTimeField(_("approved"))
    disposed_at = models.DateTimeField(_("disposed"))

    class Meta:
        verbose_name = _("disposal record")
        verbose_name_plural = _("disposal records")
        ordering = ["-disposed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.reference} ({self.get_outcome_display()})"
