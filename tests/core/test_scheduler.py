"""The scheduler enqueues every periodic job, never a second copy of one beside a copy that has
not finished, and none sooner than its interval after the last one, also after a restart."""

from __future__ import annotations

import io
import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult
from freezegun import freeze_time

from rathaus.core.management.commands import run_scheduler

PERIODIC_JOB_PATHS = {
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


@pytest.mark.django_db
def test_scheduler_once_enqueues_each_periodic_job() -> None:
    call_command("run_scheduler", once=True)
    paths = set(DBTaskResult.objects.values_list("task_path", flat=True))
    assert paths == PERIODIC_JOB_PATHS


@pytest.mark.django_db
def test_a_restart_runs_none_of_the_periodic_jobs_again_whose_last_call_just_finished() -> None:
    """A scheduler started again (or a second one) after the first one's calls have run does not
    queue them all again at once, the daily ones among them: each waits for its interval."""
    call_command("run_scheduler", once=True)
    DBTaskResult.objects.update(status=TaskResultStatus.SUCCESSFUL, finished_at=timezone.now())
    out = io.StringIO()
    call_command("run_scheduler", once=True, stdout=out)
    assert DBTaskResult.objects.count() == len(PERIODIC_JOB_PATHS)
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 0
    assert out.getvalue().count("its last call was enqueued less than its interval ago") == len(
        PERIODIC_JOB_PATHS
    )


@pytest.mark.parametrize(
    ("age", "queued"),
    [(timedelta(minutes=9), False), (timedelta(minutes=10), True), (timedelta(hours=5), True)],
    ids=["younger-than-the-interval", "as-old-as-the-interval", "older"],
)
@pytest.mark.django_db
def test_a_finished_call_younger_than_the_interval_holds_back_the_next(  # type: ignore[no-untyped-def]
    settings, age: timedelta, queued: bool
) -> None:
    settings.PERIODIC_JOBS = [("rathaus.core.sessions.delete_ended_sessions", 600)]
    from rathaus.core.sessions import delete_ended_sessions as job

    job.enqueue()
    DBTaskResult.objects.update(
        status=TaskResultStatus.SUCCESSFUL,
        enqueued_at=timezone.now() - age,
        started_at=timezone.now() - age,
        finished_at=timezone.now() - age,
    )
    call_command("run_scheduler", once=True, stdout=io.StringIO())
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).exists() is queued


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


def _run_passes(  # type: ignore[no-untyped-def]
    settings,
    passes: int,
    *,
    every: int = 600,
    between=None,
    path: str = "rathaus.core.sessions.delete_ended_sessions",
    pause: int | None = None,
) -> None:
    """Run the scheduler's loop for ``passes`` passes of the job ``path`` (every ``every``
    seconds), ``pause`` seconds apart (default ``every``: every pass finds the job due) on a
    frozen clock that moves only between passes; ``between(n)`` runs after pass ``n``."""
    settings.PERIODIC_JOBS = [(path, every)]
    done = []
    with freeze_time(timezone.now()) as clock:

        def next_pass(_seconds: float) -> None:
            done.append(1)
            if between is not None:
                between(len(done))
            if len(done) >= passes:
                raise _Stop
            clock.tick(timedelta(seconds=every if pause is None else pause))

        with (
            mock.patch.object(run_scheduler.time, "sleep", next_pass),
            # the test's transaction is no connection to drop
            mock.patch.object(run_scheduler, "close_old_connections", create=True),
            pytest.raises(_Stop),
        ):
            call_command("run_scheduler")


@pytest.mark.django_db
def test_a_restarted_scheduler_queues_a_daily_job_a_day_after_its_last_call(settings) -> None:  # type: ignore[no-untyped-def]
    """The schedule is the calls in the database, not the scheduler's start: the daily job that
    ran an hour before the restart is queued 23 hours after it, not at once (nor a day after)."""
    from rathaus.records.tasks import renew_archive_timestamps_job as job

    job.enqueue()
    an_hour_ago = timezone.now() - timedelta(hours=1)
    DBTaskResult.objects.update(
        status=TaskResultStatus.SUCCESSFUL,
        enqueued_at=an_hour_ago,
        started_at=an_hour_ago,
        finished_at=an_hour_ago,
    )
    calls = []
    _run_passes(
        settings,
        25,  # hourly passes over a day
        every=86400,
        pause=3600,
        path=job.module_path,
        between=lambda _n: calls.append(DBTaskResult.objects.count()),
    )
    assert calls == [1] * 23 + [2, 2]


@pytest.mark.django_db
def test_a_job_still_waiting_for_a_worker_is_not_queued_again(settings, caplog) -> None:  # type: ignore[no-untyped-def]
    """No worker for a while (an outage, a deployment): the copy queued first waits; the
    passes after it queue no more copies, which would all run at once when workers return."""
    caplog.set_level("INFO", logger=run_scheduler.__name__)
    _run_passes(settings, 6)
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 1
    assert "periodic job not enqueued again" in caplog.text
    call_command("run_scheduler", once=True)  # --once keeps to the same rule
    assert DBTaskResult.objects.count() == 1


@pytest.mark.django_db
def test_a_job_is_queued_again_once_its_last_call_finished_or_was_lost(settings) -> None:  # type: ignore[no-untyped-def]
    """A call still running (a long run) keeps the next from starting beside it; one that
    finished does not, nor one whose worker died (still "running" long after the job's interval
    and at least an hour)."""
    started = timezone.now()

    def worker(n: int) -> None:
        last = DBTaskResult.objects.latest("enqueued_at")
        if n == 1:  # a worker picks it up and runs it for a while
            DBTaskResult.objects.filter(pk=last.pk).update(
                status=TaskResultStatus.RUNNING, started_at=started
            )
        elif n == 2:  # it finishes
            DBTaskResult.objects.filter(pk=last.pk).update(
                status=TaskResultStatus.SUCCESSFUL, finished_at=timezone.now()
            )
        elif n == 3:  # the next call's worker is killed: "running" for ever
            DBTaskResult.objects.filter(pk=last.pk).update(
                status=TaskResultStatus.RUNNING, started_at=started - timedelta(hours=2)
            )

    _run_passes(settings, 4, between=worker)
    statuses = list(DBTaskResult.objects.order_by("enqueued_at").values_list("status", flat=True))
    # pass 1 queued, pass 2 found it running, pass 3 queued after it finished, pass 4 after
    # the lost run
    assert statuses == [
        TaskResultStatus.SUCCESSFUL,
        TaskResultStatus.RUNNING,
        TaskResultStatus.READY,
    ]


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="two processes racing: PostgreSQL only"
)
@pytest.mark.django_db(transaction=True)
def test_two_schedulers_at_the_same_moment_queue_one_call(settings) -> None:  # type: ignore[no-untyped-def]
    """Two schedulers by mistake (or one restarting while the old one still runs): the second
    waits for the first one's queueing to commit, finds its call waiting and queues none."""
    settings.PERIODIC_JOBS = [("rathaus.core.sessions.delete_ended_sessions", 600)]
    from rathaus.core.sessions import delete_ended_sessions as job

    real_enqueue = type(job).enqueue
    first_queued = threading.Event()
    second_done = threading.Event()
    errors: list[BaseException] = []

    def second_waits_or_is_done() -> bool:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
            return second_done.is_set() or cursor.fetchone()[0] > 0

    def enqueue(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        result = real_enqueue(self, *args, **kwargs)
        if threading.current_thread().name == "first":
            first_queued.set()
            # hold the first scheduler's transaction open until the second one is blocked
            # behind it (or, without a lock, has finished beside it)
            for _ in range(3000):
                if second_waits_or_is_done():
                    break
                second_done.wait(0.01)
        return result

    def scheduler(done: threading.Event | None = None) -> None:
        try:
            call_command("run_scheduler", once=True, stdout=io.StringIO())
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()
            if done is not None:
                done.set()

    with mock.patch.object(type(job), "enqueue", enqueue):
        first = threading.Thread(target=scheduler, name="first")
        first.start()
        assert first_queued.wait(30)
        second = threading.Thread(target=scheduler, args=(second_done,), name="second")
        second.start()
        first.join(60)
        second.join(60)

    assert not errors
    assert DBTaskResult.objects.filter(task_path=job.module_path).count() == 1
