"""``manage.py import_file_plan AUTHORITY FILE.csv``: create or update an authority's file plan.

AUTHORITY is ``<municipality slug>/<authority kind>`` (e.g. ``wuppertal/buergeramt``) or the
authority's id. The CSV format is described in docs/records.md.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rathaus.core.models import Authority
from rathaus.records.errors import RecordsError
from rathaus.records.services import import_file_plan


def find_authority(label: str) -> Authority:
    if label.isascii() and label.isdigit() and len(label) <= 18:  # "²" is a digit, not a number
        authority = Authority.objects.filter(pk=int(label)).first()
    elif "/" in label:
        municipality, kind = label.split("/", 1)
        authority = Authority.objects.filter(municipality__slug=municipality, kind=kind).first()
    else:
        authority = None
    if authority is None:
        raise CommandError(
            f"No authority {label!r}: give <municipality slug>/<kind> (e.g. wuppertal/buergeramt) "
            "or the authority's id."
        )
    return authority


class Command(BaseCommand):
    help = "Create or update an authority's file plan (Aktenplan) from a CSV file."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("authority", help="<municipality slug>/<kind> or the authority's id")
        parser.add_argument("csv_file", type=Path, help="CSV file (UTF-8, ',' or ';')")
        parser.add_argument("--name", default="", help="name of the plan")

    def handle(self, *args: Any, **options: Any) -> None:
        authority = find_authority(options["authority"])
        path: Path = options["csv_file"]
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"{path}: cannot be read as UTF-8 text: {exc}") from exc
        try:
            plan = import_file_plan(
                authority=authority,
                csv_text=text,
                name=options["name"],
                actor="manage.py import_file_plan",
            )
        except RecordsError as exc:
            raise CommandError(f"{path}: nothing imported.\n{exc}") from exc
        self.stdout.write(
            f"{plan.name}: {plan.entries.count()} entries "
            f"({plan.entries.filter(is_active=False).count()} inactive)."
        )
