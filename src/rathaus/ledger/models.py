"""GovChain log state: entries (pending until sequenced), tiles, signed checkpoints."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from rathaus.core.models import Authority


class DocumentType(models.TextChoices):
    NOTICE = "notice", _("Notice (Bescheid)")
    RESIDENCE_CERTIFICATE = "residence-certificate", _("Residence certificate (Meldebescheinigung)")
    PERMIT = "permit", _("Permit")
    RECEIPT = "receipt", _("Receipt")
    LANDLORD_CONFIRMATION = (
        "landlord-confirmation",
        _("Landlord confirmation (Wohnungsgeberbestätigung)"),
    )
    CERTIFICATE = "certificate", _("Certificate (Urkunde)")
    REVOCATION = "revocation", _("Revocation of a notice (Aufhebungsbescheid)")


class RevocationReason(models.TextChoices):
    WITHDRAWN = "withdrawn", _("Withdrawn (Widerruf)")
    ANNULLED = "annulled", _("Annulled (Rücknahme)")
    SUPERSEDED = "superseded", _("Superseded by a new document")
    ISSUED_IN_ERROR = "issued-in-error", _("Issued in error")


class EntryQuerySet(models.QuerySet["Entry"]):
    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("The GovChain log is append-only.")


class Entry(models.Model):
    """One log entry. ``index`` is empty until the sequencer puts it into the tree."""

    class Kind(models.TextChoices):
        ISSUE = "issue", _("issued")
        REVOKE = "revoke", _("revoked")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    code = models.CharField(_("verification code"), max_length=10, unique=True)
    document_sha256 = models.CharField(_("document SHA-256"), max_length=64)
    document_type = models.CharField(
        _("document type"), max_length=40, choices=DocumentType.choices
    )
    authority = models.ForeignKey(
        Authority,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("authority"),
        db_index=False,  # never searched by authority; every index slows sequencing down
    )
    reason = models.CharField(
        _("revocation reason"), max_length=40, choices=RevocationReason.choices, blank=True
    )
    logged_at = models.DateTimeField(_("logged at"))
    leaf = models.BinaryField(_("entry bytes"))
    index = models.BigIntegerField(_("log index"), null=True, blank=True, unique=True)

    objects = EntryQuerySet.as_manager()

    class Meta:
        verbose_name = _("GovChain entry")
        verbose_name_plural = _("GovChain entries")
        constraints = [
            # one issue and at most one revocation per document; also the index for lookups
            models.UniqueConstraint(fields=["document_sha256", "kind"], name="ledger_one_per_kind"),
        ]
        indexes = [
            models.Index(fields=["id"], condition=Q(index__isnull=True), name="ledger_pending"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.code} #{self.index}"

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("The GovChain log is append-only.")


class Tile(models.Model):
    """A tlog tile (the current, possibly partial, version); hashes are 32-byte strings."""

    level = models.PositiveSmallIntegerField()
    index = models.BigIntegerField()
    hashes = models.BinaryField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["level", "index"], name="ledger_tile_unique"),
        ]

    def __str__(self) -> str:
        return f"tile {self.level}/{self.index} ({len(self.hashes) // 32})"


class Checkpoint(models.Model):
    """A signed checkpoint the log has issued (kept for consistency proofs and audits)."""

    size = models.BigIntegerField(_("tree size"), db_index=True)
    root_hash = models.BinaryField(_("root hash"))
    note = models.TextField(_("signed checkpoint"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("GovChain checkpoint")
        verbose_name_plural = _("GovChain checkpoints")
        ordering = ["-id"]
        get_latest_by = "id"

    def __str__(self) -> str:
        return f"checkpoint {self.size}"


class LogState(models.Model):
    """The single row the sequencer locks: the tree size and how much has been published."""

    size = models.BigIntegerField(default=0)
    published_size = models.BigIntegerField(default=0)
    published_checkpoint = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"log of {self.size} entries"
