"""Show the GovChain verifier key, or generate a new signing key.

``--generate`` reads nothing but ``LEDGER_ORIGIN`` (the new key is named after it): the system
checks, which refuse an unusable ``LEDGER_SIGNING_KEY`` (``ledger.E001``), do not run first, so
a first key or a replacement for a broken one can be made with the key variable set to a
placeholder (docs/operations.md).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError, CommandParser

from rathaus.ledger.keys import verifier_keys
from rathaus.ledger.note import Signer


class Command(BaseCommand):
    help = "Print the log's public verifier key(s); --generate prints a new private key."
    requires_system_checks: list[str] = []

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
        try:
            keys = verifier_keys()
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        for key in keys:
            self.stdout.write(key)
