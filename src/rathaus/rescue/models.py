"""preRESC data: regions (Rettungsdienstbereiche), daily demand, incidents, stored forecasts."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Region(models.Model):
    """An area of the emergency service whose demand is forecast."""

    class Area(models.TextChoices):
        URBAN = "urban", _("urban (8 minutes)")
        RURAL = "rural", _("rural (12 minutes)")

    name = models.CharField(_("name"), max_length=120, unique=True)
    holiday_calendar = models.CharField(
        _("holiday calendar"),
        max_length=12,
        default="DE-NW",
        help_text=_("Country and state of the public holidays, e.g. DE-NW or GB-ENG"),
    )
    area = models.CharField(_("area type"), max_length=8, choices=Area.choices, default=Area.URBAN)
    hourly_profile = models.JSONField(
        _("hourly profile"),
        null=True,
        blank=True,
        help_text=_("24 shares of the daily calls per hour of the day"),
    )
    # Several municipalities (and their rescue services) share one installation: a planner sees
    # the regions assigned to them, not every region (superusers see all).
    planners = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="rescue_regions",
        verbose_name=_("planners"),
        help_text=_("Who may see and plan this region (the staff role “planner” is needed too)."),
    )

    class Meta:
        verbose_name = _("rescue region")
        verbose_name_plural = _("rescue regions")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class DailyCount(models.Model):
    region = models.ForeignKey(
        Region, on_delete=models.CASCADE, related_name="daily_counts", verbose_name=_("region")
    )
    date = models.DateField(_("date"))
    count = models.PositiveIntegerField(_("count"))

    class Meta:
        verbose_name = _("daily count")
        verbose_name_plural = _("daily counts")
        ordering = ["region", "date"]
        constraints = [
            models.UniqueConstraint(fields=["region", "date"], name="rescue_dailycount_unique_day")
        ]

    def __str__(self) -> str:
        return f"{self.region} {self.date}: {self.count}"


class Incident(models.Model):
    region = models.ForeignKey(
        Region, on_delete=models.CASCADE, related_name="incidents", verbose_name=_("region")
    )
    occurred_at = models.DateTimeField(_("time"))
    location = models.CharField(_("location"), max_length=200, blank=True)
    area = models.CharField(_("area type"), max_length=8, choices=Region.Area.choices)
    response_seconds = models.PositiveIntegerField(
        _("response time (seconds)"), validators=[MinValueValidator(0)]
    )

    class Meta:
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")
        ordering = ["occurred_at"]
        indexes = [models.Index(fields=["region", "occurred_at"])]
        # One incident is one row: importing a file again (or an overlapping export) adds
        # nothing twice (services.import_incidents skips what is stored).
        constraints = [
            models.UniqueConstraint(
                fields=["region", "occurred_at", "location", "area", "response_seconds"],
                name="rescue_incident_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.region} {timezone.localtime(self.occurred_at):%Y-%m-%d %H:%M}"


class StoredForecast(models.Model):
    """A forecast as issued, kept unchanged so that plans can be traced to it."""

    region = models.ForeignKey(
        Region, on_delete=models.CASCADE, related_name="forecasts", verbose_name=_("region")
    )
    model = models.CharField(_("model"), max_length=40)
    origin = models.DateField(_("first forecast day"))
    horizon = models.PositiveSmallIntegerField(_("horizon (days)"))
    rows = models.JSONField(_("forecast rows"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        verbose_name = _("stored forecast")
        verbose_name_plural = _("stored forecasts")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.region} {self.model} from {self.origin}"
