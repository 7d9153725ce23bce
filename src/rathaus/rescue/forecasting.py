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
  horizon. Given ``peers`` (the other regions of the same service, as in the evaluation), each
  member's weekday, season and holiday coefficients are shrunk 25 % towards their mean over the
  regions, which steadies shapes learnt from few occurrences; alone, a region keeps its own.
  Its intervals are empirical (conformal): the quantiles of the ensemble's own log errors at
  the same horizons from the weekly forecast origins of the year before, so they are as wide as
  the model has actually been wrong; where a horizon band has fewer than 56 such errors (a
  short history, or a long data gap over the year before), that band gets normal intervals of
  an assumed size instead, and the forecast is marked ``approximate_intervals``. Its settings
  were chosen by validating on 2016 and 2017 (docs/modules/rescue.md).

Everything is deterministic numpy: the same data gives the same forecast, and ``seed`` only feeds
the staffing simulation elsewhere.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from rathaus.rescue.demand import EARLIEST_DAY, LATEST_DAY, DailySeries
from rathaus.rescue.holiday_calendar import calendar_for_region, holiday_names

Z80 = 1.2815515655446004
Z95 = 1.959963984540054
SEASON = 7
# The conformal intervals need at least this many observed past errors in a horizon band (eight
# weekly origins' worth); with fewer, the band gets normal intervals of APPROXIMATE_LOG_SPREAD in
# log space per whole week ahead, and the forecast says so (``approximate_intervals``).
MIN_CALIBRATION_ERRORS = 8 * SEASON
APPROXIMATE_LOG_SPREAD = 0.08

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
    #: True when some of the intervals are not calibrated on the model's own past errors but
    #: approximated (too short a history, or a long data gap over the year before the origin).
    approximate_intervals: bool = False

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


class ForecastRangeError(ValueError):
    """The data or the forecast days lie outside the supported dates (EARLIEST_DAY…LATEST_DAY)."""


def first_forecast_day(series: DailySeries) -> dt.date:
    """The day after the last observation, the default origin of a forecast."""
    ordinal = series.start.toordinal() + len(series.values)
    if ordinal > LATEST_DAY.toordinal():
        raise ForecastRangeError(
            f"{series.region}: the data end on or after {LATEST_DAY}, the last day a forecast "
            "may cover"
        )
    return dt.date.fromordinal(ordinal)


def _check_dates(series: DailySeries, origin: dt.date, horizon: int) -> None:
    """Refuse a forecast whose data or days leave the supported dates (so that no date
    arithmetic overflows, and no holiday calendar is asked for the year 0 or 9999)."""
    if series.start < EARLIEST_DAY:
        raise ForecastRangeError(f"{series.region}: the data begin before {EARLIEST_DAY}")
    if horizon < 1:
        raise ValueError("the horizon is at least one day")
    last = origin.toordinal() + horizon - 1
    if origin < EARLIEST_DAY or last > LATEST_DAY.toordinal():
        raise ForecastRangeError(
            f"{series.region}: a forecast from {origin} for {horizon} days leaves the supported "
            f"dates {EARLIEST_DAY} to {LATEST_DAY}"
        )


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
        _check_dates(series, origin, horizon)
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
        mean = np.maximum(last_week[steps % SEASON], 0.0)
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
            upper80=np.maximum(mean + Z80 * spread, 0.0),
            lower95=np.maximum(mean - Z95 * spread, 0.0),
            upper95=np.maximum(mean + Z95 * spread, 0.0),
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


@dataclass(frozen=True)
class _MemberFit:
    """One member fitted at one origin: what its forecast needs besides the coefficients."""

    beta: FloatArray
    names: tuple[str, ...]  # one per coefficient; the shape ones are pooled across regions
    x_fit: FloatArray
    target: FloatArray
    x_new: FloatArray
    scale: float  # robust residual scale of the fit (0 when not robust)


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
    # Other regions of the same service: each member's shape coefficients (weekday, season,
    # holidays) are shrunk by peer_shrink towards their mean over this region and the peers
    # with the same holiday calendar (chosen on 2016/2017). Without peers: no shrinkage.
    peers: Sequence[DailySeries] = ()
    peer_shrink: float = 0.25
    name: str = "calendar_regression"
    _cache: dict[tuple[str, int, dt.date, dt.date, int], FloatArray] = field(
        default_factory=dict, repr=False
    )
    _features: dict[tuple[dt.date, int, str, int], tuple[FloatArray, tuple[str, ...]]] = field(
        default_factory=dict, repr=False
    )
    _peer_betas: dict[
        tuple[str, int, dt.date, dt.date, int], tuple[FloatArray, tuple[str, ...]] | None
    ] = field(default_factory=dict, repr=False)

    # -- point forecast ---------------------------------------------------------------------
    def _calendar_features(
        self, start: dt.date, days: int, calendar: str, fourier_terms: int
    ) -> tuple[FloatArray, tuple[str, ...]]:
        """Weekday, Fourier and holiday columns for ``days`` days from ``start`` and their names
        (cached)."""
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
        names = ["intercept"]
        for wd in range(1, 7):
            cols.append((weekday == wd).astype(float))
            names.append(f"weekday {wd}")
        for k in range(1, fourier_terms + 1):
            angle = 2 * np.pi * k * doy / 365.25
            cols.append(np.sin(angle))
            cols.append(np.cos(angle))
            names += [f"sin {k}", f"cos {k}"]
        end = start + dt.timedelta(days=days - 1)
        holidays = holiday_names(calendar, start.year - 1, end.year + 1)
        for name in sorted(set(holidays.values())):
            col = np.zeros(days)
            for day, day_name in holidays.items():
                i = day.toordinal() - first_ordinal
                if day_name == name and 0 <= i < days:
                    col[i] = 1.0
            cols.append(col)
            names.append(f"holiday {name}")
        result = (np.column_stack(cols), tuple(names))
        self._features[key] = result
        return result

    def _design(
        self,
        start: dt.date,
        index: npt.NDArray[np.int64],
        origin_index: int,
        calendar: str,
        member: RegressionMember,
    ) -> tuple[FloatArray, tuple[str, ...]]:
        # cover whole years so that every origin of one series shares one feature table
        span = max(int(index.max()) + 1, 1)
        span = -(-span // 366) * 366
        table, names = self._calendar_features(start, span, calendar, member.fourier_terms)
        features = table[index]
        if not member.trend:
            return features, names
        return np.column_stack([features, (index - origin_index) / 365.25]), (*names, "trend")

    def _member_fit(
        self, y: FloatArray, start: dt.date, calendar: str, horizon: int, member: RegressionMember
    ) -> _MemberFit:
        """Fit one member to the observations ``y`` (robustly) for ``horizon`` days after them."""
        t = len(y)
        lo = max(0, t - member.window_days)
        idx = np.arange(lo, t)
        obs = ~np.isnan(y[lo:t])
        future = np.arange(t, t + horizon)
        design, names = self._design(start, np.concatenate([idx, future]), t, calendar, member)
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
            if not self.robust_clip:
                break
            resid = target - x_fit @ beta
            scale = 1.4826 * float(np.median(np.abs(resid)))
            if scale <= 0.0:  # e.g. a region with only zeros: nothing to down-weight
                break
            if round_ < rounds:
                limit = self.robust_clip * scale
                down = np.minimum(1.0, limit / np.maximum(np.abs(resid), 1e-12))
                w = base_w * np.where(ordinary, down, 1.0)
        return _MemberFit(beta, names, x_fit, target, x_new, scale)

    def _member_forecast(self, fit: _MemberFit, beta: FloatArray) -> FloatArray:
        """The member's log forecast with the coefficients ``beta``: the regression plus the
        recent level deviation, decaying with the horizon."""
        resid = fit.target - fit.x_fit @ beta
        recent = resid[-8 * SEASON :]
        if self.robust_clip and fit.scale > 0.0:
            limit = self.robust_clip * fit.scale
            recent = np.clip(recent, -limit, limit)
        level = 0.0
        for r in recent:
            level = (1 - self.level_alpha) * level + self.level_alpha * r
        steps = np.arange(1, len(fit.x_new) + 1)
        result: FloatArray = fit.x_new @ beta + level * self.level_decay**steps
        return result

    def _peer_beta(
        self, peer: DailySeries, origin: dt.date, calendar: str, k: int
    ) -> tuple[FloatArray, tuple[str, ...]] | None:
        """Member ``k``'s coefficients fitted to a peer region at ``origin`` (cached), or None
        when the peer has too little data before the origin."""
        key = (peer.region, id(peer.values), peer.start, origin, k)
        if key not in self._peer_betas:
            y = _observed_before(peer, origin) if peer.index_of(origin) > 0 else None
            member = self.members[k]
            if y is None or (~np.isnan(y[-member.window_days :])).sum() < 8 * SEASON:
                self._peer_betas[key] = None
            else:
                fit = self._member_fit(y, peer.start, calendar, 1, member)
                self._peer_betas[key] = (fit.beta, fit.names)
        return self._peer_betas[key]

    def _shrunk(
        self, fit: _MemberFit, pooled: list[tuple[FloatArray, tuple[str, ...]]]
    ) -> FloatArray:
        """``fit.beta`` with each shape coefficient moved ``peer_shrink`` of the way to its mean
        over this region and the peers that have it."""
        beta = fit.beta.copy()
        positions = [{name: i for i, name in enumerate(names)} for _, names in pooled]
        for i, name in enumerate(fit.names):
            if name in ("intercept", "trend"):
                continue
            values = [
                b[pos[name]] for (b, _), pos in zip(pooled, positions, strict=True) if name in pos
            ]
            mean = (fit.beta[i] + sum(values)) / (1 + len(values))
            beta[i] = (1 - self.peer_shrink) * fit.beta[i] + self.peer_shrink * mean
        return beta

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
        peers = [
            p
            for p in self.peers
            if p.region != series.region
            and (self.calendar or calendar_for_region(p.region)) == calendar
        ]
        points = []
        for k, member in enumerate(self.members):
            fit = self._member_fit(y, series.start, calendar, horizon, member)
            # this region's coefficients serve as a peer's when the peer is forecast
            self._peer_betas[(series.region, id(series.values), series.start, origin, k)] = (
                fit.beta,
                fit.names,
            )
            pooled = [
                b for p in peers if (b := self._peer_beta(p, origin, calendar, k)) is not None
            ]
            beta = self._shrunk(fit, pooled) if pooled and self.peer_shrink else fit.beta
            points.append(self._member_forecast(fit, beta))
        log_mean: FloatArray = np.mean(points, axis=0)
        self._cache[key] = log_mean
        return log_mean

    # -- intervals --------------------------------------------------------------------------
    def forecast(self, series: DailySeries, *, origin: dt.date, horizon: int) -> Forecast:
        _check_dates(series, origin, horizon)
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
        pools = np.array(errors) if errors else np.empty((0, calib_h))  # origins x calib_h
        bounds = {k: np.empty(horizon) for k in ("lower80", "upper80", "lower95", "upper95")}
        approximate = False
        for band in range(0, horizon, SEASON):
            pool = pools[:, band : band + SEASON].ravel()
            pool = pool[~np.isnan(pool)]  # days of a data gap have no error
            if pool.size < MIN_CALIBRATION_ERRORS:
                # too few past errors at this horizon (a short history, or a long data gap
                # over the origins of the year before): normal intervals of an assumed size
                spread = APPROXIMATE_LOG_SPREAD * math.sqrt(band // SEASON + 1)
                q = [-Z80 * spread, Z80 * spread, -Z95 * spread, Z95 * spread]
                approximate = True
            else:
                q = np.quantile(
                    pool,
                    [
                        (1 - self.coverage80) / 2,
                        1 - (1 - self.coverage80) / 2,
                        (1 - self.coverage95) / 2,
                        1 - (1 - self.coverage95) / 2,
                    ],
                ).tolist()
            end = min(band + SEASON, horizon)
            for name, value in zip(bounds, q, strict=True):
                bounds[name][band:end] = value

        def counts(log_values: FloatArray) -> FloatArray:
            # back from log(1 + count); a fit below log 1 = 0 (a region that fell silent) would
            # give a negative count, and counts cannot be negative
            return np.maximum(np.exp(log_values) - 1.0, 0.0)

        return Forecast(
            region=series.region,
            model=self.name,
            start=origin,
            mean=counts(log_mean),
            lower80=counts(log_mean + bounds["lower80"]),
            upper80=counts(log_mean + bounds["upper80"]),
            lower95=counts(log_mean + bounds["lower95"]),
            upper95=counts(log_mean + bounds["upper95"]),
            approximate_intervals=approximate,
        )


MODELS = {"seasonal_naive": SeasonalNaive, "calendar_regression": CalendarRegression}
