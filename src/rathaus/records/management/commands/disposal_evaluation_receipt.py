"""``manage.py disposal_evaluation_receipt RUN --output FILE.xml``: the xdomea 0505 receipt."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rathaus.records.disposal import write_evaluation_receipt
from rathaus.records.errors import RecordsError
from rathaus.records.management.run_lookup import find_run, write_atomically


class Command(BaseCommand):
    help = "Write the receipt of the archive's evaluation (xdomea 0505) of a disposal run."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("run", help="number of the disposal run")
        parser.add_argument("--output", required=True, type=Path, help="the XML file to write")

    def handle(self, *args: Any, **options: Any) -> None:
        run = find_run(options["run"])
        try:
            message = write_evaluation_receipt(run=run, actor=None)
        except RecordsError as exc:
            raise CommandError(str(exc)) from exc
        write_atomically(options["output"], lambda out: out.write(message))
        self.stdout.write(
            f"Receipt of the evaluation of disposal run {run.pk} written to {options['output']}."
        )
