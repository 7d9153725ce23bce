import datetime as dt
import math
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from rathaus.rescue.staffing import ResponseTarget, StaffingInputs, plan_day, profile_shares

BERLIN = ZoneInfo("Europe/Berlin")  # settings.TIME_ZONE
ORDINARY_DAY = {"day": dt.date(2025, 6, 2), "time_zone": BERLIN}


def test_a_day_without_expected_emergencies_keeps_one_ambulance_an_hour():
    plans = plan_day(
        **ORDINARY_DAY,
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
        plan_day(
            **ORDINARY_DAY,
            daily_calls=calls,
            profile=None,
            target=ResponseTarget(),
            inputs=StaffingInputs(),
        )


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
            **ORDINARY_DAY,
            daily_calls=10.0,
            profile=np.zeros(24),
            target=ResponseTarget(),
            inputs=StaffingInputs(),
        )


# a profile with a night low and a day peak, so that renormalising is visible
PROFILE = np.array([2, 2, 3, 2, 2, 2, 3, 4, 5, 6, 6, 6, 6, 6, 6, 6, 5, 5, 5, 4, 4, 3, 3, 2], float)


@pytest.mark.parametrize("profile", [None, PROFILE])
def test_the_day_summer_time_begins_has_23_hours_and_no_0200(profile):
    plans = plan_day(
        day=dt.date(2025, 3, 30),
        time_zone=BERLIN,
        daily_calls=120.0,
        profile=profile,
        target=ResponseTarget(),
        inputs=StaffingInputs(),
    )
    assert [p.hour for p in plans] == [0, 1, *range(3, 24)]
    assert sum(p.calls for p in plans) == pytest.approx(120.0, abs=0.1)
    assert [p.utc_offset for p in plans[1:3]] == ["+01:00", "+02:00"]
    if profile is not None:  # the hours keep their proportions, renormalised over 23 hours
        assert plans[2].calls / plans[0].calls == pytest.approx(PROFILE[3] / PROFILE[0])


@pytest.mark.parametrize("profile", [None, PROFILE])
def test_the_day_summer_time_ends_has_25_hours_with_0200_twice(profile):
    plans = plan_day(
        day=dt.date(2025, 10, 26),
        time_zone=BERLIN,
        daily_calls=120.0,
        profile=profile,
        target=ResponseTarget(),
        inputs=StaffingInputs(),
        simulate=True,
    )
    assert len(plans) == 25
    assert [p.hour for p in plans[:5]] == [0, 1, 2, 2, 3]
    assert [p.utc_offset for p in plans[2:4]] == ["+02:00", "+01:00"]
    assert sum(p.calls for p in plans) == pytest.approx(120.0, abs=0.1)
    # both runs of 02:00 have the calls of that clock hour's rate
    assert plans[2].calls == pytest.approx(plans[3].calls)
    if profile is None:
        assert {round(p.calls, 9) for p in plans} == {round(120 / 25, 9)}


def test_an_ordinary_day_has_24_hours_with_the_calls_of_the_profile():
    plans = plan_day(
        **ORDINARY_DAY,
        daily_calls=120.0,
        profile=PROFILE,
        target=ResponseTarget(),
        inputs=StaffingInputs(),
    )
    assert [p.hour for p in plans] == list(range(24))
    assert [p.calls for p in plans] == pytest.approx(list(120 * PROFILE / PROFILE.sum()))
