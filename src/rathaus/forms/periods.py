"""Where a period of the date rules ends: calendar months, and working days.

A period of months ends on the day of the last month with the same number as the day it is
counted from, or on that month's last day if it has no such day (§ 188 Abs. 2 and 3 BGB:
31 August + 6 months is 28 or 29 February). A period whose last day is a Saturday, Sunday or
public holiday ends with the next working day (§ 31 Abs. 3 VwVfG, § 193 BGB). The public
holidays are those of a whole Land (``state``), or the national ones only when no Land is given;
days kept only in parts of a Land (Mariä Himmelfahrt in Bavaria's Catholic communities,
Fronleichnam in parts of Saxony and Thuringia, the Augsburger Friedensfest) do not count.
"""

from __future__ import annotations

import calendar
import datetime
from functools import lru_cache

import holidays

#: The Länder by their two-letter codes (ISO 3166-2:DE without "DE-"), as
#: ``core.Municipality.state`` stores them.
STATES = frozenset(
    {"BW", "BY", "BE", "BB", "HB", "HH", "HE", "MV", "NI", "NW", "RP", "SL", "SN", "ST", "SH", "TH"}
)


def days_after(day: datetime.date, days: int) -> datetime.date:
    """``day`` plus ``days`` (may be negative); the first or last representable date beyond."""
    try:
        return day + datetime.timedelta(days=days)
    except OverflowError:
        return datetime.date.max if days > 0 else datetime.date.min


def months_after(day: datetime.date, months: int) -> datetime.date:
    """The day ``months`` calendar months after ``day`` (before, if negative), on the last day
    of that month if it is shorter (§ 188 Abs. 3 BGB); the last representable date beyond."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    if year > datetime.MAXYEAR:
        return datetime.date.max
    if year < datetime.MINYEAR:
        return datetime.date.min
    last = calendar.monthrange(year, month + 1)[1]
    return datetime.date(year, month + 1, min(day.day, last))


@lru_cache(maxsize=256)
def public_holidays(state: str | None, year: int) -> frozenset[datetime.date]:
    """The public holidays of the Land ``state`` in ``year``; without a Land the national ones."""
    if state is not None and state not in STATES:
        raise ValueError(f"unknown state {state!r}; use one of {', '.join(sorted(STATES))}")
    return frozenset(holidays.country_holidays("DE", subdiv=state, years=year))


def is_working_day(day: datetime.date, state: str | None) -> bool:
    return day.weekday() < 5 and day not in public_holidays(state, day.year)


def next_working_day(day: datetime.date, state: str | None) -> datetime.date:
    """``day`` itself if it is a working day, else the next one (§ 31 Abs. 3 VwVfG)."""
    while not is_working_day(day, state) and day < datetime.date.max:
        day += datetime.timedelta(days=1)
    return day
