"""Tenancy (municipalities, authorities, org units) and the append-only audit trail."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

ags_validator = RegexValidator(
    r"^\d{8}$", _("The AGS (Amtlicher Gemeindeschlüssel) has exactly 8 digits.")
)


class Municipality(models.Model):
    """A Kommune that uses this installation."""

    class State(models.TextChoices):
        BW = "BW", "Baden-Württemberg"
        BY = "BY", "Bayern"
        BE = "BE", "Berlin"
        BB = "BB", "Brandenburg"
        HB = "HB", "Bremen"
        HH = "HH", "Hamburg"
        HE = "HE", "Hessen"
        MV = "MV", "Mecklenburg-Vorpommern"
        NI = "NI", "Niedersachsen"
        NW = "NW", "Nordrhein-Westfalen"
        RP = "RP", "Rheinland-Pfalz"
        SL = "SL", "Saarland"
        SN = "SN", "Sachsen"
        ST = "ST", "Sachsen-Anhalt"
        SH = "SH", "Schleswig-Holstein"
        TH = "TH", "Thüringen"

    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("slug"), unique=True)
    ags = models.CharField(
        _("AGS"),
        max_length=8,
        unique=True,
        validators=[ags_validator],
        help_text=_("Amtlicher Gemeindeschlüssel, 8 digits"),
    )
    state = models.CharField(_("federal state"), max_length=2, choices=State.choices)

    class Meta:
        verbose_name = _("municipality")
        verbose_name_plural = _("municipalities")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Authority(models.Model):
    """A Behörde of a municipality (Bürgeramt, Standesamt, …)."""

    class Kind(models.TextChoices):
        CITIZENS_OFFICE = "buergeramt", _("Citizens' office (Bürgeramt)")
        REGISTRY_OFFICE = "standesamt", _("Registry office (Standesamt)")
        ROAD_TRAFFIC = "strassenverkehrsamt", _("Road traffic office (Straßenverkehrsamt)")
        YOUTH = "jugendamt", _("Youth welfare office (Jugendamt)")
        IMMIGRATION = "auslaenderbehoerde", _("Immigration office (Ausländerbehörde)")
        PUBLIC_ORDER = "ordnungsamt", _("Public order office (Ordnungsamt)")
        SOCIAL = "sozialamt", _("Social welfare office (Sozialamt)")
        ELECTIONS = "wahlamt", _("Elections office (Wahlamt)")
        WASTE = "abfallwirtschaft", _("Waste management (Abfallwirtschaft)")
        TRADE = "gewerbeamt", _("Trade office (Gewerbeamt)")
        HOUSING = "wohnungsamt", _("Housing office (Wohnungsamt)")
        RESCUE = "rettungsdienst", _("Emergency medical service (Rettungsdienst)")
        NATURALISATION = "einbuergerung", _("Naturalisation authority (Einbürgerungsbehörde)")
        STUDENT_FINANCE = "bafoeg", _("Student finance office (Amt für Ausbildungsförderung)")
        VOLUNTEERING = "ehrenamt", _("Volunteering office (Ehrenamtsbüro)")
        OTHER = "sonstige", _("Other")

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="authorities",
        verbose_name=_("municipality"),
    )
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    email = models.EmailField(_("e-mail address"), blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    opening_hours = models.TextField(_("opening hours"), blank=True)
    website = models.URLField(_("website"), blank=True)

    class Meta:
        verbose_name = _("authority")
        verbose_name_plural = _("authorities")
        ordering = ["municipality__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["municipality", "kind"], name="authority_kind_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.municipality.name})"


class OrgUnit(models.Model):
    """A Dienststelle or team inside an authority; cases are assigned to units."""

    authority = models.ForeignKey(
        Authority, on_delete=models.PROTECT, related_name="units", verbose_name=_("authority")
    )
    code = models.CharField(_("code"), max_length=20, help_text=_("e.g. 33.1"))
    name = models.CharField(_("name"), max_length=200)

    class Meta:
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")
        ordering = ["authority", "code"]
        constraints = [
            models.UniqueConstraint(fields=["authority", "code"], name="orgunit_code_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class AppendOnlyQuerySet(models.QuerySet[Any]):
    """Refuses bulk updates and deletes: history is appended, never edited (STYLE.md)."""

    def update(self, **kwargs: Any) -> int:
        raise PermissionError(f"{self.model._meta.verbose_name_plural} are append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError(f"{self.model._meta.verbose_name_plural} are append-only.")


class AppendOnlyModel(models.Model):
    """A row that is written once: saving it again or deleting it raises ``PermissionError``."""

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError(f"{self._meta.verbose_name_plural} are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError(f"{self._meta.verbose_name_plural} are append-only.")


class AuditEvent(AppendOnlyModel):
    """One state change: who did what to which object, with the values before and after."""

    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_label = models.CharField(_("actor"), max_length=254, blank=True)
    action = models.CharField(_("action"), max_length=80)
    object_type = models.CharField(_("object type"), max_length=80)
    object_id = models.CharField(_("object id"), max_length=64)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    municipality = models.ForeignKey(
        Municipality,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("municipality"),
    )

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit trail")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        at = timezone.localtime(self.at)
        return f"{at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"


class Sequence(models.Model):
    """A named counter for identifiers citizens see (reference numbers, case numbers).

    Values come from :func:`rathaus.core.sequences.next_value` under a row lock: unique under
    concurrency, gap-free within committed transactions and never reused.
    """

    name = models.CharField(_("name"), max_length=120, unique=True)
    value = models.PositiveBigIntegerField(_("last value"), default=0)

    class Meta:
        verbose_name = _("sequence")
        verbose_name_plural = _("sequences")

    def __str__(self) -> str:
        return f"{self.name}={self.value}"
