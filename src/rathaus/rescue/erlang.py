"""Erlang C (M/M/N queue): how many servers keep the waiting time within a target.

For the emergency service a "server" is a staffed ambulance, a "call" an emergency that needs one,
the handling time the whole job (turnout, drive, treatment, transport, handover), and the
"answer time" the time an emergency waits for a free ambulance. The check vector of
REFERENCE.md (a call-centre example) is reproduced exactly by :func:`staff_for_service_level`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def erlang_c(servers: int, traffic: float) -> float:
    """Probability that an arrival has to wait, for ``traffic`` Erlangs offered to N servers."""
    if traffic <= 0:
        return 0.0
    if servers <= traffic:
        return 1.0
    # Erlang B by the stable recursion, then C from B.
    b = 1.0
    for k in range(1, servers + 1):
        b = traffic * b / (k + traffic * b)
    return b / (1 - (traffic / servers) * (1 - b))


@dataclass(frozen=True)
class StaffingResult:
    servers: int
    traffic: float  # offered load in Erlangs
    service_level: float  # share served within the target wait
    probability_wait: float
    average_speed_of_answer: float  # mean wait, seconds
    occupancy: float
    positions: int  # servers grossed up for shrinkage


def service_level(servers: int, traffic: float, handling_time: float, target_wait: float) -> float:
    """P(wait <= target_wait) = 1 - P(wait) * exp(-(N - A) * t / AHT)."""
    if traffic <= 0:
        return 1.0
    if servers <= traffic:
        return 0.0
    pw = erlang_c(servers, traffic)
    return 1 - pw * math.exp(-(servers - traffic) * target_wait / handling_time)


def evaluate_staffing(
    *,
    servers: int,
    arrivals: float,
    period: float,
    handling_time: float,
    target_wait: float,
    shrinkage: float = 0.0,
) -> StaffingResult:
    """Figures for a given number of servers (``arrivals`` per ``period`` seconds)."""
    traffic = arrivals * handling_time / period
    pw = erlang_c(servers, traffic) if traffic > 0 else 0.0
    stable = servers > traffic
    asa = pw * handling_time / (servers - traffic) if stable and traffic > 0 else math.inf
    if traffic <= 0:
        asa = 0.0
    return StaffingResult(
        servers=servers,
        traffic=traffic,
        service_level=service_level(servers, traffic, handling_time, target_wait),
        probability_wait=pw,
        average_speed_of_answer=asa,
        occupancy=traffic / servers if servers else math.inf,
        positions=positions_for(servers, shrinkage),
    )


def positions_for(servers: int, shrinkage: float) -> int:
    """Servers needed on the roster when ``shrinkage`` of the time is lost (breaks, training)."""
    if not 0 <= shrinkage < 1:
        raise ValueError("shrinkage must be in [0, 1)")
    # round away the floating-point noise of e.g. 14 / 0.7 before rounding up
    return math.ceil(round(servers / (1 - shrinkage), 9))


def staff_for_service_level(
    *,
    arrivals: float,
    period: float,
    handling_time: float,
    target_wait: float,
    service_level_target: float,
    shrinkage: float = 0.0,
    max_servers: int = 10_000,
) -> StaffingResult:
    """The smallest number of servers that reaches the service-level target."""
    if not 0 < service_level_target < 1:
        raise ValueError("the service-level target must be between 0 and 1")
    if arrivals < 0 or period <= 0 or handling_time <= 0 or target_wait < 0:
        raise ValueError("arrivals, period, handling time and target wait must be positive")
    traffic = arrivals * handling_time / period
    servers = max(1, math.floor(traffic) + 1) if traffic > 0 else 1
    while servers <= max_servers:
        if service_level(servers, traffic, handling_time, target_wait) >= service_level_target:
            return evaluate_staffing(
                servers=servers,
                arrivals=arrivals,
                period=period,
                handling_time=handling_time,
                target_wait=target_wait,
                shrinkage=shrinkage,
            )
        servers += 1
    raise ValueError(f"more than {max_servers} servers would be needed")
