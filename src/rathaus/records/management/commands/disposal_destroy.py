"""``manage.py disposal_destroy RUN --approve-by USERNAME``: dispose of the run's files.

Run it again to continue after an interruption or to retry contents that could not be deleted.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rathaus.records.disposal import destroy
from rathaus.records.errors import RecordsError
from rathaus.records.management.run_lookup import find_run, find_user


class Command(BaseCommand):
    help = "Dispose of a disposal run's files (approved by a records administrator)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("run", help="number of the disposal run")
        parser.add_argument(
            "--approve-by",
            required=True,
            help="user name of the records administrator who approves the destruction",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        run = find_run(options["run"])
        approver = find_user(options["approve_by"])
        try:
            result = destroy(run=run, approver=approver)
        except RecordsError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            f"Disposal run {run.pk}: {len(result.disposed)} files disposed of; "
            f"state {run.get_state_display()}."
        )
        for reference, reason in result.kept:
            self.stderr.write(f"kept {reference}: {reason}")
        if result.contents_pending:
            self.stderr.write(
                f"{result.contents_pending} stored contents could not be deleted yet; "
                "run the command again."
            )
