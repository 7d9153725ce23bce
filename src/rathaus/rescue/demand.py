"""Demand data: daily (and hourly) call counts per region, read from CSV with row-precise errors.

A daily CSV has the columns ``date``, ``region`` and a count column (``responses``, ``calls`` or
``count``). An hourly CSV has ``date``, ``hour`` (0-23), ``region`` and a count; it is summed to
days for forecasting and kept as an hourly profile for staffing. Its hours are local clock hours
in the configured time zone: on the day the clocks go back the hour that occurs twice (02:00 in
Germany) may have two rows, which are added up. Days without a row are gaps
(NaN), not zeros: a zero is a real observation. Files must be UTF-8 (a byte-order mark is allowed),
dates lie between :data:`EARLIEST_DAY` and :data:`LATEST_DAY`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

COUNT_COLUMNS = ("responses", "calls", "count", "demand")
MAX_DAILY_COUNT = 1_000_000
MAX_REGION_NAME = 120  # Region.name.max_length
# The calendar the module works in: wide enough for any real data and forecasts, narrow enough
# that date arithmetic (the day after the data, a forecast's horizon) never leaves Python's range.
EARLIEST_DAY = dt.date(1900, 1, 1)
LATEST_DAY = dt.date(2200, 12, 31)
# The local time of hourly files where no other is given: the project's settings.TIME_ZONE (the
# command line reads files without Django).
DEFAULT_TIME_ZONE = ZoneInfo("Europe/Berlin")


class DemandFileError(ValueError):
    """The demand file cannot be read; ``errors`` lists each bad row with its line and reason."""

    def __init__(self, errors: list[RowError], *, source: str | Path | None = None) -> None:
        self.errors = errors
        self.source = source
        shown = "; ".join(str(e) for e in errors[:10])
        more = f" (and {len(errors) - 10} more)" if len(errors) > 10 else ""
        where = f"{source}: " if source is not None else ""
        super().__init__(f"{where}{len(errors)} malformed row(s): {shown}{more}")


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


def read_demand_csv(
    source: str | Path | Iterable[str], *, time_zone: dt.tzinfo = DEFAULT_TIME_ZONE
) -> DemandData:
    """Read a daily or hourly demand CSV; raise :class:`DemandFileError` listing every bad row.

    ``time_zone``: the clock of an hourly file's hours (the day with an hour twice)."""
    if isinstance(source, str | Path):
        try:
            return _read_demand(csv_file_lines(source), time_zone)
        except DemandFileError as exc:
            raise DemandFileError(exc.errors, source=source) from None
    return _read_demand(source, time_zone)


def csv_file_lines(path: str | Path) -> io.StringIO:
    """The text of a UTF-8 CSV file (byte-order mark dropped), ready for :func:`csv.reader`.

    A file in another encoding (Latin-1, Windows-1252, UTF-16 from a spreadsheet) is refused
    with the line and the byte at fault instead of being misread.
    """
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        reason = (
            f"byte 0x{raw[exc.start]:02x} at position {column} is not UTF-8; "
            "save the file as UTF-8 (CSV UTF-8)"
        )
        raise DemandFileError([RowError(line, reason)], source=path) from None
    return io.StringIO(text, newline="")


def csv_rows(lines: Iterable[str], errors: list[RowError]) -> Iterator[tuple[int, list[str]]]:
    """The rows of a CSV text with their line numbers; a row the csv module cannot parse (a
    field longer than its limit) or with a NUL character is added to ``errors`` and skipped.

    Python's csv module reads NUL (``\\x00``) since 3.11, but no text column of PostgreSQL can
    hold it: the import would fail with a database error instead of naming the line."""
    reader = csv.reader(lines)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            errors.append(RowError(reader.line_num, f"not readable as CSV: {exc}"))
            continue
        if any("\x00" in cell for cell in row):
            errors.append(RowError(reader.line_num, "contains a NUL character (\\x00)"))
            continue
        yield reader.line_num, row


def day_in_range(day: dt.date) -> bool:
    return EARLIEST_DAY <= day <= LATEST_DAY


def shown(text: str, limit: int = 40) -> str:
    """A cell quoted for an error message, cut short so that a huge cell stays readable."""
    return repr(text if len(text) <= limit else text[:limit] + "…")


def region_problem(region: str) -> str | None:
    """Why ``region`` cannot name a region, or None."""
    if not region:
        return "the region is empty"
    if len(region) > MAX_REGION_NAME:
        return f"the region name is longer than {MAX_REGION_NAME} characters"
    return None


def parse_demand_text(text: str, *, time_zone: dt.tzinfo = DEFAULT_TIME_ZONE) -> DemandData:
    return _read_demand(io.StringIO(text.lstrip("\ufeff")), time_zone)


def hour_occurs_twice(day: dt.date, hour: int, time_zone: dt.tzinfo) -> bool:
    """Whether the clock hour ``hour`` of ``day`` occurs twice in ``time_zone`` (the clocks go
    back during it: its first run has the larger UTC offset, PEP 495's fold 0)."""
    first = dt.datetime.combine(day, dt.time(hour), tzinfo=time_zone)
    earlier, later = first.utcoffset(), first.replace(fold=1).utcoffset()
    return earlier is not None and later is not None and earlier > later


def _read_demand(lines: Iterable[str], time_zone: dt.tzinfo) -> DemandData:
    errors: list[RowError] = []
    rows = csv_rows(lines, errors)
    first = next(rows, None)
    if errors or first is None:  # the header itself is unreadable, or there is nothing
        raise DemandFileError(errors or [RowError(1, "the file is empty")])
    header_row = first[1]
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

    counts: dict[str, dict[dt.date, float]] = defaultdict(dict)
    hours: dict[str, npt.NDArray[np.float64]] = defaultdict(lambda: np.zeros(24))
    seen: dict[tuple[str, dt.date, int], int] = {}  # rows per region, day and hour
    for line_no, row in rows:
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            errors.append(RowError(line_no, f"expected {len(header)} fields, found {len(row)}"))
            continue
        region = row[i_region].strip()
        reason = region_problem(region)
        if reason:
            errors.append(RowError(line_no, reason))
            continue
        try:
            day = dt.date.fromisoformat(row[i_date].strip())
        except ValueError:
            errors.append(
                RowError(line_no, f"date {shown(row[i_date])} is not an ISO date (YYYY-MM-DD)")
            )
            continue
        if not day_in_range(day):
            errors.append(
                RowError(line_no, f"date {day} is outside {EARLIEST_DAY} to {LATEST_DAY}")
            )
            continue
        raw = row[i_count].strip()
        try:
            value = int(raw)
        except ValueError:
            errors.append(RowError(line_no, f"count {shown(raw)} is not a whole number"))
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
                errors.append(RowError(line_no, f"hour {shown(row[i_hour])} is not 0-23"))
                continue
        key = (region, day, hour)
        rows_before = seen.get(key, 0)
        # an hour that occurs twice on the local clock has a row for each run, no more
        allowed = 2 if hourly and hour_occurs_twice(day, hour, time_zone) else 1
        if rows_before >= allowed:
            what = f"{day} hour {hour}" if hourly else str(day)
            twice = " (this hour occurs twice: at most two rows)" if allowed == 2 else ""
            errors.append(RowError(line_no, f"duplicate row for {region} on {what}{twice}"))
            continue
        seen[key] = rows_before + 1
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
