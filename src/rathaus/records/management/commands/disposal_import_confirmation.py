"""``manage.py disposal_import_confirmation RUN FILE.xml``: the archive's xdomea 0506."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rathaus.records.disposal import import_confirmation
from rathaus.records.errors import RecordsError
from rathaus.records.management.run_lookup import find_run, read_message


class Command(BaseCommand):
    help = "Import the archive's import confirmation (xdomea 0506) of a disposal run."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("run", help="number of the disposal run")
        parser.add_argument("message", type=Path, help="the archive's 0506 XML file")

    def handle(self, *args: Any, **options: Any) -> None:
        run = find_run(options["run"])
        data = read_message(options["message"])
        try:
            import_confirmation(run=run, data=data, actor=None)
        except RecordsError as exc:
            raise CommandError(f"{options['message']}: {exc}") from exc
        confirmed = run.items.filter(active=True, confirmed_at__isnull=False).count()
        failed = run.items.filter(transferred=True, active=False).count()
        self.stdout.write(
            f"Disposal run {run.pk}: {confirmed} files confirmed by the archive, "
            f"{failed} not imported (they stay)."
        )
