"""Reads of preRESC data."""

from __future__ import annotations

import logging

import numpy as np
from django.db.models import QuerySet
from django.utils import timezone

from rathaus.rescue.demand import DailySeries, series_from_counts
from rathaus.rescue.incidents import IncidentRecord, profile_from_hours
from rathaus.rescue.models import Incident, Region
from rathaus.rescue.staffing import profile_shares

logger = logging.getLogger(__name__)


def regions_for(user: object) -> QuerySet[Region]:
    """The regions ``user`` may plan: those assigned to them; a superuser's: all."""
    if getattr(user, "is_superuser", False):
        return Region.objects.all()
    user_id = getattr(user, "pk", None)
    if not getattr(user, "is_authenticated", False) or user_id is None:
        return Region.objects.none()
    return Region.objects.filter(planners__pk=user_id)


def daily_series(*, region: Region) -> DailySeries | None:
    """The region's daily counts on a contiguous axis (gaps as NaN), or None without data."""
    counts = dict(region.daily_counts.values_list("date", "count"))
    if not counts:
        return None
    return series_from_counts(region.name, {d: float(c) for d, c in counts.items()})


def hourly_profile(*, region: Region) -> np.ndarray | None:
    """The region's stored profile, else the hours of its incidents if there are enough
    (:func:`~rathaus.rescue.incidents.profile_from_hours`: 480), else None (uniform).

    A stored profile that no plan can use (written before the admin checked it, e.g. 24 zeros)
    is skipped with a warning rather than failing the planner page.
    """
    if region.hourly_profile:
        shares = profile_shares(region.hourly_profile)
        if shares is not None:
            return shares
        logger.warning("rescue region %s: unusable hourly profile ignored", region.pk)
    hours = [
        timezone.localtime(t).hour for t in region.incidents.values_list("occurred_at", flat=True)
    ]
    return profile_from_hours(hours)


def incident_records(*, region: Region) -> list[IncidentRecord]:
    return [
        IncidentRecord(
            time=i.occurred_at,
            region=region.name,
            location=i.location,
            area=i.area,
            response_minutes=i.response_seconds / 60,
        )
        for i in Incident.objects.filter(region=region).only(
            "occurred_at", "location", "area", "response_seconds"
        )
    ]
