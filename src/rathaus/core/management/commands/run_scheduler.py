"""Enqueues the periodic jobs of ``settings.PERIODIC_JOBS`` when they are due.

Each entry is ``(dotted path of a task, interval in seconds)``. Run exactly one scheduler per
installation (``make run`` starts one); the jobs themselves run in the ``db_worker`` processes.
A job whose last call still waits for a worker or is still running is not enqueued again
(``core.jobs.enqueue_unless_unfinished``), so an outage of the workers leaves one call per job,
not one per pass; a second scheduler started by mistake queues no second copy either.
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

from rathaus.core.jobs import enqueue_unless_unfinished

logger = logging.getLogger(__name__)

#: A call "running" for longer than its job's interval, and at least this long, counts as lost
#: with its worker (a killed process leaves it running for ever): the job is enqueued again.
LOST_AFTER_AT_LEAST = timedelta(hours=1)


def _enqueue(job: Any, path: str, every: float) -> bool:
    """Enqueue ``job`` unless its last call has not finished; logs either way."""
    lost_after = max(timedelta(seconds=every), LOST_AFTER_AT_LEAST)
    if enqueue_unless_unfinished(job, lost_after=lost_after):
        logger.info("periodic job enqueued", extra={"job": path})
        return True
    logger.info("periodic job not enqueued again: its last call waits or runs", extra={"job": path})
    return False


class Command(BaseCommand):
    help = "Enqueue periodic background jobs when they are due."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="Enqueue every job once and exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        jobs = [(import_string(path), path, float(every)) for path, every in settings.PERIODIC_JOBS]
        if options["once"]:
            for job, path, every in jobs:
                if _enqueue(job, path, every):
                    self.stdout.write(f"enqueued {path}")
                else:
                    self.stdout.write(f"not enqueued {path}: its last call waits or runs")
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
                        _enqueue(job, path, every)
                    except DatabaseError:
                        logger.exception("periodic job not enqueued", extra={"job": path})
                        continue  # still due: tried again on the next pass
                    due[path] = now + every
            time.sleep(1)
