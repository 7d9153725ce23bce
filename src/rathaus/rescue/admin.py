"""Admin for the region settings a planner cannot derive from data (area type, holidays), and
for who plans a region (audited: it grants access to the region's demand and incident data)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from rathaus.core.admin_audit import AuditedAdmin
from rathaus.rescue.holiday_calendar import validate_calendar
from rathaus.rescue.models import Region, StoredForecast
from rathaus.rescue.staffing import profile_shares


class RegionForm(forms.ModelForm):
    class Meta:
        model = Region
        fields = ["name", "area", "holiday_calendar", "hourly_profile", "planners"]

    def clean_holiday_calendar(self) -> str:
        try:
            return validate_calendar(self.cleaned_data["holiday_calendar"])
        except ValueError:
            raise forms.ValidationError(
                _("Unknown holiday calendar; use e.g. DE-NW, DE-BY or GB-ENG.")
            ) from None

    def clean_hourly_profile(self) -> Any:
        """24 finite, non-negative shares, stored normalised to a sum of 1."""
        profile: Any = self.cleaned_data.get("hourly_profile")
        if profile is None or profile == "":
            return None
        shares = profile_shares(profile)
        if shares is None:
            if _positive_numbers(profile):
                # each share is a number, but they are too large to add up (24 times 1e308)
                raise forms.ValidationError(
                    _("The shares are too large to add up; enter e.g. percentages (0 to 100).")
                )
            raise forms.ValidationError(_("Enter 24 non-negative shares, one per hour, not all 0."))
        return [round(float(x), 6) for x in shares]


def _positive_numbers(profile: Any) -> bool:
    """24 numbers, none negative or NaN, at least one above 0."""
    return (
        isinstance(profile, list)
        and len(profile) == 24
        and all(isinstance(x, int | float) and not isinstance(x, bool) for x in profile)
        and all(x >= 0 for x in profile)
        and any(x > 0 for x in profile)
    )


@admin.register(Region)
class RegionAdmin(AuditedAdmin):
    form = RegionForm
    list_display = ["name", "area", "holiday_calendar"]
    search_fields = ["name"]
    filter_horizontal = ["planners"]
    audit_fields = ("name", "area", "holiday_calendar", "hourly_profile", "planners")


@admin.register(StoredForecast)
class StoredForecastAdmin(admin.ModelAdmin):
    """Issued forecasts are kept unchanged: read only."""

    list_display = ["region", "model", "origin", "horizon", "created_at"]
    list_filter = ["model"]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False  # a staffing plan must stay traceable to the forecast it was made from
