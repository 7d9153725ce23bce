"""Public holidays as regression features, per country and state (German regions: per Land).

A calendar is named ``CC-SUB``: ``DE-NW`` (North Rhine-Westphalia), ``DE-BY``, …, or ``GB-ENG``
for the English ambulance regions of the published benchmark. Days that behave like holidays in
emergency demand but are not public holidays (Christmas Eve, New Year's Eve) get their own
features, as does the second of January (the published model's "New Year effect").
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays

DEFAULT_CALENDAR = "DE-NW"

# Regions of the published SWAST benchmark (England); any other region defaults to DEFAULT_CALENDAR.
KNOWN_REGION_CALENDARS = {
    name.lower(): "GB-ENG"
    for name in (
        "BNSSG",
        "Cornwall",
        "Devon",
        "Dorset",
        "Gloucestershire",
        "Somerset",
        "Wiltshire",
        "Trust",
        "OOA",
    )
}

GERMAN_STATES = [
    "BB",
    "BE",
    "BW",
    "BY",
    "HB",
    "HE",
    "HH",
    "MV",
    "NI",
    "NW",
    "RP",
    "SH",
    "SL",
    "SN",
    "ST",
    "TH",
]

SPECIAL_DAYS = {
    (12, 24): "Christmas Eve",
    (12, 27): "27 December",
    (12, 28): "28 December",
    (12, 29): "29 December",
    (12, 30): "30 December",
    (12, 31): "New Year's Eve",
    (1, 2): "2 January",
    (1, 3): "3 January",
}


def calendar_for_region(region: str, default: str | None = None) -> str:
    return KNOWN_REGION_CALENDARS.get(region.lower(), default or DEFAULT_CALENDAR)


def validate_calendar(code: str) -> str:
    """Return the normalised code or raise ``ValueError`` with the accepted forms."""
    country, _, subdiv = code.upper().partition("-")
    try:
        holidays.country_holidays(country, subdiv=subdiv or None, years=2020)
    except (NotImplementedError, KeyError) as exc:
        raise ValueError(
            f"unknown holiday calendar {code!r}; use e.g. DE-NW, DE-BY or GB-ENG"
        ) from exc
    return f"{country}-{subdiv}" if subdiv else country


@lru_cache(maxsize=64)
def holiday_names(code: str, first_year: int, last_year: int) -> dict[dt.date, str]:
    """Every public holiday and special day between the two years, with a stable name."""
    country, _, subdiv = code.partition("-")
    years = range(first_year, last_year + 1)
    found = holidays.country_holidays(country, subdiv=subdiv or None, years=years)
    names: dict[dt.date, str] = {}
    for holiday, name in sorted(found.items()):
        names[holiday] = name.split(";")[0].strip()
    for holiday in list(names):
        after = holiday + dt.timedelta(days=1)
        if after not in names and after.weekday() < 5:
            names[after] = "day after a public holiday"
    for year in years:
        for (month, day_of_month), special in SPECIAL_DAYS.items():
            names.setdefault(dt.date(year, month, day_of_month), special)
    return names
