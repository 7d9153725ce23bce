import math

import numpy as np
import pytest

from rathaus.rescue.staffing import ResponseTarget, StaffingInputs, plan_day, profile_shares


def test_a_day_without_expected_emergencies_keeps_one_ambulance_an_hour():
    plans = plan_day(
        daily_calls=0.0,
        profile=None,
        target=ResponseTarget(),
        inputs=StaffingInputs(),
        simulate=True,
    )
    assert len(plans) == 24
    assert {(p.calls, p.ambulances, p.share_in_time) for p in plans} == {(0.0, 1, 1.0)}
    assert {p.simulated_share_in_time for p in plans} == {1.0}


@pytest.mark.parametrize("calls", [-0.5, math.nan, math.inf])
def test_negative_or_undefined_daily_calls_are_refused_with_a_message(calls):
    with pytest.raises(ValueError, match="daily calls must be 0 or more"):
        plan_day(daily_calls=calls, profile=None, target=ResponseTarget(), inputs=StaffingInputs())


def test_profile_shares_are_normalised_and_unusable_profiles_rejected():
    shares = profile_shares([1] * 12 + [3] * 12)
    assert shares is not None
    assert shares.sum() == pytest.approx(1.0)
    assert shares[0] == pytest.approx(1 / 48)
    for bad in (
        [1e308] * 24,  # finite each, but the total overflows to infinity
        [math.inf] + [1.0] * 23,
        [math.nan] * 24,
        [10**400] * 24,  # a JSON integer too large for a float
        [0] * 24,
        [-1] + [1] * 23,
        [True] * 24,
        ["1"] * 24,
        [1] * 23,
        {"a": 1},
        5,
    ):
        assert profile_shares(bad) is None, bad


def test_a_stored_profile_that_no_plan_can_use_is_refused_by_plan_day():
    with pytest.raises(ValueError, match="hourly profile"):
        plan_day(
            daily_calls=10.0,
            profile=np.zeros(24),
            target=ResponseTarget(),
            inputs=StaffingInputs(),
        )
