"""``manage.py files_due_for_disposal [AUTHORITY] [--on DATE]``: the files whose retention period
has run out, as CSV for the records office (Aussonderung); ``on_hold`` is ``yes`` for files
under a legal hold (they are not taken into a disposal run)."""

from __future__ import annotations

import csv
import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rathaus.records.management.commands.import_file_plan import find_authority
from rathaus.records.selectors import files_due_for_disposal

COLUMNS = [
    "authority",
    "reference",
    "title",
    "plan_key",
    "closed_on",
    "retention_years",
    "disposal_due_on",
    "disposal",
    "on_hold",
]


class Command(BaseCommand):
    help = "List the closed files due for disposal (CSV, semicolon-separated)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "authority", nargs="?", help="<municipality slug>/<kind> or id; all when omitted"
        )
        parser.add_argument("--on", help="due by this date (YYYY-MM-DD), default today")

    def handle(self, *args: Any, **options: Any) -> None:
        authority = find_authority(options["authority"]) if options["authority"] else None
        on = None
        if options["on"]:
            try:
                on = datetime.date.fromisoformat(options["on"])
            except ValueError as exc:
                raise CommandError(f"--on {options['on']!r} is not a date (YYYY-MM-DD).") from exc
        writer = csv.writer(self.stdout, delimiter=";", lineterminator="\n")
        writer.writerow(COLUMNS)
        for file in files_due_for_disposal(authority=authority, on=on):
            writer.writerow(
                [
                    str(file.authority),
                    file.reference,
                    file.title,
                    file.plan_entry.key,
                    file.closed_on.isoformat() if file.closed_on else "",
                    file.retention_years,
                    file.disposal_due_on.isoformat() if file.disposal_due_on else "",
                    file.disposal_action,
                    "yes" if getattr(file, "held", False) else "",
                ]
            )
