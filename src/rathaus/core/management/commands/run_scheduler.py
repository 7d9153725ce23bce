"""Enqueues the periodic jobs of ``settings.PERIODIC_JOBS`` when they are due.

Each entry is ``(dotted path of a task, interval in seconds)``. Run exactly one scheduler per
installation (``make run`` starts one); the jobs themselves run in the ``db_worker`` processes.
A job whose last call still waits for a worker or is still running is not enqueued again
(``core.jobs.enqueue_unless_unfinished``), so an outage of the workers leaves one call per job,
not one per pass. Nor is one whose last call, finished or not, was enqueued less than its
interval ago: the schedule is kept by the calls in the database, not by this process's clock, so
a restarted scheduler queues each job when its interval since the last call has passed (a
restart does not run the daily jobs again), and a second scheduler started by mistake queues no
second copy.
A database error (PostgreSQL restarting or failing over, SQLite "database is locked") ends no
more than one attempt: the job stays due and is enqueued on a later pass, over a new connection.
"""

from __future__ import annotations

import logging
import signal
import time
from datetime import timedelta
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections
from django.utils.module_loading import import_string

from rathaus.core.jobs import Queueing, enqueue_unless_unfinished

logger = logging.getLogger(__name__)

#: A call "running" for longer than its job's interval, and at least this long, counts as lost
#: with its worker (a killed process leaves it running for ever): the job is enqueued again.
LOST_AFTER_AT_LEAST = timedelta(hours=1)


def _enqueue(job: Any, path: str, every: float) -> Queueing:
    """Enqueue ``job`` if it is due by its last call; logs either way."""
    interval = timedelta(seconds=every)
    lost_after = max(interval, LOST_AFTER_AT_LEAST)
    queueing = enqueue_unless_unfinished(job, every=interval, lost_after=lost_after)
    if queueing.enqueued:
        logger.info("periodic job enqueued", extra={"job": path})
    else:
        logger.info(
            "periodic job not enqueued again: %s",
            _HELD_BACK_BY[queueing.held_back_by],
            extra={"job": path, "due_in_s": queueing.due_in.total_seconds()},
        )
    return queueing


_HELD_BACK_BY = {
    "unfinished": "its last call waits or runs",
    "recent": "its last call was enqueued less than its interval ago",
}


class Command(BaseCommand):
    help = "Enqueue periodic background jobs when they are due."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="Enqueue every job once and exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        jobs = [(import_string(path), path, float(every)) for path, every in settings.PERIODIC_JOBS]
        if options["once"]:
            for job, path, every in jobs:
                queueing = _enqueue(job, path, every)
                if queueing.enqueued:
                    self.stdout.write(f"enqueued {path}")
                else:
                    self.stdout.write(
                        f"not enqueued {path}: {_HELD_BACK_BY[queueing.held_back_by]}"
                    )
            return
        running = True

        def stop(_signum: int, _frame: FrameType | None) -> None:
            nonlocal running
            running = False

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        due = {path: time.monotonic() for _job, path, _every in jobs}
        while running:
            # a connection the database dropped (restart, failover) is replaced, not reused
            close_old_connections()
            now = time.monotonic()
            for job, path, every in jobs:
                if now >= due[path]:
                    try:
                        queueing = _enqueue(job, path, every)
                    except DatabaseError:
                        logger.exception("periodic job not enqueued", extra={"job": path})
                        continue  # still due: tried again on the next pass
                    # after a call it queued or found waiting: its interval; after a recent
                    # call (another scheduler's, or before a restart): the rest of it
                    due[path] = now + queueing.due_in.total_seconds()
            time.sleep(1)
