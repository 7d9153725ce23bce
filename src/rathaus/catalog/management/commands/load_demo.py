"""``manage.py load_demo``: the Bergisches Städtedreieck with its division of labour.

Idempotent (``make run`` calls it on every start): only what is missing is created. Refused in
production (``settings.PRODUCTION``), as the other demo commands are: made-up municipalities and
responsibilities would route real applications.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from rathaus.catalog.demo import load_responsibilities
from rathaus.catalog.sync import sync_catalog
from rathaus.core.demo import load_tenancy
from rathaus.records.demo import load_demo_file_plans


class Command(BaseCommand):
    help = "Load the demo municipalities, authorities and responsibilities (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("The demo municipalities are never loaded in production.")
        # The services first, without responsibilities: those come from the demo file, with
        # its delegations ("Einer für Alle"), not as each municipality's own.
        sync_catalog(assign_responsibilities=False)
        tenancy = load_tenancy()
        responsibilities = load_responsibilities()
        file_plans = load_demo_file_plans()
        self.stdout.write(
            f"Demo loaded: {tenancy.municipalities} municipalities, {tenancy.authorities} "
            f"authorities, {tenancy.units} org units, {responsibilities} responsibilities and "
            f"{file_plans} file plans created (existing rows kept)."
        )
