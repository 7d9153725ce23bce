import datetime as dt

import numpy as np
import pytest

from rathaus.rescue.demand import DailySeries
from rathaus.rescue.evaluation import evaluate_region
from rathaus.rescue.forecasting import (
    APPROXIMATE_LOG_SPREAD,
    DEFAULT_MEMBERS,
    Z80,
    Z95,
    CalendarRegression,
    ForecastRangeError,
    InsufficientData,
    RegressionMember,
    SeasonalNaive,
    first_forecast_day,
)
from rathaus.rescue.staffing import simulate_share_in_time
from tests.rescue.synthetic import WEEKLY, outage_series, synthetic_series


def _intervals_are_nested(fc):
    assert (fc.lower95 <= fc.lower80).all()
    assert (fc.lower80 <= fc.mean).all()
    assert (fc.mean <= fc.upper80).all()
    assert (fc.upper80 <= fc.upper95).all()


def test_calendar_regression_forecast_is_reproducible():
    series = synthetic_series()
    origin = series.end + dt.timedelta(days=1)
    a = CalendarRegression().forecast(series, origin=origin, horizon=84)
    b = CalendarRegression().forecast(series, origin=origin, horizon=84)
    np.testing.assert_array_equal(a.mean, b.mean)
    np.testing.assert_array_equal(a.upper95, b.upper95)
    _intervals_are_nested(a)
    assert len(a.mean) == 84


def test_simulation_is_reproducible_with_a_fixed_seed():
    kwargs = {
        "calls_per_hour": 20,
        "ambulances": 25,
        "job_minutes": 60,
        "tolerable_wait_minutes": 3,
    }
    one = simulate_share_in_time(rng=np.random.default_rng(7), **kwargs)
    two = simulate_share_in_time(rng=np.random.default_rng(7), **kwargs)
    assert one == two


def test_strong_model_beats_seasonal_naive_on_poisson_demand_with_calibrated_intervals():
    series = synthetic_series(days=4 * 365)
    test_from = series.start + dt.timedelta(days=3 * 365)
    test_to = series.end
    strong = evaluate_region(
        CalendarRegression(), series, test_from=test_from, test_to=test_to, horizons=(7, 28)
    )
    naive = evaluate_region(
        SeasonalNaive(), series, test_from=test_from, test_to=test_to, horizons=(7, 28)
    )
    assert strong.mase[28] < 0.8 * naive.mase[28]
    assert 0.7 < strong.coverage80[28] < 0.92
    assert 0.88 < strong.coverage95[28] <= 1.0


def test_region_with_gaps_and_zeros_still_gets_a_forecast():
    series = synthetic_series(days=2 * 365)
    values = series.values.copy()
    values[100:130] = np.nan  # a month missing
    values[200:205] = 0  # a reporting outage recorded as zeros
    values[-3] = np.nan  # a missing day just before the origin
    gappy = DailySeries(series.region, series.start, values)
    origin = gappy.end + dt.timedelta(days=1)
    for model in (CalendarRegression(), SeasonalNaive()):
        fc = model.forecast(gappy, origin=origin, horizon=28)
        assert np.isfinite(fc.mean).all()
        assert (fc.lower95 >= 0).all()
        _intervals_are_nested(fc)


@pytest.mark.parametrize("horizon", [14, 200])
def test_a_long_data_outage_over_the_year_before_gives_approximate_intervals(horizon):
    """The weekly calibration origins of the year before lie in the outage: the first weeks
    ahead have no past error to take quantiles of (the later ones reach the data after the
    outage), so they get the normal intervals and the forecast is marked approximate."""
    series = outage_series()
    fc = CalendarRegression(calendar="DE-NW").forecast(
        series, origin=first_forecast_day(series), horizon=horizon
    )
    assert fc.approximate_intervals
    assert np.isfinite(fc.mean).all() and np.isfinite(fc.upper95).all()
    _intervals_are_nested(fc)
    weeks_ahead = np.arange(14) // 7 + 1
    spread80 = np.log1p(fc.upper80[:14]) - np.log1p(fc.mean[:14])
    assert spread80 == pytest.approx(Z80 * APPROXIMATE_LOG_SPREAD * np.sqrt(weeks_ahead))
    spread95 = np.log1p(fc.mean[:14]) - np.log1p(fc.lower95[:14])
    assert spread95 == pytest.approx(Z95 * APPROXIMATE_LOG_SPREAD * np.sqrt(weeks_ahead))


def test_intervals_calibrated_on_past_errors_are_not_marked_approximate():
    series = synthetic_series(days=3 * 365)
    fc = CalendarRegression(calendar="DE-NW").forecast(
        series, origin=first_forecast_day(series), horizon=28
    )
    assert not fc.approximate_intervals
    # the empirical quantiles differ from the fixed normal spread
    spread = np.log1p(fc.upper80) - np.log1p(fc.mean)
    assert not np.allclose(spread[:7], Z80 * APPROXIMATE_LOG_SPREAD)


def test_all_zero_region_forecasts_zero_and_scores_undefined_mase():
    series = DailySeries("Leer", dt.date(2022, 1, 3), np.zeros(400))
    fc = CalendarRegression().forecast(series, origin=dt.date(2023, 1, 1), horizon=14)
    assert np.allclose(fc.mean, 0, atol=1e-6)
    score = evaluate_region(
        SeasonalNaive(),
        series,
        test_from=dt.date(2022, 10, 3),
        test_to=series.end,
        horizons=(7,),
    )
    assert np.isnan(score.mase[7])


def test_a_region_that_fell_silent_is_forecast_without_negative_counts():
    # 200 days of 3 emergencies, then 100 without any (a small rural area): the regression's
    # log fit dips below log(1) = 0, which used to give negative counts and bounds
    values = np.concatenate([np.full(200, 3.0), np.zeros(100)])
    series = DailySeries("Monschau", dt.date(2023, 1, 2), values)
    for horizon in (7, 84):
        fc = CalendarRegression(calendar="DE-NW").forecast(
            series, origin=first_forecast_day(series), horizon=horizon
        )
        for bound in (fc.mean, fc.lower80, fc.upper80, fc.lower95, fc.upper95):
            assert (bound >= 0).all()
        assert fc.mean[0] == 0.0
        _intervals_are_nested(fc)


def test_forecasts_stay_within_the_supported_dates():
    late = DailySeries("Aachen", dt.date(2200, 12, 31) - dt.timedelta(days=99), np.full(100, 9.0))
    with pytest.raises(ForecastRangeError, match="2200-12-31"):
        first_forecast_day(late)
    series = synthetic_series(days=400)
    assert first_forecast_day(series) == series.end + dt.timedelta(days=1)
    for model in (CalendarRegression(), SeasonalNaive()):
        with pytest.raises(ForecastRangeError):
            model.forecast(series, origin=dt.date(9999, 12, 1), horizon=84)
        with pytest.raises(ForecastRangeError):
            model.forecast(series, origin=dt.date(1, 1, 2), horizon=7)


def test_too_short_history_is_refused_clearly():
    series = DailySeries("Neu", dt.date(2024, 1, 1), np.full(20, 5.0))
    with pytest.raises(InsufficientData, match="at least 56 observed days"):
        CalendarRegression().forecast(series, origin=dt.date(2024, 1, 21), horizon=7)


def test_german_holidays_lower_the_forecast_on_a_state_holiday():
    # demand drops by a third on NRW public holidays; the model must learn it
    series = synthetic_series(days=3 * 365, seed=3)
    from rathaus.rescue.holiday_calendar import holiday_names

    names = holiday_names("DE-NW", 2019, 2024)
    values = series.values.copy()
    for i, day in enumerate(series.dates()):
        if names.get(day) == "All Saints' Day":
            values[i] *= 0.66
    shifted = DailySeries(series.region, series.start, values)
    origin = dt.date(2022, 10, 28)
    fc = CalendarRegression(calendar="DE-NW").forecast(
        shifted.until(origin), origin=origin, horizon=7
    )
    nov1 = (dt.date(2022, 11, 1) - origin).days
    assert fc.mean[nov1] < 0.8 * fc.mean[nov1 - 1]


def test_ensemble_forecast_is_the_mean_of_its_members_in_log_space():
    series = synthetic_series(days=3 * 365, seed=5)
    origin = series.end + dt.timedelta(days=1)
    assert len(DEFAULT_MEMBERS) == 3
    ensemble = CalendarRegression().forecast(series, origin=origin, horizon=28)
    singles = [
        CalendarRegression(members=(member,)).forecast(series, origin=origin, horizon=28)
        for member in DEFAULT_MEMBERS
    ]
    logs = np.mean([np.log(fc.mean + 1.0) for fc in singles], axis=0)
    np.testing.assert_allclose(np.log(ensemble.mean + 1.0), logs, rtol=1e-12)
    # the members really differ (else the ensemble would be pointless)
    assert np.abs(singles[0].mean - singles[2].mean).max() > 0.1


def test_trend_member_follows_steady_growth():
    days, horizon = 4 * 365, 84
    full = synthetic_series(days=days + horizon, seed=6)
    t = np.arange(days + horizon)
    growth = np.exp(0.10 * t / 365.25)  # +10 % a year
    weekday = np.array([d.weekday() for d in full.dates()])
    truth = 200.0 * WEEKLY[weekday] * (1 + 0.08 * np.cos(2 * np.pi * t / 365.25)) * growth
    grown = DailySeries(full.region, full.start, np.round(full.values[:days] * growth[:days]))
    origin = grown.end + dt.timedelta(days=1)
    trend = RegressionMember(window_days=1460, halflife_days=730.0, trend=True)
    flat = CalendarRegression(members=(RegressionMember(),), level_alpha=1e-9)
    with_trend = CalendarRegression(members=(trend,), level_alpha=1e-9)

    def error(model):
        fc = model.forecast(grown, origin=origin, horizon=horizon)
        return np.abs(fc.mean - truth[days:]).mean()

    assert error(with_trend) < 0.5 * error(flat)


def test_robust_fit_is_not_dragged_by_a_few_outlier_days():
    series = synthetic_series(days=3 * 365, seed=4)
    origin = series.end + dt.timedelta(days=1)
    spiked_values = series.values.copy()
    spiked_values[-20:-17] *= 3.0  # a storm: three days at triple demand shortly before
    spiked = DailySeries(series.region, series.start, spiked_values)

    def mean_at(model, s):
        return model.forecast(s, origin=origin, horizon=14).mean

    clean = mean_at(CalendarRegression(), series)
    robust = mean_at(CalendarRegression(), spiked)
    plain = mean_at(CalendarRegression(robust_clip=None), spiked)
    assert np.abs(robust - clean).max() < 0.3 * np.abs(plain - clean).max()
    assert np.abs(robust - clean).max() < 0.02 * clean.mean()


def _log_weekday_gap(fc, origin):
    """Mean log difference Monday minus Tuesday over the forecast weeks."""
    logs = np.log(fc.mean + 1.0)
    days = [origin + dt.timedelta(days=i) for i in range(len(logs))]
    monday = [v for v, d in zip(logs, days, strict=True) if d.weekday() == 0]
    tuesday = [v for v, d in zip(logs, days, strict=True) if d.weekday() == 1]
    return float(np.mean(monday) - np.mean(tuesday))


def test_shapes_move_a_quarter_of_the_way_towards_the_other_regions():
    # Aachen peaks on Mondays (+8 %), Düren has the same demand every weekday
    aachen = synthetic_series("Aachen", days=3 * 365, level=5000.0, seed=8)
    flat = synthetic_series("Düren", days=3 * 365, level=5000.0, seed=9)
    weekday = np.array([d.weekday() for d in flat.dates()])
    flat = DailySeries("Düren", flat.start, np.round(flat.values / WEEKLY[weekday]))
    origin = aachen.end + dt.timedelta(days=1)
    own = _log_weekday_gap(CalendarRegression().forecast(aachen, origin=origin, horizon=28), origin)
    other = _log_weekday_gap(CalendarRegression().forecast(flat, origin=origin, horizon=28), origin)
    pooled_model = CalendarRegression(peers=[aachen, flat])
    pooled = _log_weekday_gap(pooled_model.forecast(aachen, origin=origin, horizon=28), origin)
    assert own == pytest.approx(np.log(1.08), abs=0.01)
    assert abs(other) < 0.01
    # 25 % of the way to the mean of the two regions: 12.5 % of the gap between them
    assert pooled == pytest.approx(own + 0.125 * (other - own), abs=0.002)


def test_a_lone_region_and_peers_with_another_holiday_calendar_leave_the_forecast_unchanged():
    aachen = synthetic_series("Aachen", days=3 * 365, seed=10)
    devon = synthetic_series("Devon", days=3 * 365, level=400.0, seed=11)  # GB-ENG holidays
    origin = aachen.end + dt.timedelta(days=1)
    alone = CalendarRegression().forecast(aachen, origin=origin, horizon=28)
    for peers in ([aachen], [devon], [aachen, devon]):
        fc = CalendarRegression(peers=peers).forecast(aachen, origin=origin, horizon=28)
        np.testing.assert_array_equal(fc.mean, alone.mean)
        np.testing.assert_array_equal(fc.upper95, alone.upper95)
    # with a peer of the same calendar the forecast does change, reproducibly
    dueren = synthetic_series("Düren", days=3 * 365, level=90.0, seed=12)
    one = CalendarRegression(peers=[aachen, dueren]).forecast(aachen, origin=origin, horizon=28)
    two = CalendarRegression(peers=[dueren]).forecast(aachen, origin=origin, horizon=28)
    np.testing.assert_array_equal(one.mean, two.mean)
    assert np.abs(one.mean - alone.mean).max() > 0.01
