"""``manage.py disposal_start AUTHORITY``: start a disposal run (Aussonderung) with the
authority's files due today that are not on legal hold (docs/records.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rathaus.records.disposal import start_run
from rathaus.records.errors import RecordsError
from rathaus.records.management.commands.import_file_plan import find_authority


class Command(BaseCommand):
    help = "Start a disposal run with the authority's files due for disposal today."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--authority", required=True, help="<municipality slug>/<kind> or id")

    def handle(self, *args: Any, **options: Any) -> None:
        authority = find_authority(options["authority"])
        try:
            run = start_run(authority=authority, actor=None)
        except RecordsError as exc:
            raise CommandError(str(exc)) from exc
        items = run.items.select_related("file")
        offered = sum(1 for i in items if i.offered)
        self.stdout.write(
            f"Disposal run {run.pk} ({run.process_id}): {items.count()} files, "
            f"{offered} to offer to the archive, {items.count() - offered} to destroy directly."
        )
