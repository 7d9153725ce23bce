"""Background jobs are retried with backoff and end FAILED, visibly, after the last attempt."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django_tasks_db.models import DBTaskResult
from freezegun import freeze_time

from rathaus.core.jobs import backoff_delay
from tests.core import jobs_fixture


@pytest.fixture(autouse=True)
def _reset() -> None:
    jobs_fixture.CALLS.clear()
    jobs_fixture.FAILURES_LEFT["count"] = 0


def _work() -> None:
    call_command("db_worker", batch=True, no_startup_delay=True, queue_name="*", verbosity=0)


def test_backoff_doubles_and_is_capped() -> None:
    base, cap = timedelta(seconds=30), timedelta(minutes=5)
    delays = [backoff_delay(n, base=base, maximum=cap) for n in range(1, 6)]
    assert delays == [timedelta(seconds=s) for s in (30, 60, 120, 240, 300)]


@pytest.mark.django_db(transaction=True)
def test_failed_job_is_retried_later_and_then_succeeds() -> None:
    jobs_fixture.FAILURES_LEFT["count"] = 1
    with freeze_time("2026-03-01 10:00:00"):
        jobs_fixture.flaky_job.enqueue("a")
        _work()
        assert jobs_fixture.CALLS == ["a"]
        _work()  # the retry is not due yet
        assert jobs_fixture.CALLS == ["a"]
    with freeze_time("2026-03-01 10:00:11"):
        _work()
    assert jobs_fixture.CALLS == ["a", "a"]
    assert list(DBTaskResult.objects.values_list("status", flat=True)) == [
        "SUCCESSFUL",
        "SUCCESSFUL",
    ]


@pytest.mark.django_db(transaction=True)
def test_job_ends_failed_after_last_attempt() -> None:
    jobs_fixture.FAILURES_LEFT["count"] = 10
    with freeze_time("2026-03-01 10:00:00") as clock:
        jobs_fixture.flaky_job.enqueue("b")
        for _ in range(3):
            _work()
            clock.tick(timedelta(minutes=5))
    assert jobs_fixture.CALLS == ["b", "b", "b"]
    statuses = sorted(DBTaskResult.objects.values_list("status", flat=True))
    assert statuses == ["FAILED", "SUCCESSFUL", "SUCCESSFUL"]
    failed = DBTaskResult.objects.get(status="FAILED")
    assert "ConnectionError" in failed.exception_class_path
