"""``manage.py disposal_import_evaluation RUN FILE.xml``: the archive's xdomea 0502."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rathaus.records.disposal import import_evaluation
from rathaus.records.errors import RecordsError
from rathaus.records.management.run_lookup import find_run, read_message


class Command(BaseCommand):
    help = "Import the archive's evaluation (xdomea 0502 Bewertungsverzeichnis) of a run."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("run", help="number of the disposal run")
        parser.add_argument("message", type=Path, help="the archive's 0502 XML file")

    def handle(self, *args: Any, **options: Any) -> None:
        run = find_run(options["run"])
        data = read_message(options["message"])
        try:
            import_evaluation(run=run, data=data, actor=None)
        except RecordsError as exc:
            raise CommandError(f"{options['message']}: {exc}") from exc
        items = run.items.filter(active=True)
        self.stdout.write(
            f"Disposal run {run.pk}: {items.filter(decision='A').count()} files to archive, "
            f"{items.filter(decision='V').count()} to destroy."
        )
