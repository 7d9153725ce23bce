"""Ambulances per hour needed to keep the response-time target (Hilfsfrist), and its KPI.

An emergency is reached in time when the wait for a free ambulance plus the drive takes at most
the target (NRW: 8 minutes urban, 12 rural, in at least 90 % of emergencies; both configurable).
With a typical drive time d the tolerable wait is ``target - d``; Erlang C then gives the
smallest number of ambulances per hour whose share of emergencies waiting at most that long
reaches the required share. A seeded discrete-event simulation of the same hour (Poisson
arrivals, exponential job times, first come first served) serves as a check on the formula.
"""

from __future__ import annotations

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
    hour: int
    calls: float  # expected emergencies in this hour
    ambulances: int  # by Erlang C
    positions: int  # grossed up for shrinkage
    share_in_time: float  # by Erlang C
    simulated_share_in_time: float | None = None


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


def hourly_calls(daily_calls: float, profile: FloatArray | None) -> FloatArray:
    """Split a day's calls over 24 hours by the profile (shares); uniform without one."""
    if profile is None:
        shares = np.full(24, 1 / 24)
    else:
        normalised = profile_shares(profile)
        if normalised is None:
            raise ValueError("an hourly profile has 24 non-negative shares with a finite sum")
        shares = normalised
    return daily_calls * shares


def plan_day(
    *,
    daily_calls: float,
    profile: FloatArray | None,
    target: ResponseTarget,
    inputs: StaffingInputs,
    simulate: bool = False,
    seed: int = 0,
) -> list[HourPlan]:
    """Ambulances needed in each hour of one day.

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
    for hour, calls in enumerate(hourly_calls(daily_calls, profile)):
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
                hour=hour,
                calls=float(calls),
                ambulances=result.servers,
                positions=result.positions,
                share_in_time=result.service_level,
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
