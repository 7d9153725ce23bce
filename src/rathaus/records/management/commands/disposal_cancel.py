"""``manage.py disposal_cancel RUN --reason TEXT``: give up a disposal run that cannot go on."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rathaus.records.disposal import cancel_run
from rathaus.records.errors import RecordsError
from rathaus.records.management.run_lookup import find_run


class Command(BaseCommand):
    help = (
        "Cancel a disposal run: its files not disposed of yet leave it and are free for a new run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("run", help="number of the disposal run")
        parser.add_argument("--reason", required=True, help="why (kept with each file's entry)")

    def handle(self, *args: Any, **options: Any) -> None:
        run = find_run(options["run"])
        try:
            released = cancel_run(run=run, reason=options["reason"], actor=None)
        except RecordsError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Disposal run {run.pk} cancelled; {len(released)} file(s) released: "
            + (", ".join(released) or "none")
        )
