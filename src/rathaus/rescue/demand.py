"""Demand data: daily (and hourly) call counts per region, read from CSV with row-precise errors.

A daily CSV has the columns ``date``, ``region`` and a count column (``responses``, ``calls`` or
``count``). An hourly CSV has ``date``, ``hour`` (0-23), ``region`` and a count; it is summed to
days for forecasting and kept as an hourly profile for staffing. Days without a row are gaps
(NaN), not zeros: a zero is a real observation.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

COUNT_COLUMNS = ("responses", "calls", "count", "demand")
MAX_DAILY_COUNT = 1_000_000


class DemandFileError(ValueError):
    """The demand file cannot be read; ``errors`` lists each bad row with its line and reason."""

    def __init__(self, errors: list[RowError]) -> None:
        self.errors = errors
        shown = "; ".join(str(e) for e in errors[:10])
        more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
        super().__init__(f"{len(errors)} malformed row(s): {shown}{more}")


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True)
class DailySeries:
    """Daily counts of one region on consecutive days from ``start``; NaN marks a missing day."""

    region: str
    start: dt.date
    values: npt.NDArray[np.float64]

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=len(self.values) - 1)

    def dates(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range(len(self.values))]

    def index_of(self, day: dt.date) -> int:
        return (day - self.start).days

    def until(self, day: dt.date) -> DailySeries:
        """The observations strictly before ``day``."""
        return DailySeries(self.region, self.start, self.values[: max(self.index_of(day), 0)])


@dataclass
class DemandData:
    """Everything read from one demand file."""

    daily: dict[str, DailySeries]
    # region -> 24 shares of the day's calls per hour (sums to 1), where the file was hourly
    hourly_profiles: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict)

    def series(self, region: str) -> DailySeries:
        try:
            return self.daily[region]
        except KeyError:
            known = ", ".join(sorted(self.daily))
            raise KeyError(f"region {region!r} is not in the data (known: {known})") from None


def _count_column(header: list[str]) -> str | None:
    for name in COUNT_COLUMNS:
        if name in header:
            return name
    return None


def read_demand_csv(source: str | Path | Iterable[str]) -> DemandData:
    """Read a daily or hourly demand CSV; raise :class:`DemandFileError` listing every bad row."""
    if isinstance(source, str | Path):
        with Path(source).open(encoding="utf-8-sig", newline="") as fh:
            return _read_demand(fh)
    return _read_demand(source)


def parse_demand_text(text: str) -> DemandData:
    return _read_demand(io.StringIO(text.lstrip("\ufeff")))


def _read_demand(lines: Iterable[str]) -> DemandData:
    reader = csv.reader(lines)
    header_row = next(reader, None)
    if header_row is None:
        raise DemandFileError([RowError(1, "the file is empty")])
    header = [h.strip().lower() for h in header_row]
    count_col = _count_column(header)
    missing = [c for c in ("date", "region") if c not in header]
    if count_col is None:
        missing.append("responses")
    if missing:
        raise DemandFileError(
            [RowError(1, f"missing column(s): {', '.join(missing)} (header: {header_row})")]
        )
    hourly = "hour" in header
    i_date, i_region = header.index("date"), header.index("region")
    i_count = header.index(count_col)  # type: ignore[arg-type]
    i_hour = header.index("hour") if hourly else -1

    errors: list[RowError] = []
    counts: dict[str, dict[dt.date, float]] = defaultdict(dict)
    hours: dict[str, npt.NDArray[np.float64]] = defaultdict(lambda: np.zeros(24))
    seen: set[tuple[str, dt.date, int]] = set()
    for line_no, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            errors.append(RowError(line_no, f"expected {len(header)} fields, found {len(row)}"))
            continue
        region = row[i_region].strip()
        if not region:
            errors.append(RowError(line_no, "the region is empty"))
            continue
        try:
            day = dt.date.fromisoformat(row[i_date].strip())
        except ValueError:
            errors.append(
                RowError(line_no, f"date {row[i_date]!r} is not an ISO date (YYYY-MM-DD)")
            )
            continue
        raw = row[i_count].strip()
        try:
            value = int(raw)
        except ValueError:
            errors.append(RowError(line_no, f"count {raw!r} is not a whole number"))
            continue
        if value < 0 or value > MAX_DAILY_COUNT:
            errors.append(RowError(line_no, f"count {value} is outside 0-{MAX_DAILY_COUNT}"))
            continue
        hour = 0
        if hourly:
            try:
                hour = int(row[i_hour].strip())
            except ValueError:
                hour = -1
            if not 0 <= hour <= 23:
                errors.append(RowError(line_no, f"hour {row[i_hour]!r} is not 0-23"))
                continue
        key = (region, day, hour)
        if key in seen:
            what = f"{day} hour {hour}" if hourly else str(day)
            errors.append(RowError(line_no, f"duplicate row for {region} on {what}"))
            continue
        seen.add(key)
        counts[region][day] = counts[region].get(day, 0.0) + value
        if hourly:
            hours[region][hour] += value
    if errors:
        raise DemandFileError(errors)
    if not counts:
        raise DemandFileError([RowError(2, "the file has no data rows")])
    daily = {region: series_from_counts(region, by_day) for region, by_day in counts.items()}
    profiles = {r: h / h.sum() for r, h in hours.items() if h.sum() > 0}
    return DemandData(daily=daily, hourly_profiles=profiles)


def series_from_counts(region: str, by_day: dict[dt.date, float]) -> DailySeries:
    """Lay out counts on a contiguous daily axis; days without a count become NaN."""
    start, end = min(by_day), max(by_day)
    values = np.full((end - start).days + 1, np.nan)
    for day, value in by_day.items():
        values[(day - start).days] = value
    return DailySeries(region=region, start=start, values=values)
