"""Run the GovChain sequencer: batch pending entries into the tree and sign a checkpoint.

When the database does not continue the published log (restored from a backup), it signs
nothing, logs what happened and what to do, and tries again with the longest pause until
``manage.py ledger_reimport`` has been run.
"""

from __future__ import annotations

import logging
import signal
import time
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import close_old_connections

from rathaus.ledger.publication import PublishedLogConflict
from rathaus.ledger.sequencer import sequence

logger = logging.getLogger("rathaus.ledger")
#: Longest pause between attempts while sequencing keeps failing (seconds).
MAX_BACKOFF = 30.0


class Command(BaseCommand):
    help = "Sequence pending GovChain entries and publish a signed checkpoint every interval."
    requires_system_checks: list[str] = []  # a worker: start at once, `migrate` ran the checks

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--interval",
            type=float,
            default=0.5,
            # Half a second, so that a slow batch still keeps checkpoints a second apart at most.
            help="seconds between batches",
        )
        parser.add_argument("--once", action="store_true", help="run one batch and exit")

    def handle(self, *args: Any, interval: float, once: bool, **options: Any) -> None:
        if once:
            try:
                checkpoint = sequence()
            except PublishedLogConflict as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"tree size {checkpoint.size}" if checkpoint else "nothing to do")
            return
        stopping = False

        def stop(signum: int, frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        failures = 0
        while not stopping:
            started = time.monotonic()
            try:
                close_old_connections()
                checkpoint = sequence()
                if checkpoint is not None:
                    logger.info(
                        "checkpoint signed",
                        extra={
                            "size": checkpoint.size,
                            "ms": round((time.monotonic() - started) * 1000),
                        },
                    )
                failures = 0
            except PublishedLogConflict as exc:
                # no passing failure but a restore to resolve: the longest pause at once, and
                # the message (what happened, what to do) once per pause
                failures = max(failures + 1, 16)
                logger.error("%s", exc, extra={"failures": failures})
            except Exception:  # the database or the object store away for a while: keep going
                failures += 1
                logger.exception("sequencing failed; retrying", extra={"failures": failures})
            pause = min(MAX_BACKOFF, interval * 2 ** min(failures, 16))
            time.sleep(max(0.0, pause - (time.monotonic() - started)))
