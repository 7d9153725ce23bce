"""Daily demand forecasts with 80 % and 95 % prediction intervals.

Two models share one interface, ``model.forecast(series, origin=day, horizon=n) -> Forecast``:

* :class:`SeasonalNaive` — the benchmark baseline: the value of the same weekday last week, with
  the textbook intervals of the seasonal naive method (sigma grows with the square root of the
  number of whole seasons ahead).
* :class:`CalendarRegression` — the strong model: the average (in log space) of three weighted
  ridge regressions of log demand on the weekday, an annual Fourier series and public holidays
  (per German Land or other country) — one smooth, one with a finer annual shape, one with a
  local linear trend and a shorter memory — each fitted robustly (Huber weights, so storms and
  outages do not drag it) and each followed by the recent level deviation decaying with the
  horizon. Its intervals are empirical (conformal): the quantiles of the ensemble's own log
  errors at the same horizons from the weekly forecast origins of the year before, so they are
  as wide as the model has actually been wrong. Its settings were chosen by validating on 2016
  and 2017 (docs/modules/rescue.md).

Everything is deterministic numpy: the same data gives the same forecast, and ``seed`` only feeds
the staffing simulation elsewhere.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from rathaus.rescue.demand import DailySeries
from rathaus.rescue.holiday_calendar import calendar_for_region, holiday_names

Z80 = 1.2815515655446004
Z95 = 1.959963984540054
SEASON = 7

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Forecast:
    region: str
    model: str
    start: dt.date  # the first forecast day (the origin)
    mean: FloatArray
    lower80: FloatArray
    upper80: FloatArray
    lower95: FloatArray
    upper95: FloatArray

    def dates(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range(len(self.mean))]

    def rows(self) -> list[dict[str, object]]:
        return [
            {
                "date": day.isoformat(),
                "mean": round(float(self.mean[i]), 2),
                "lower80": round(float(self.lower80[i]), 2),
                "upper80": round(float(self.upper80[i]), 2),
                "lower95": round(float(self.lower95[i]), 2),
                "upper95": round(float(self.upper95[i]), 2),
            }
            for i, day in enumerate(self.dates())
        ]


class ForecastModel(Protocol):
    name: str

    def forecast(self, series: DailySeries, *, origin: dt.date, horizon: int) -> Forecast: ...


class InsufficientData(ValueError):
    """Too few observations before the origin to fit the model."""


def _observed_before(series: DailySeries, origin: dt.date) -> FloatArray:
    t = series.index_of(origin)
    if t <= 0:
        raise InsufficientData(f"{series.region}: no observations before {origin}")
    if t > len(series.values):
        # the origin lies after the last observation: the days in between are unknown
        return np.concatenate([series.values, np.full(t - len(series.values), np.nan)])
    return series.values[:t]


@dataclass
class SeasonalNaive:
    """y(T+h) = y(T+h-7k) for the last observed same weekday; normal intervals."""

    name: str = "seasonal_naive"

    def forecast(self, series: DailySeries, *, origin: dt.date, horizon: int) -> Forecast:
        y = _observed_before(series, origin)
        t = len(y)
        last_week = np.full(SEASON, np.nan)
        for d in range(SEASON):  # position d of the weekly cycle counted from the origin
            for back in range(t - SEASON + d, -1, -SEASON):
                if back >= 0 and not math.isnan(y[back]):
                    last_week[d] = y[back]
                    break
        if np.isnan(last_week).any():
            raise InsufficientData(f"{series.region}: needs every weekday observed at least once")
        steps = np.arange(horizon)
        mean = last_week[steps % SEASON]
        diffs = y[SEASON:] - y[:-SEASON]
        diffs = diffs[~np.isnan(diffs)]
        sigma = float(np.sqrt(np.mean(diffs**2))) if diffs.size else 0.0
        spread = sigma * np.sqrt(steps // SEASON + 1)
        return Forecast(
            region=series.region,
            model=self.name,
            start=origin,
            mean=mean,
            lower80=np.maximum(mean - Z80 * spread, 0.0),
            upper80=mean + Z80 * spread,
            lower95=np.maximum(mean - Z95 * spread, 0.0),
            upper95=mean + Z95 * spread,
        )


@dataclass(frozen=True)
class RegressionMember:
    """One regression of the ensemble: its training window, weighting, seasonality and trend."""

    window_days: int = 2000  # training window before the origin
    halflife_days: float = 500.0  # weight of an observation halves with this age
    fourier_terms: int = 4  # annual seasonality (sine/cosine pairs)
    trend: bool = False  # a linear trend in log demand (penalised like the other slopes)


# Three diverse members, averaged in log space; chosen on the validation years 2016 and 2017
# (docs/modules/rescue.md): the smooth 4-pair model, a finer annual shape (8 pairs) and a
# shorter-memory model with a local linear trend. Each member alone scores worse than the mean.
DEFAULT_MEMBERS: tuple[RegressionMember, ...] = (
    RegressionMember(),
    RegressionMember(fourier_terms=8),
    RegressionMember(window_days=1460, halflife_days=730.0, trend=True),
)


@dataclass
class CalendarRegression:
    """An ensemble of robust weighted ridge regressions on calendar features, with conformal
    prediction intervals from the ensemble's own past errors."""

    calendar: str | None = None  # holiday calendar (DE-NW, GB-ENG, …); None: by region name
    members: tuple[RegressionMember, ...] = DEFAULT_MEMBERS
    ridge: float = 1.0
    level_alpha: float = 0.08  # smoothing of the recent level deviation
    level_decay: float = 0.995  # per day ahead
    # Robust fit: residuals beyond robust_clip robust standard deviations (1.4826 * MAD) are
    # down-weighted (Huber weights, robust_iterations reweighting rounds) and clipped before
    # they enter the level, so a storm or an outage does not drag the forecast.
    robust_clip: float | None = 2.5
    robust_iterations: int = 2
    calibration_origins: int = 52  # weekly origins of the year before, for the intervals
    # Nominal levels of the empirical quantiles: slightly above 80 %/95 % because errors of the
    # year before understate those of the coming year (validated on 2016 and 2017).
    coverage80: float = 0.83
    coverage95: float = 0.965
    name: str = "calendar_regression"
    _cache: dict[tuple[str, int, dt.date, dt.date, int], FloatArray] = field(
        default_factory=dict, repr=False
    )
    _features: dict[tuple[dt.date, int, str, int], FloatArray] = field(
        default_factory=dict, repr=False
    )

    # -- point forecast ---------------------------------------------------------------------
    def _calendar_features(
        self, start: dt.date, days: int, calendar: str, fourier_terms: int
    ) -> FloatArray:
        """Weekday, Fourier and holiday columns for ``days`` days from ``start`` (cached)."""
        key = (start, days, calendar, fourier_terms)
        cached = self._features.get(key)
        if cached is not None:
            return cached
        first_ordinal = start.toordinal()
        ordinals = np.arange(first_ordinal, first_ordinal + days)
        weekday = (ordinals - 1) % 7  # date.fromordinal(1) is a Monday
        year_start = np.array(
            [dt.date(dt.date.fromordinal(int(o)).year, 1, 1).toordinal() for o in ordinals]
        )
        doy = (ordinals - year_start + 1).astype(float)
        cols: list[FloatArray] = [np.ones(days)]
        for wd in range(1, 7):
            cols.append((weekday == wd).astype(float))
        for k in range(1, fourier_terms + 1):
            angle = 2 * np.pi * k * doy / 365.25
            cols.append(np.sin(angle))
            cols.append(np.cos(angle))
        end = start + dt.timedelta(days=days - 1)
        names = holiday_names(calendar, start.year - 1, end.year + 1)
        for name in sorted(set(names.values())):
            col = np.zeros(days)
            for day, day_name in names.items():
                i = day.toordinal() - first_ordinal
                if day_name == name and 0 <= i < days:
                    col[i] = 1.0
            cols.append(col)
        features = np.column_stack(cols)
        self._features[key] = features
        return features

    def _design(
        self,
        start: dt.date,
        index: npt.NDArray[np.int64],
        origin_index: int,
        calendar: str,
        member: RegressionMember,
    ) -> FloatArray:
        # cover whole years so that every origin of one series shares one feature table
        span = max(int(index.max()) + 1, 1)
        span = -(-span // 366) * 366
        features = self._calendar_features(start, span, calendar, member.fourier_terms)[index]
        if not member.trend:
            return features
        return np.column_stack([features, (index - origin_index) / 365.25])

    def _member_point(
        self, y: FloatArray, start: dt.date, calendar: str, horizon: int, member: RegressionMember
    ) -> FloatArray:
        """One member's log forecast for the ``horizon`` days after the observations ``y``."""
        t = len(y)
        lo = max(0, t - member.window_days)
        idx = np.arange(lo, t)
        obs = ~np.isnan(y[lo:t])
        future = np.arange(t, t + horizon)
        design = self._design(start, np.concatenate([idx, future]), t, calendar, member)
        x_fit, x_new = design[: len(idx)][obs], design[len(idx) :]
        target = np.log(np.maximum(y[lo:t][obs], 0.0) + 1.0)
        age = (t - 1 - idx[obs]).astype(float)
        base_w = 0.5 ** (age / member.halflife_days)
        w = base_w
        penalty = self.ridge * np.eye(x_fit.shape[1])
        penalty[0, 0] = 0.0
        rounds = self.robust_iterations if self.robust_clip else 0
        # holidays and special days have their own indicator columns: their deviations are
        # the effect to learn (often from only a few occurrences), never outliers
        holiday_cols = x_fit[:, 7 + 2 * member.fourier_terms : x_fit.shape[1] - int(member.trend)]
        ordinary = ~holiday_cols.any(axis=1)
        scale = 0.0
        for round_ in range(rounds + 1):
            sw = np.sqrt(w)
            xw = x_fit * sw[:, None]
            beta = np.linalg.solve(xw.T @ xw + penalty, xw.T @ (target * sw))
            resid = target - x_fit @ beta
            if not self.robust_clip:
                break
            scale = 1.4826 * float(np.median(np.abs(resid)))
            if scale <= 0.0:  # e.g. a region with only zeros: nothing to down-weight
                break
            if round_ < rounds:
                limit = self.robust_clip * scale
                down = np.minimum(1.0, limit / np.maximum(np.abs(resid), 1e-12))
                w = base_w * np.where(ordinary, down, 1.0)
        recent = resid[-8 * SEASON :]
        if self.robust_clip and scale > 0.0:
            recent = np.clip(recent, -self.robust_clip * scale, self.robust_clip * scale)
        level = 0.0
        for r in recent:
            level = (1 - self.level_alpha) * level + self.level_alpha * r
        steps = np.arange(1, horizon + 1)
        result: FloatArray = x_new @ beta + level * self.level_decay**steps
        return result

    def _point(self, series: DailySeries, origin: dt.date, horizon: int) -> FloatArray:
        key = (series.region, id(series.values), series.start, origin, horizon)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        y = _observed_before(series, origin)
        if min((~np.isnan(y[-m.window_days :])).sum() for m in self.members) < 8 * SEASON:
            raise InsufficientData(
                f"{series.region}: needs at least {8 * SEASON} observed days before {origin}"
            )
        calendar = self.calendar or calendar_for_region(series.region)
        log_mean = np.mean(
            [self._member_point(y, series.start, calendar, horizon, m) for m in self.members],
            axis=0,
        )
        self._cache[key] = log_mean
        return log_mean

    # -- intervals --------------------------------------------------------------------------
    def forecast(self, series: DailySeries, *, origin: dt.date, horizon: int) -> Forecast:
        calib_h = max(horizon, 12 * SEASON)
        calib_h = -(-calib_h // SEASON) * SEASON
        log_mean = self._point(series, origin, calib_h)[:horizon]
        errors = []
        first_back = calib_h // SEASON
        for k in range(first_back, first_back + self.calibration_origins):
            past = origin - dt.timedelta(days=SEASON * k)
            t0 = series.index_of(past)
            if t0 < 8 * SEASON or t0 + calib_h > len(series.values):
                continue
            try:
                pred = self._point(series, past, calib_h)
            except InsufficientData:
                continue
            actual = np.log(np.maximum(series.values[t0 : t0 + calib_h], 0.0) + 1.0)
            errors.append(actual - pred)
        mean = np.exp(log_mean) - 1.0
        if len(errors) < 8:
            # too little history to calibrate: fall back to in-sample-sized normal intervals
            spread = 0.08 * np.sqrt(np.arange(horizon) // SEASON + 1)
            bounds = {
                "lower80": -Z80 * spread,
                "upper80": Z80 * spread,
                "lower95": -Z95 * spread,
                "upper95": Z95 * spread,
            }
        else:
            err = np.array(errors)  # origins x calib_h
            bounds = {k: np.empty(horizon) for k in ("lower80", "upper80", "lower95", "upper95")}
            for band in range(0, horizon, SEASON):
                b_hi = min(band + SEASON, calib_h)
                pool = err[:, band:b_hi].ravel()
                pool = pool[~np.isnan(pool)]
                q = np.quantile(
                    pool,
                    [
                        (1 - self.coverage80) / 2,
                        1 - (1 - self.coverage80) / 2,
                        (1 - self.coverage95) / 2,
                        1 - (1 - self.coverage95) / 2,
                    ],
                )
                end = min(band + SEASON, horizon)
                for name, value in zip(bounds, q, strict=True):
                    bounds[name][band:end] = value
        return Forecast(
            region=series.region,
            model=self.name,
            start=origin,
            mean=mean,
            lower80=np.maximum(np.exp(log_mean + bounds["lower80"]) - 1.0, 0.0),
            upper80=np.exp(log_mean + bounds["upper80"]) - 1.0,
            lower95=np.maximum(np.exp(log_mean + bounds["lower95"]) - 1.0, 0.0),
            upper95=np.exp(log_mean + bounds["upper95"]) - 1.0,
        )


MODELS = {"seasonal_naive": SeasonalNaive, "calendar_regression": CalendarRegression}
