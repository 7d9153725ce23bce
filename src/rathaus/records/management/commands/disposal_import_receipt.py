"""``manage.py disposal_import_receipt RUN FILE.xml``: the archive's xdomea 0504 or 0507."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rathaus.records import xdomea
from rathaus.records.disposal import import_archive_receipt
from rathaus.records.errors import RecordsError
from rathaus.records.management.run_lookup import find_run, read_message


class Command(BaseCommand):
    help = (
        "Record the archive's receipt of the offer (xdomea 0504) or of the transfer package "
        "(0507) of a disposal run."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("run", help="number of the disposal run")
        parser.add_argument("message", type=Path, help="the archive's 0504 or 0507 XML file")

    def handle(self, *args: Any, **options: Any) -> None:
        run = find_run(options["run"])
        data = read_message(options["message"])
        try:
            code = import_archive_receipt(run=run, data=data, actor=None)
        except RecordsError as exc:
            raise CommandError(f"{options['message']}: {exc}") from exc
        acknowledged = xdomea.ROOTS[xdomea.ARCHIVE_RECEIPTS[code]]
        self.stdout.write(
            f"Disposal run {run.pk}: the archive's receipt {code} of the {acknowledged} "
            "is recorded."
        )
