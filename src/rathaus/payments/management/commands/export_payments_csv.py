"""``manage.py export_payments_csv --date 2026-11-22 [--ags 05124000] [--output file]``."""

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from rathaus.core.models import Municipality
from rathaus.payments.treasury import export_reconciliation_csv


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
            try:
                municipality = Municipality.objects.get(ags=options["ags"])
            except Municipality.DoesNotExist:
                raise CommandError(f"no municipality with AGS {options['ags']}") from None
        text = export_reconciliation_csv(day, municipality=municipality)
        if options["output"]:
            Path(options["output"]).write_text(text, encoding="utf-8")
        else:
            self.stdout.write(text, ending="")
