"""``manage.py export_payments_csv --date 2026-11-22 [--ags 05124000] [--output file]``."""

import datetime as dt
import re
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from rathaus.core.models import Municipality
from rathaus.payments.treasury import DayOutOfRange, export_reconciliation_csv

_AGS = re.compile(r"[0-9]{8}")  # ASCII digits: "٠٥١٢٤٠٠٠" is no AGS


class Command(BaseCommand):
    help = "Write the treasury's daily reconciliation CSV (payments and refunds of one day)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--date", help="ISO date; default: yesterday (local time)")
        parser.add_argument("--ags", help="only this municipality (AGS)")
        parser.add_argument("--output", help="file to write; default: standard output")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["date"]:
            try:
                day = dt.date.fromisoformat(options["date"])
            except ValueError:
                raise CommandError("--date must be an ISO date such as 2026-11-22") from None
        else:
            day = timezone.localdate() - dt.timedelta(days=1)
        municipality = None
        if options["ags"]:
            ags = options["ags"]
            if not _AGS.fullmatch(ags):
                raise CommandError("--ags must be the 8 digits of an AGS such as 05124000")
            try:
                municipality = Municipality.objects.get(ags=ags)
            except Municipality.DoesNotExist:
                raise CommandError(f"--ags {ags}: no municipality has this AGS") from None
        try:
            text = export_reconciliation_csv(day, municipality=municipality)
        except DayOutOfRange:
            raise CommandError(
                f"--date {day.isoformat()} is outside the dates that can be exported"
            ) from None
        if options["output"]:
            try:
                Path(options["output"]).write_text(text, encoding="utf-8")
            except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
                reason = getattr(exc, "strerror", None) or str(exc)
                raise CommandError(
                    f"--output {options['output']!r}: cannot write the file ({reason})"
                ) from None
        else:
            self.stdout.write(text, ending="")
