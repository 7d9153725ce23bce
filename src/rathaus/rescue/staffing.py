"""Ambulances per hour needed to keep the response-time target (Hilfsfrist), and its KPI.

An emergency is reached in time when the wait for a free ambulance plus the drive takes at most
the target (NRW: 8 minutes urban, 12 rural, in at least 90 % of emergencies; both configurable).
With a typical drive time d the tolerable wait is ``target - d``; Erlang C then gives the
smallest number of ambulances per hour whose share of emergencies waiting at most that long
reaches the required share. A seeded discrete-event simulation of the same hour (Poisson
arrivals, exponential job times, first come first served) serves as a check on the formula.

A day is planned hour by hour on the local clock, as it really runs: 24 hours, but 23 on the day
the clocks go forward (02:00 does not exist in Germany) and 25 on the day they go back (02:00
occurs twice, first in summer, then in standard time).
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from rathaus.rescue.erlang import staff_for_service_level

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ResponseTarget:
    """Hilfsfrist: target minutes and the share of emergencies that must meet it."""

    minutes: float = 8.0
    share: float = 0.90

    @classmethod
    def urban(cls) -> ResponseTarget:
        return cls(minutes=8.0, share=0.90)

    @classmethod
    def rural(cls) -> ResponseTarget:
        return cls(minutes=12.0, share=0.90)


@dataclass(frozen=True)
class StaffingInputs:
    job_minutes: float = 60.0  # mean time an ambulance is bound by one emergency
    drive_minutes: float = 5.0  # typical turnout plus drive to the scene
    shrinkage: float = 0.0  # share of rostered time lost (checks, breaks, training)


@dataclass(frozen=True)
class HourPlan:
    hour: int  # on the local clock, 0-23 (twice the same on the day the clocks go back)
    calls: float  # expected emergencies in this hour
    ambulances: int  # by Erlang C
    positions: int  # grossed up for shrinkage
    share_in_time: float  # by Erlang C
    start: dt.datetime  # local, with its UTC offset: tells a repeated clock hour apart
    simulated_share_in_time: float | None = None

    @property
    def utc_offset(self) -> str:
        """The UTC offset of the hour as ``+01:00`` (whole minutes)."""
        offset = self.start.utcoffset() or dt.timedelta(0)
        minutes = abs(offset) // dt.timedelta(minutes=1)
        sign = "-" if offset < dt.timedelta(0) else "+"
        return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def profile_shares(values: object) -> FloatArray | None:
    """An hourly profile as 24 shares summing to 1, or None unless ``values`` are 24 finite,
    non-negative numbers with a finite, positive total (24 times 1e308 is infinite)."""
    if not isinstance(values, list | tuple | np.ndarray):
        return None
    if any(isinstance(x, bool | str | bytes) for x in values):
        return None
    try:
        shares = np.asarray(values, float)
    except (TypeError, ValueError, OverflowError):
        return None
    if shares.shape != (24,) or not np.isfinite(shares).all() or (shares < 0).any():
        return None
    with np.errstate(over="ignore"):
        total = float(shares.sum())
    if not (math.isfinite(total) and total > 0):
        return None
    result: FloatArray = shares / total
    return result


def local_hours(day: dt.date, time_zone: dt.tzinfo) -> list[dt.datetime]:
    """The starts of the hours ``day`` really has on the clocks of ``time_zone``, in order:
    the hours between its local midnight and the next, 23, 24 or 25 of them."""
    first = dt.datetime.combine(day, dt.time(), tzinfo=time_zone).astimezone(dt.UTC)
    after = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=time_zone)
    count = max(1, round((after.astimezone(dt.UTC) - first) / dt.timedelta(hours=1)))
    return [(first + dt.timedelta(hours=i)).astimezone(time_zone) for i in range(count)]


def hourly_calls(
    daily_calls: float, profile: FloatArray | None, hours: list[dt.datetime]
) -> FloatArray:
    """Split a day's calls over its real ``hours`` (:func:`local_hours`) by the profile (shares
    of the 24 clock hours); uniform without one.

    Each real hour gets the share of its clock hour, renormalised over the hours the day has:
    on a 23-hour day the missing hour's share goes to the others in proportion, on a 25-hour day
    the repeated clock hour counts twice at its full rate (calls do not halve because the clock
    shows 02:00 twice). The hours always add up to ``daily_calls``.
    """
    if profile is None:
        shares = np.full(24, 1 / 24)
    else:
        normalised = profile_shares(profile)
        if normalised is None:
            raise ValueError("an hourly profile has 24 non-negative shares with a finite sum")
        shares = normalised
    weights = np.array([shares[start.hour] for start in hours], float)
    total = float(weights.sum())
    if total <= 0:  # the profile's calls all fall in the hour the clocks skip
        weights, total = np.ones(len(hours)), float(len(hours))
    result: FloatArray = daily_calls * weights / total
    return result


def plan_day(
    *,
    day: dt.date,
    time_zone: dt.tzinfo,
    daily_calls: float,
    profile: FloatArray | None,
    target: ResponseTarget,
    inputs: StaffingInputs,
    simulate: bool = False,
    seed: int = 0,
) -> list[HourPlan]:
    """Ambulances needed in each real hour of ``day`` on the clocks of ``time_zone``
    (:func:`local_hours`).

    An hour without expected emergencies keeps one ambulance (the least Erlang C answers);
    ``ValueError`` for inputs no plan can be made from (negative calls, drive beyond target).
    """
    if not (math.isfinite(daily_calls) and daily_calls >= 0):
        raise ValueError(f"the expected daily calls must be 0 or more, not {daily_calls}")
    tolerable_wait = (target.minutes - inputs.drive_minutes) * 60.0
    if tolerable_wait <= 0:
        raise ValueError("the drive time alone exceeds the response-time target")
    plans = []
    rng = np.random.default_rng(seed)
    hours = local_hours(day, time_zone)
    for start, calls in zip(hours, hourly_calls(daily_calls, profile, hours), strict=True):
        result = staff_for_service_level(
            arrivals=float(calls),
            period=3600.0,
            handling_time=inputs.job_minutes * 60.0,
            target_wait=tolerable_wait,
            service_level_target=target.share,
            shrinkage=inputs.shrinkage,
        )
        simulated = None
        if simulate:
            simulated = simulate_share_in_time(
                calls_per_hour=float(calls),
                ambulances=result.servers,
                job_minutes=inputs.job_minutes,
                tolerable_wait_minutes=tolerable_wait / 60.0,
                rng=rng,
            )
        plans.append(
            HourPlan(
                hour=start.hour,
                calls=float(calls),
                ambulances=result.servers,
                positions=result.positions,
                share_in_time=result.service_level,
                start=start,
                simulated_share_in_time=simulated,
            )
        )
    return plans


def simulate_share_in_time(
    *,
    calls_per_hour: float,
    ambulances: int,
    job_minutes: float,
    tolerable_wait_minutes: float,
    rng: np.random.Generator,
    emergencies: int = 4000,
    warmup: int = 400,
) -> float:
    """Share of emergencies that wait at most the tolerable time, in steady state (FCFS)."""
    if calls_per_hour <= 0:
        return 1.0
    gaps = rng.exponential(60.0 / calls_per_hour, size=emergencies + warmup)
    jobs = rng.exponential(job_minutes, size=emergencies + warmup)
    free_at = [0.0] * ambulances  # min-heap of the times each ambulance becomes free
    now = 0.0
    in_time = 0
    for i in range(emergencies + warmup):
        now += gaps[i]
        earliest = heapq.heappop(free_at)
        start = max(now, earliest)
        heapq.heappush(free_at, start + jobs[i])
        if i >= warmup and start - now <= tolerable_wait_minutes:
            in_time += 1
    return in_time / emergencies


def share_within_target(response_minutes: FloatArray, targets_minutes: FloatArray | float) -> float:
    """KPI: the share of incidents reached within their target (urban/rural per incident)."""
    times = np.asarray(response_minutes, float)
    if times.size == 0:
        return float("nan")
    return float(np.mean(times <= np.asarray(targets_minutes, float)))
