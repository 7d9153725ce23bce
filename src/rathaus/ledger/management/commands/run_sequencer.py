"""Run the GovChain sequencer: batch pending entries into the tree and sign a checkpoint."""

from __future__ import annotations

import logging
import signal
import time
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

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
            checkpoint = sequence()
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
            except Exception:  # the database or the object store away for a while: keep going
                failures += 1
                logger.exception("sequencing failed; retrying", extra={"failures": failures})
            pause = min(MAX_BACKOFF, interval * 2 ** min(failures, 16))
            time.sleep(max(0.0, pause - (time.monotonic() - started)))
