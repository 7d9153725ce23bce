"""Enqueues the periodic jobs of ``settings.PERIODIC_JOBS`` when they are due.

Each entry is ``(dotted path of a task, interval in seconds)``. Run exactly one scheduler per
installation (``make run`` starts one); the jobs themselves run in the ``db_worker`` processes.
A database error (PostgreSQL restarting or failing over, SQLite "database is locked") ends no
more than one attempt: the job stays due and is enqueued on a later pass, over a new connection.
"""

from __future__ import annotations

import logging
import signal
import time
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "Enqueue periodic background jobs when they are due."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--once", action="store_true", help="Enqueue every job once and exit.")

    def handle(self, *args: Any, **options: Any) -> None:
        jobs = [(import_string(path), path, float(every)) for path, every in settings.PERIODIC_JOBS]
        if options["once"]:
            for job, path, _every in jobs:
                job.enqueue()
                self.stdout.write(f"enqueued {path}")
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
                        job.enqueue()
                    except DatabaseError:
                        logger.exception("periodic job not enqueued", extra={"job": path})
                        continue  # still due: tried again on the next pass
                    logger.info("periodic job enqueued", extra={"job": path})
                    due[path] = now + every
            time.sleep(1)
