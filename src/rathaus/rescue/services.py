"""Writes of preRESC data: imports and stored forecasts, each audited in its transaction."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from rathaus.core import audit
from rathaus.rescue.demand import DemandData
from rathaus.rescue.forecasting import (
    CalendarRegression,
    Forecast,
    SeasonalNaive,
    first_forecast_day,
)
from rathaus.rescue.holiday_calendar import calendar_for_region
from rathaus.rescue.incidents import IncidentRecord
from rathaus.rescue.models import DailyCount, Incident, Region, StoredForecast
from rathaus.rescue.selectors import daily_series


@dataclass(frozen=True)
class ImportResult:
    regions: int
    rows: int
    # rows not stored because the same incident is stored already (an import of incidents)
    skipped: int = 0


@transaction.atomic
def import_demand(*, data: DemandData, actor: Any) -> ImportResult:
    """Store daily counts (replacing those of the same days) and hourly profiles; the audit
    event of each region has the profile before and after when the import changed it."""
    rows = 0
    for name, series in data.daily.items():
        # locked: the profile recorded as "before" is the one this import replaces
        region, created = Region.objects.select_for_update().get_or_create(
            name=name, defaults={"holiday_calendar": calendar_for_region(name)}
        )
        days = series.dates()
        present = [(d, int(v)) for d, v in zip(days, series.values, strict=True) if v == v]
        DailyCount.objects.filter(region=region, date__in=[d for d, _ in present]).delete()
        DailyCount.objects.bulk_create(
            [DailyCount(region=region, date=d, count=c) for d, c in present], batch_size=2000
        )
        after: dict[str, Any] = {
            "days": len(present),
            "from": str(days[0]),
            "to": str(days[-1]),
            "created": created,
        }
        before: dict[str, Any] | None = None
        if name in data.hourly_profiles:
            profile = [round(float(x), 6) for x in data.hourly_profiles[name]]
            if profile != region.hourly_profile:
                before = {"hourly_profile": region.hourly_profile}
                after["hourly_profile"] = profile
                region.hourly_profile = profile
                region.save(update_fields=["hourly_profile"])
        rows += len(present)
        audit.record(
            actor=actor, action="rescue.demand_imported", obj=region, before=before, after=after
        )
    return ImportResult(regions=len(data.daily), rows=rows)


def stored_seconds(response_minutes: float) -> int:
    """A response time in whole seconds, rounded up: 480.4 s is stored as 481 s and stays over
    an 8-minute target (rounding to 480 s would meet it). The value is first rounded to six
    decimals so that the float noise of a minute conversion (480.00000000000006) adds no second.
    """
    return math.ceil(round(response_minutes * 60, 6))


@transaction.atomic
def import_incidents(*, records: list[IncidentRecord], actor: Any) -> ImportResult:
    """Store incidents; one already stored (same region, time, location, area and response
    time: the constraint ``rescue_incident_unique``) is skipped, so importing a file again or
    an overlapping export adds nothing twice. Each region's audit event counts both."""
    regions: dict[str, Region] = {}
    objs: dict[str, list[Incident]] = {}
    for rec in records:
        region = regions.get(rec.region)
        if region is None:
            # locked: the count before is the one this import adds to
            region, _ = Region.objects.select_for_update().get_or_create(
                name=rec.region, defaults={"holiday_calendar": calendar_for_region(rec.region)}
            )
            regions[rec.region] = region
        when = rec.time if timezone.is_aware(rec.time) else timezone.make_aware(rec.time)
        objs.setdefault(rec.region, []).append(
            Incident(
                region=region,
                occurred_at=when,
                location=rec.location[:200],
                area=rec.area,
                response_seconds=stored_seconds(rec.response_minutes),
            )
        )
    stored = skipped = 0
    for name, region in regions.items():
        before = Incident.objects.filter(region=region).count()
        Incident.objects.bulk_create(objs[name], batch_size=2000, ignore_conflicts=True)
        added = Incident.objects.filter(region=region).count() - before
        audit.record(
            actor=actor,
            action="rescue.incidents_imported",
            obj=region,
            after={"incidents": added, "skipped": len(objs[name]) - added},
        )
        stored += added
        skipped += len(objs[name]) - added
    return ImportResult(regions=len(regions), rows=stored, skipped=skipped)


def compute_forecast(
    *,
    region: Region,
    horizon: int,
    model: str = "calendar_regression",
    origin: dt.date | None = None,
) -> Forecast:
    """Forecast from the stored counts; the origin defaults to the day after the last count.

    Raises :class:`~rathaus.rescue.forecasting.ForecastRangeError` when the stored days or the
    forecast leave the supported dates, and ``ValueError`` without stored counts.
    """
    series = daily_series(region=region)
    if series is None:
        raise ValueError(f"{region.name}: no daily counts stored")
    start = origin or first_forecast_day(series)
    if model == "seasonal_naive":
        return SeasonalNaive().forecast(series, origin=start, horizon=horizon)
    return CalendarRegression(calendar=region.holiday_calendar).forecast(
        series, origin=start, horizon=horizon
    )


@transaction.atomic
def store_forecast(*, region: Region, forecast: Forecast, actor: Any) -> StoredForecast:
    user = actor if getattr(actor, "is_authenticated", False) else None
    stored = StoredForecast.objects.create(
        region=region,
        model=forecast.model,
        origin=forecast.start,
        horizon=len(forecast.mean),
        rows=forecast.rows(),
        created_by=user,
    )
    audit.record(
        actor=actor,
        action="rescue.forecast_stored",
        obj=stored,
        after={
            "model": forecast.model,
            "origin": str(forecast.start),
            "horizon": len(forecast.mean),
            "approximate_intervals": forecast.approximate_intervals,
        },
    )
    return stored
