"""Evaluation exactly as the published benchmark (Monks et al. 2023) does it.

Rolling forecast origin: the first origin is ``test_from``, then every 7 days, as long as the
longest horizon still ends on or before ``test_to``; each fold trains on everything before its
origin. For each horizon h in 7, 14, …, 84 the fold's score is computed on its first h days.
MASE divides the mean absolute error by the in-sample mean absolute error of the seasonal naive
method with period 7 on the fold's training data. Coverage is the share of actual values inside
the 80 % and 95 % prediction intervals.

:func:`poisson_floor` is a diagnostic beside the benchmark (it does not change it): the MASE that
even a forecast knowing each day's true mean would reach if the counts were Poisson.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from rathaus.rescue.demand import DailySeries
from rathaus.rescue.forecasting import SEASON, Forecast, ForecastModel

HORIZONS = tuple(range(7, 85, 7))
FloatArray = npt.NDArray[np.float64]


def seasonal_naive_scale(train: FloatArray, period: int = SEASON) -> float:
    """In-sample MAE of the seasonal naive method: mean |y_t - y_(t-period)|, gaps skipped."""
    diffs = np.abs(train[period:] - train[:-period])
    diffs = diffs[~np.isnan(diffs)]
    if diffs.size == 0:
        return float("nan")
    return float(diffs.mean())


def mase(
    actual: FloatArray, predicted: FloatArray, train: FloatArray, period: int = SEASON
) -> float:
    """Mean absolute scaled error; NaN where the scale is zero or undefined."""
    scale = seasonal_naive_scale(train, period)
    errors = np.abs(np.asarray(actual, float) - np.asarray(predicted, float))
    errors = errors[~np.isnan(errors)]
    if errors.size == 0 or not scale > 0:
        return float("nan")
    return float(errors.mean() / scale)


def coverage(actual: FloatArray, lower: FloatArray, upper: FloatArray) -> float:
    """Share of observed values with lower <= actual <= upper (missing days skipped)."""
    actual = np.asarray(actual, float)
    observed = ~np.isnan(actual)
    if not observed.any():
        return float("nan")
    inside = (actual >= lower) & (actual <= upper)
    return float(inside[observed].mean())


def rolling_origins(
    test_from: dt.date, test_to: dt.date, horizon: int, step: int = SEASON
) -> list[dt.date]:
    origins = []
    origin = test_from
    while origin + dt.timedelta(days=horizon - 1) <= test_to:
        origins.append(origin)
        origin += dt.timedelta(days=step)
    return origins


@dataclass
class RegionScore:
    region: str
    folds: int
    mase: dict[int, float]
    coverage80: dict[int, float]
    coverage95: dict[int, float]


def evaluate_region(
    model: ForecastModel,
    series: DailySeries,
    *,
    test_from: dt.date,
    test_to: dt.date,
    horizons: tuple[int, ...] = HORIZONS,
) -> RegionScore:
    max_h = max(horizons)
    if test_to > series.end:
        raise ValueError(f"{series.region}: the data end on {series.end}, before {test_to}")
    origins = rolling_origins(test_from, test_to, max_h)
    if not origins:
        raise ValueError(f"the test period {test_from} to {test_to} is shorter than {max_h} days")
    scores: dict[str, dict[int, list[float]]] = {
        "mase": {h: [] for h in horizons},
        "c80": {h: [] for h in horizons},
        "c95": {h: [] for h in horizons},
    }
    for origin in origins:
        t = series.index_of(origin)
        train = series.values[:t]
        actual = series.values[t : t + max_h]
        fc: Forecast = model.forecast(series, origin=origin, horizon=max_h)
        for h in horizons:
            scores["mase"][h].append(mase(actual[:h], fc.mean[:h], train))
            scores["c80"][h].append(coverage(actual[:h], fc.lower80[:h], fc.upper80[:h]))
            scores["c95"][h].append(coverage(actual[:h], fc.lower95[:h], fc.upper95[:h]))

    def avg(values: list[float]) -> float:
        return float(np.nanmean(values)) if not np.isnan(values).all() else float("nan")

    return RegionScore(
        region=series.region,
        folds=len(origins),
        mase={h: avg(v) for h, v in scores["mase"].items()},
        coverage80={h: avg(v) for h, v in scores["c80"].items()},
        coverage95={h: avg(v) for h, v in scores["c95"].items()},
    )


def poisson_floor(
    series: DailySeries,
    *,
    test_from: dt.date,
    test_to: dt.date,
    horizons: tuple[int, ...] = HORIZONS,
) -> dict[int, float]:
    """The MASE of an oracle that knows each day's true mean, if the counts were Poisson.

    For a Poisson count with a large mean mu, the mean absolute error of the best point forecast
    is about sqrt(2 mu / pi) (normal approximation; mu in the hundreds here). The observed count
    stands in for mu, so this is an estimate, and overdispersion (weather, outbreaks) only raises
    the real floor. Same folds, horizons and scale as :func:`evaluate_region`; a model scoring
    near this value has little left to gain from the series alone.
    """
    max_h = max(horizons)
    floors: dict[int, list[float]] = {h: [] for h in horizons}
    for origin in rolling_origins(test_from, test_to, max_h):
        t = series.index_of(origin)
        scale = seasonal_naive_scale(series.values[:t])
        expected_error = np.sqrt(2.0 * np.maximum(series.values[t : t + max_h], 0.0) / np.pi)
        for h in horizons:
            part = expected_error[:h]
            part = part[~np.isnan(part)]
            usable = part.size > 0 and scale > 0
            floors[h].append(float(part.mean() / scale) if usable else float("nan"))
    return {
        h: float(np.nanmean(v)) if v and not np.isnan(v).all() else float("nan")
        for h, v in floors.items()
    }


def summarise(scores: list[RegionScore], horizons: tuple[int, ...] = HORIZONS) -> dict[str, Any]:
    """The JSON report: per region and horizon, the mean over regions, overall coverage."""

    def mean_of(attr: str, h: int) -> float:
        return float(np.nanmean([getattr(s, attr)[h] for s in scores]))

    longest = max(horizons)
    return {
        "horizons": list(horizons),
        "regions": {
            s.region: {
                "folds": s.folds,
                "mase": {str(h): round(s.mase[h], 4) for h in horizons},
                "coverage80": {str(h): round(s.coverage80[h], 4) for h in horizons},
                "coverage95": {str(h): round(s.coverage95[h], 4) for h in horizons},
            }
            for s in scores
        },
        "mean": {
            "mase": {str(h): round(mean_of("mase", h), 4) for h in horizons},
            "coverage80": {str(h): round(mean_of("coverage80", h), 4) for h in horizons},
            "coverage95": {str(h): round(mean_of("coverage95", h), 4) for h in horizons},
        },
        # coverage over every forecast day of every fold (the longest horizon)
        "coverage80": round(mean_of("coverage80", longest), 4),
        "coverage95": round(mean_of("coverage95", longest), 4),
    }
