"""Admin for the region settings a planner cannot derive from data (area type, holidays)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from rathaus.rescue.holiday_calendar import validate_calendar
from rathaus.rescue.models import Region, StoredForecast


class RegionForm(forms.ModelForm):
    class Meta:
        model = Region
        fields = ["name", "area", "holiday_calendar", "hourly_profile"]

    def clean_holiday_calendar(self) -> str:
        try:
            return validate_calendar(self.cleaned_data["holiday_calendar"])
        except ValueError:
            raise forms.ValidationError(
                _("Unknown holiday calendar; use e.g. DE-NW, DE-BY or GB-ENG.")
            ) from None

    def clean_hourly_profile(self) -> Any:
        profile: Any = self.cleaned_data.get("hourly_profile")
        if profile is None or profile == "":
            return None
        valid = (
            isinstance(profile, list)
            and len(profile) == 24
            and all(isinstance(x, int | float) and x >= 0 for x in profile)
            and sum(profile) > 0
        )
        if not valid:
            raise forms.ValidationError(_("Enter 24 non-negative shares, one per hour."))
        total = float(sum(profile))
        return [round(x / total, 6) for x in profile]


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    form = RegionForm
    list_display = ["name", "area", "holiday_calendar"]
    search_fields = ["name"]


@admin.register(StoredForecast)
class StoredForecastAdmin(admin.ModelAdmin):
    """Issued forecasts are kept unchanged: read only."""

    list_display = ["region", "model", "origin", "horizon", "created_at"]
    list_filter = ["model"]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False
