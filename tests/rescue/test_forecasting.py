import datetime as dt

import numpy as np
import pytest

from rathaus.rescue.demand import DailySeries
from rathaus.rescue.evaluation import evaluate_region
from rathaus.rescue.forecasting import CalendarRegression, InsufficientData, SeasonalNaive
from rathaus.rescue.staffing import simulate_share_in_time
from tests.rescue.synthetic import synthetic_series


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
