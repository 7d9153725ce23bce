import datetime as dt
import itertools

import numpy as np
import pytest

from rathaus.rescue.demand import DailySeries
from rathaus.rescue.evaluation import (
    coverage,
    evaluate_region,
    mase,
    poisson_floor,
    rolling_origins,
    seasonal_naive_scale,
)
from rathaus.rescue.forecasting import Forecast, SeasonalNaive


def test_mase_divides_mae_by_in_sample_seasonal_naive_mae():
    # training: two weeks; seasonal differences y[t]-y[t-7] = 7,0,-7,14,0,0,7 -> MAE 5
    train = np.array([10, 20, 30, 40, 50, 60, 70, 17, 20, 23, 54, 50, 60, 77], float)
    assert seasonal_naive_scale(train) == pytest.approx(5.0)
    actual = np.array([12.0, 18.0, 30.0])
    predicted = np.array([10.0, 20.0, 33.0])  # absolute errors 2, 2, 3 -> MAE 7/3
    assert mase(actual, predicted, train) == pytest.approx((7 / 3) / 5)


def test_mase_skips_gaps_and_is_undefined_for_a_constant_history():
    train = np.array([5, 5, 5, 5, 5, 5, 5, 5, 5, 5], float)
    assert np.isnan(mase(np.array([6.0]), np.array([5.0]), train))
    gappy = np.array([1, 2, 3, 4, 5, 6, 7, 3, np.nan, 3, 4, 5, 6, 7], float)  # diffs 2,?,0,0,0,0,0
    assert seasonal_naive_scale(gappy) == pytest.approx(2 / 6)


def test_coverage_counts_values_inside_closed_interval():
    actual = np.array([1.0, 5.0, 10.0, np.nan, 20.0])
    lower = np.array([0.0, 5.0, 11.0, 0.0, 0.0])
    upper = np.array([2.0, 6.0, 12.0, 1.0, 19.0])
    # inside: 1 (yes), 5 (yes, on the bound), 10 (no), nan (skipped), 20 (no) -> 2/4
    assert coverage(actual, lower, upper) == pytest.approx(0.5)


def test_rolling_origins_every_seven_days_with_full_longest_horizon():
    origins = rolling_origins(dt.date(2018, 1, 1), dt.date(2018, 12, 31), 84)
    assert origins[0] == dt.date(2018, 1, 1)
    assert all((b - a).days == 7 for a, b in itertools.pairwise(origins))
    assert origins[-1] + dt.timedelta(days=83) <= dt.date(2018, 12, 31)
    assert origins[-1] + dt.timedelta(days=7 + 83) > dt.date(2018, 12, 31)
    assert len(origins) == 41


def test_seasonal_naive_scores_mase_one_on_a_perfectly_repeating_step():
    # every week is the previous week + 7 on each day: seasonal naive errs by exactly 7 a day,
    # as it did in sample, so its MASE is exactly 1 at every horizon
    days = 7 * 30
    values = np.array([10 + (i % 7) + 7 * (i // 7) for i in range(days)], float)
    series = DailySeries("X", dt.date(2021, 1, 4), values)
    score = evaluate_region(
        SeasonalNaive(),
        series,
        test_from=dt.date(2021, 1, 4) + dt.timedelta(days=7 * 10),
        test_to=series.end,
        horizons=(7, 14),
    )
    assert score.mase[7] == pytest.approx(1.0)
    # the h=14 fold's second week misses by 14: (7*7 + 7*14) / 14 / 7 = 1.5
    assert score.mase[14] == pytest.approx(1.5)


def test_poisson_floor_is_the_expected_oracle_error_over_the_seasonal_naive_scale():
    # two weeks of training with seasonal differences of exactly 5 -> scale 5; then a 14-day
    # test fold whose first days are 50 and 200: sqrt(2*50/pi) = 5.642, sqrt(2*200/pi) = 11.284
    train = [10, 20, 30, 40, 50, 60, 70, 15, 25, 35, 45, 55, 65, 75]
    test = [50, 200] + [np.nan] * 12
    series = DailySeries("X", dt.date(2021, 1, 4), np.array(train + test, float))
    floor = poisson_floor(
        series, test_from=dt.date(2021, 1, 18), test_to=dt.date(2021, 1, 31), horizons=(1, 2, 14)
    )
    assert floor[1] == pytest.approx(np.sqrt(100 / np.pi) / 5)
    assert floor[2] == pytest.approx((np.sqrt(100 / np.pi) + np.sqrt(400 / np.pi)) / 2 / 5)
    assert floor[14] == pytest.approx(floor[2])  # missing days are skipped


def test_poisson_floor_matches_an_oracle_that_knows_the_true_mean():
    rng = np.random.default_rng(3)
    days = 7 * 80
    mu = 300 * (1 + 0.1 * np.sin(2 * np.pi * np.arange(days) / 7))
    series = DailySeries("X", dt.date(2021, 1, 4), rng.poisson(mu).astype(float))
    test_from = series.start + dt.timedelta(days=7 * 40)

    class Oracle:
        name = "oracle"

        def forecast(self, s, *, origin, horizon):
            t = s.index_of(origin)
            m = np.round(mu[t : t + horizon])
            return Forecast(s.region, self.name, origin, m, m, m, m, m)

    oracle = evaluate_region(
        Oracle(), series, test_from=test_from, test_to=series.end, horizons=(7, 84)
    )
    floor = poisson_floor(series, test_from=test_from, test_to=series.end, horizons=(7, 84))
    assert floor[84] == pytest.approx(oracle.mase[84], rel=0.05)
    assert floor[7] == pytest.approx(oracle.mase[7], rel=0.1)


def test_poisson_floor_is_undefined_for_a_region_with_only_zeros():
    series = DailySeries("Leer", dt.date(2021, 1, 4), np.zeros(7 * 30))
    floor = poisson_floor(
        series, test_from=dt.date(2021, 1, 4) + dt.timedelta(days=7 * 10), test_to=series.end
    )
    assert len(floor) == 12
    assert all(np.isnan(v) for v in floor.values())
