"""Show the GovChain verifier key, or generate a new signing key."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from rathaus.ledger.keys import verifier_keys
from rathaus.ledger.note import Signer


class Command(BaseCommand):
    help = "Print the log's public verifier key(s); --generate prints a new private key."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--generate", action="store_true", help="print a new key for LEDGER_SIGNING_KEY"
        )

    def handle(self, *args: Any, generate: bool, **options: Any) -> None:
        if generate:
            signer = Signer.generate(settings.LEDGER_ORIGIN)
            self.stdout.write(f"LEDGER_SIGNING_KEY={signer.signer_key()}")
            self.stdout.write(f"verifier key: {signer.verifier_key()}")
            return
        for key in verifier_keys():
            self.stdout.write(key)
