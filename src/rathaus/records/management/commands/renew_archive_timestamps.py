"""``manage.py renew_archive_timestamps [--limit N]``: the daily preservation job, by hand.

For a larger batch than the daily job's, e.g. after a hash algorithm was added to
``RECORDS_WEAK_HASH_ALGORITHMS`` (or a scheme to ``RECORDS_WEAK_SIGNATURE_ALGORITHMS``, or a
minimum key length raised) and many stamps became due at once (docs/modules/records.md).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rathaus.records.preservation import renew_archive_timestamps


class Command(BaseCommand):
    help = (
        "Record the archive time stamps of new sealed PDF versions and renew those whose TSA "
        "certificate expires soon or that rest on a weak hash, signature scheme or key length."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--limit",
            type=int,
            default=500,
            help="at most this many versions read and this many stamps renewed (default 500)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["limit"] < 1:
            raise CommandError("--limit must be at least 1.")
        result = renew_archive_timestamps(limit=options["limit"])
        self.stdout.write(
            f"{result.checked} read, {len(result.renewed)} renewed, {len(result.failed)} failed."
        )
        for line in result.renewed:
            self.stdout.write(f"renewed: {line}")
        for line in result.failed:
            self.stdout.write(f"failed: {line}")
        for line in result.warnings:
            self.stderr.write(f"warning: {line}")
        if result.problem:
            raise CommandError(result.problem)
