"""Background jobs with retries: Django's tasks API (database backend) plus backoff.

``@retrying_task(...)`` turns a function into a task that, when it raises, is enqueued again after
an exponentially growing delay. After the last attempt the exception propagates, so the job ends
FAILED in the task results that administrators see in the admin. Jobs live in the database: a
worker restart loses none of them.
"""

from __future__ import annotations

import functools
import hashlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.db import connections, router, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django_tasks import TaskResultStatus, task
from django_tasks.base import Task

logger = logging.getLogger(__name__)

T = TypeVar("T")
ATTEMPT_KWARG = "attempt"


def backoff_delay(attempt: int, *, base: timedelta, maximum: timedelta) -> timedelta:
    """The wait after failed attempt number ``attempt`` (1-based): base · 2^(attempt-1), capped."""
    return min(base * (2 ** (attempt - 1)), maximum)


def retrying_task(
    *,
    queue_name: str = "default",
    max_attempts: int = 8,
    base_delay: timedelta = timedelta(seconds=30),
    max_delay: timedelta = timedelta(hours=2),
) -> Callable[[Callable[..., T]], Task[Any, T | None]]:
    """Decorator: a task that retries with exponential backoff up to ``max_attempts`` times."""

    def decorate(func: Callable[..., T]) -> Task[Any, T | None]:
        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> T | None:
            attempt = int(kwargs.pop(ATTEMPT_KWARG, 1))
            try:
                return func(*args, **kwargs)
            except Exception as exc:
                if attempt >= max_attempts:
                    logger.error(
                        "job failed for good",
                        extra={"job": func.__qualname__, "attempt": attempt, "error": repr(exc)},
                    )
                    raise
                delay = backoff_delay(attempt, base=base_delay, maximum=max_delay)
                job.using(run_after=timezone.now() + delay).enqueue(
                    *args, **kwargs, **{ATTEMPT_KWARG: attempt + 1}
                )
                logger.warning(
                    "job failed, retrying",
                    extra={
                        "job": func.__qualname__,
                        "attempt": attempt,
                        "retry_in_s": delay.total_seconds(),
                        "error": repr(exc),
                    },
                )
                return None

        job: Task[Any, T | None] = task(queue_name=queue_name)(run)
        return job

    return decorate


def queue_again(job: Task[Any, Any], ids: Iterable[int], *, lost_after: timedelta) -> int:
    """Queue ``job(id)`` again for each of ``ids`` whose call was lost; returns how many.

    For the periodic jobs that find work whose job never ran or never finished (a process that
    died between its commit and the queueing, a killed worker): a call still waiting in the
    queue, or running for less than ``lost_after``, is left alone, so a long queue on a busy day
    is not doubled. A call that started longer ago and never finished counts as lost with its
    worker (a killed process leaves its job "running" for ever). The jobs must be safe to run
    twice.
    """
    candidates = list(ids)
    if not candidates:
        return 0
    queued = _unfinished_calls(job, lost_after=lost_after)
    lost = [item for item in candidates if (item,) not in queued]
    for item in lost:
        job.enqueue(item)
    if lost:
        logger.warning("lost jobs queued again", extra={"job": job.name, "count": len(lost)})
    return len(lost)


@dataclass(frozen=True)
class Queueing:
    """What :func:`enqueue_unless_unfinished` did with a periodic job."""

    enqueued: bool
    #: Why it queued no call: ``"unfinished"`` (a call still waits or runs) or ``"recent"`` (the
    #: last call, finished or not, was enqueued less than the job's interval ago).
    held_back_by: str
    #: How long until the job is due again: its interval, or what is left of it after the
    #: recent call.
    due_in: timedelta


def enqueue_unless_unfinished(
    job: Task[Any, Any], *, every: timedelta, lost_after: timedelta
) -> Queueing:
    """Enqueue ``job()`` unless a call of it still waits in the queue or has run for less than
    ``lost_after``, or its last call (finished or not) was enqueued less than ``every`` ago.

    For the periodic jobs: while no worker takes them (an outage, a deployment) the scheduler's
    passes must not pile up copies that all run at once when the workers return, nor start a
    second run beside a long one. A call "running" for longer than ``lost_after`` is taken as
    lost with its worker (a killed process leaves it so for ever). The age of the last call is
    the schedule: a restarted (or second) scheduler queues a job when its interval since the
    last call has passed, not at its own start, so a restart does not run the daily jobs again.
    The check and the queueing are one transaction, which on PostgreSQL first takes an advisory
    lock per task (on SQLite writing transactions wait for one another anyway): a second
    scheduler doing the same at the same moment waits for the first one's commit, then finds
    its call.
    """
    from django_tasks_db.models import DBTaskResult

    using = router.db_for_write(DBTaskResult)
    with transaction.atomic(using=using):
        if connections[using].vendor == "postgresql":
            with connections[using].cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_key(job)])
        if () in _unfinished_calls(job, lost_after=lost_after):
            return Queueing(enqueued=False, held_back_by="unfinished", due_in=every)
        now = timezone.now()
        last = _last_enqueued_at(job, since=now - every)
        if last is not None:
            # a clock set back leaves a call "from the future": at most one interval
            return Queueing(
                enqueued=False, held_back_by="recent", due_in=min(last + every - now, every)
            )
        job.enqueue()
    return Queueing(enqueued=True, held_back_by="", due_in=every)


def _lock_key(job: Task[Any, Any]) -> int:
    """The advisory lock (a signed 64-bit number) that serialises queueing ``job``."""
    digest = hashlib.sha256(f"rathaus.jobs.enqueue:{job.module_path}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _last_enqueued_at(job: Task[Any, Any], *, since: datetime) -> datetime | None:
    """When the newest call of ``job`` enqueued after ``since`` was enqueued, whatever its
    status (``None``: none, or a backend without a queue in the database)."""
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    if not isinstance(job.get_backend(), DatabaseBackend):
        return None
    calls = DBTaskResult.objects.filter(task_path=job.module_path, enqueued_at__gt=since)
    last: datetime | None = calls.aggregate(last=Max("enqueued_at"))["last"]
    return last


def _unfinished_calls(job: Task[Any, Any], *, lost_after: timedelta) -> set[tuple[Any, ...]]:
    """The positional arguments of ``job``'s calls still waiting in the queue or running for
    less than ``lost_after``. Backends without a queue in the database (immediate, dummy) have
    nothing unfinished."""
    from django_tasks_db.backend import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    if not isinstance(job.get_backend(), DatabaseBackend):
        return set()
    waiting = Q(status=TaskResultStatus.READY) | Q(
        status=TaskResultStatus.RUNNING, started_at__gte=timezone.now() - lost_after
    )
    calls = DBTaskResult.objects.filter(waiting, task_path=job.module_path)
    return {
        tuple(args_kwargs.get("args", ()))
        for args_kwargs in calls.values_list("args_kwargs", flat=True)
        if isinstance(args_kwargs, dict)
    }
