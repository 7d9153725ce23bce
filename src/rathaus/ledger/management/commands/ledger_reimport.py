"""Take the GovChain entries back from the published files into a restored database.

After a restore from a backup the database can be behind the published log; the sequencer then
signs nothing (docs/govchain.md, "Backups and restore"). This rebuilds the missing entries from
the published entry bundles, checked against the signed checkpoint, so the log carries on.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rathaus.ledger.note import NoteError
from rathaus.ledger.reimport import ReimportError, reimport_published


class Command(BaseCommand):
    help = (
        "Re-import the GovChain entries the published log holds and the database lacks "
        "(after a restore from a backup)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="check and report, change nothing"
        )
        parser.add_argument(
            "--key",
            action="append",
            default=[],
            help="a further verifier key the published checkpoint may be signed with "
            "(a key rotated away since); repeatable",
        )

    def handle(self, *args: Any, dry_run: bool, key: list[str], **options: Any) -> None:
        try:
            result = reimport_published(dry_run=dry_run, extra_verifier_keys=key)
        except (ReimportError, NoteError) as exc:
            raise CommandError(str(exc)) from exc
        if result.published_size <= result.database_size:
            self.stdout.write(
                f"Nothing to re-import: the database holds {result.database_size} entries, "
                f"the published log {result.published_size}, and continues it."
            )
            return
        verb = "Would re-import" if dry_run else "Re-imported"
        self.stdout.write(
            f"{verb} entries {result.database_size} to {result.published_size - 1} of the "
            f"published log: {result.inserted} rebuilt from the entry bundles, "
            f"{result.matched} pending in the database already (given their index)."
        )
        if not dry_run:
            self.stdout.write(
                f"The database's log is the published one again (tree size "
                f"{result.published_size}); the sequencer continues it."
            )
