"""Small hand-made demand series for the tests (no real data needed)."""

from __future__ import annotations

import datetime as dt

import numpy as np

from rathaus.rescue.demand import DailySeries

WEEKLY = np.array([1.08, 1.0, 0.97, 0.97, 1.0, 1.02, 1.0])


def synthetic_series(
    region: str = "Aachen",
    start: dt.date = dt.date(2020, 1, 6),
    days: int = 3 * 365,
    level=200.0,
    seed: int = 1,
) -> DailySeries:
    rng = np.random.default_rng(seed)
    t = np.arange(days)
    dates = [start + dt.timedelta(days=int(i)) for i in t]
    weekday = np.array([d.weekday() for d in dates])
    season = 1 + 0.08 * np.cos(2 * np.pi * t / 365.25)
    mu = level * WEEKLY[weekday] * season
    return DailySeries(region=region, start=start, values=rng.poisson(mu).astype(float))


def to_csv(series: DailySeries) -> str:
    lines = ["date,region,responses"]
    for day, value in zip(series.dates(), series.values, strict=True):
        if value == value:
            lines.append(f"{day.isoformat()},{series.region},{int(value)}")
    return "\n".join(lines) + "\n"


def outage_series(region: str = "Aachen") -> DailySeries:
    """400 days of Poisson(100) from 2020-01-06, a data outage of 500 days, then 60 days again:
    every forecast origin of the year before the last day falls in the outage."""
    rng = np.random.default_rng(1)
    values = np.concatenate(
        [rng.poisson(100, 400).astype(float), np.full(500, np.nan), rng.poisson(100, 60)]
    )
    return DailySeries(region, dt.date(2020, 1, 6), values.astype(float))
