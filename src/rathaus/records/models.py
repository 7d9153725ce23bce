"""E-Akte: the file plan (Aktenplan) of each authority, its files and their documents.

Documents are never changed: a correction is a new version, every version keeps its SHA-256,
author and time, and neither documents nor versions can be updated or deleted (STYLE.md).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.files.storage import Storage, storages
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
