"""A job used by the retry tests; it fails until ``FAILURES_LEFT`` reaches zero."""

from __future__ import annotations

from datetime import timedelta

from rathaus.core.jobs import retrying_task

FAILURES_LEFT = {"count": 0}
CALLS: list[str] = []


@retrying_task(max_attempts=3, base_delay=timedelta(seconds=10))
def flaky_job(label: str) -> str:
    CALLS.append(label)
    if FAILURES_LEFT["count"] > 0:
        FAILURES_LEFT["count"] -= 1
        raise ConnectionError("service unavailable")
    return f"done {label}"
