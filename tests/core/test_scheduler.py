"""The scheduler enqueues every periodic job."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.management import call_command
from django.db import OperationalError
from django_tasks_db.models import DBTaskResult

from rathaus.core.management.commands import run_scheduler


@pytest.mark.django_db
def test_scheduler_once_enqueues_each_periodic_job() -> None:
    call_command("run_scheduler", once=True)
    paths = set(DBTaskResult.objects.values_list("task_path", flat=True))
    assert paths == {
        "rathaus.payments.tasks.reconcile_payments",
        "rathaus.applications.tasks.delete_expired_drafts_job",
        "rathaus.mailbox.tasks.queue_stranded_notifications",
        "rathaus.applications.receipts.queue_missing_receipts",
        "rathaus.casework.tasks.remind_overdue_job",
        "rathaus.records.tasks.purge_pending_contents_job",
        "rathaus.applications.tasks.purge_disposed_job",
        "rathaus.records.tasks.renew_archive_timestamps_job",
        "rathaus.applications.tasks.hand_over_paid_job",
        "rathaus.core.sessions.delete_ended_sessions",
        "rathaus.accounts.tasks.delete_unconfirmed_signups_job",
    }


class _Stop(Exception):
    """Ends the scheduler's endless loop in a test."""


@pytest.mark.django_db
def test_a_failed_enqueue_does_not_end_the_scheduler(settings, caplog) -> None:  # type: ignore[no-untyped-def]
    """A database restart (or SQLite "database is locked") costs one attempt, not the scheduler:
    the job stays due and is enqueued on the next pass."""
    settings.PERIODIC_JOBS = [("rathaus.mailbox.tasks.queue_stranded_notifications", 600)]
    from rathaus.mailbox.tasks import queue_stranded_notifications as job

    real_enqueue = type(job).enqueue
    attempts = []

    def flaky_enqueue(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        attempts.append(1)
        if len(attempts) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real_enqueue(self, *args, **kwargs)

    passes = []

    def fake_sleep(_seconds: float) -> None:
        passes.append(1)
        if len(passes) >= 3:
            raise _Stop

    with (
        mock.patch.object(type(job), "enqueue", flaky_enqueue),
        mock.patch.object(run_scheduler.time, "sleep", fake_sleep),
        mock.patch.object(run_scheduler.time, "monotonic", mock.Mock(side_effect=range(0, 99, 2))),
        mock.patch.object(
            run_scheduler, "close_old_connections", create=True
        ) as close_old_connections,
        pytest.raises(_Stop),
    ):
        call_command("run_scheduler")
    # the second pass enqueued it; the third found it not yet due again (every 600 s)
    assert len(attempts) == 2
    assert list(DBTaskResult.objects.values_list("task_path", flat=True)) == [
        "rathaus.mailbox.tasks.queue_stranded_notifications"
    ]
    assert "periodic job not enqueued" in caplog.text
    # every pass starts by dropping a connection the database closed
    assert close_old_connections.call_count == 3
