"""Incident records (time, region, location, urban/rural, response time) read from CSV.

Columns: ``time`` (ISO date-time), ``region``, ``location`` (free text or coordinates),
``area`` (``urban`` or ``rural``; optional, default urban) and ``response_minutes`` or
``response_seconds``. Every malformed row is reported with its line and reason; times lie
between :data:`~rathaus.rescue.demand.EARLIEST_DAY` and :data:`~rathaus.rescue.demand.LATEST_DAY`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from rathaus.rescue.demand import (
    EARLIEST_DAY,
    LATEST_DAY,
    DemandFileError,
    RowError,
    csv_file_lines,
    csv_rows,
    day_in_range,
    region_problem,
    shown,
)
from rathaus.rescue.staffing import ResponseTarget, share_within_target

AREAS = ("urban", "rural")
# The incidents' hours make an hourly profile only from this many on (20 an hour on average);
# fewer would put a day's calls at the few hours that happened to have one.
MIN_INCIDENTS_FOR_PROFILE = 480


@dataclass(frozen=True)
class IncidentRecord:
    time: dt.datetime
    region: str
    location: str
    area: str
    response_minutes: float


def read_incidents_csv(path: str | Path) -> list[IncidentRecord]:
    """Read an incident CSV file (UTF-8); :class:`DemandFileError` names the file and rows."""
    try:
        return read_incidents(csv_file_lines(path))
    except DemandFileError as exc:
        raise DemandFileError(exc.errors, source=path) from None


def read_incidents(lines: Iterable[str]) -> list[IncidentRecord]:
    errors: list[RowError] = []
    rows = csv_rows(lines, errors)
    first = next(rows, None)
    if errors or first is None:  # the header itself is unreadable, or there is nothing
        raise DemandFileError(errors or [RowError(1, "the file is empty")])
    header = [h.strip().lower().lstrip("\ufeff") for h in first[1]]
    unit = 1.0 if "response_minutes" in header else 1 / 60
    time_col = "response_minutes" if "response_minutes" in header else "response_seconds"
    missing = [c for c in ("time", "region", "location") if c not in header]
    if time_col not in header:
        missing.append("response_minutes")
    if missing:
        raise DemandFileError([RowError(1, f"missing column(s): {', '.join(missing)}")])
    col = {name: header.index(name) for name in header}
    records: list[IncidentRecord] = []
    for line_no, row in rows:
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            errors.append(RowError(line_no, f"expected {len(header)} fields, found {len(row)}"))
            continue
        try:
            when = dt.datetime.fromisoformat(row[col["time"]].strip())
        except ValueError:
            errors.append(
                RowError(line_no, f"time {shown(row[col['time']])} is not an ISO date-time")
            )
            continue
        if not day_in_range(when.date()):
            errors.append(
                RowError(line_no, f"time {when.date()} is outside {EARLIEST_DAY} to {LATEST_DAY}")
            )
            continue
        raw = row[col[time_col]].strip().replace(",", ".")
        try:
            minutes = float(raw) * unit
        except ValueError:
            errors.append(RowError(line_no, f"response time {shown(raw)} is not a number"))
            continue
        if not 0 <= minutes < 24 * 60:
            errors.append(RowError(line_no, f"response time {shown(raw)} is outside 0 to 24 hours"))
            continue
        area = row[col["area"]].strip().lower() if "area" in col else "urban"
        area = area or "urban"
        if area not in AREAS:
            errors.append(RowError(line_no, f"area {shown(area)} is neither urban nor rural"))
            continue
        region = row[col["region"]].strip()
        reason = region_problem(region)
        if reason:
            errors.append(RowError(line_no, reason))
            continue
        records.append(
            IncidentRecord(
                time=when,
                region=region,
                location=row[col["location"]].strip(),
                area=area,
                response_minutes=minutes,
            )
        )
    if errors:
        raise DemandFileError(errors)
    return records


def share_in_time(
    records: list[IncidentRecord],
    *,
    urban: ResponseTarget | None = None,
    rural: ResponseTarget | None = None,
) -> float:
    """KPI: share of incidents reached within the target of their area (8 / 12 minutes)."""
    urban = urban or ResponseTarget.urban()
    rural = rural or ResponseTarget.rural()
    times = np.array([r.response_minutes for r in records], float)
    targets = np.array([urban.minutes if r.area == "urban" else rural.minutes for r in records])
    return share_within_target(times, targets)


def profile_from_hours(hours: Sequence[int]) -> np.ndarray | None:
    """Shares of incidents per clock hour (0-23) of the day, or None (uniform) with fewer than
    :data:`MIN_INCIDENTS_FOR_PROFILE` incidents."""
    if len(hours) < MIN_INCIDENTS_FOR_PROFILE:
        return None
    counts = np.bincount(hours, minlength=24).astype(float)
    return counts / counts.sum()


def hourly_profile(records: list[IncidentRecord]) -> np.ndarray | None:
    """Shares of incidents per hour of the day, by :func:`profile_from_hours`."""
    return profile_from_hours([r.time.hour for r in records])
