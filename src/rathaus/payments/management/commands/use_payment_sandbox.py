"""``manage.py use_payment_sandbox --base-url http://127.0.0.1:8100``: demo and test setups only.

Points every municipality without a payment provider at the sandbox provider.
"""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from rathaus.core.models import Municipality
from rathaus.payments.models import ProviderConfig


class Command(BaseCommand):
    help = "Configure the in-repo sandbox payment provider for municipalities without a provider."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8100")

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.RATHAUS_ENV == "production":
            raise CommandError("The sandbox provider takes no money: not in production.")
        created = 0
        for municipality in Municipality.objects.filter(payment_provider__isnull=True):
            ProviderConfig.objects.create(
                municipality=municipality,
                base_url=options["base_url"],
                originator_id=f"rathaus-{municipality.slug}",
                auth_scheme=ProviderConfig.AuthScheme.NONE,
            )
            created += 1
        self.stdout.write(f"sandbox payment provider configured for {created} municipalities")
