"""``manage.py disposal_transfer RUN --output FILE.zip``: the xdomea 0503 hand-over package."""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rathaus.records.disposal import write_transfer_package
from rathaus.records.errors import RecordsError
from rathaus.records.management.run_lookup import find_run, write_atomically


class Command(BaseCommand):
    help = "Write the xdomea 0503 package (ZIP) of the files the archive takes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("run", help="number of the disposal run")
        parser.add_argument("--output", required=True, type=Path, help="the ZIP file to write")

    def handle(self, *args: Any, **options: Any) -> None:
        run = find_run(options["run"])

        def write(out: BinaryIO) -> int:
            try:
                return write_transfer_package(run=run, out=out, actor=None)
            except RecordsError as exc:
                raise CommandError(str(exc)) from exc

        count = write_atomically(options["output"], write)
        self.stdout.write(f"{count} files of disposal run {run.pk} in {options['output']}.")
