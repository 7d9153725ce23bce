"""Demo responsibilities: the Bergisches Städtedreieck's division of labour ("Einer für Alle")."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from rathaus.catalog.models import Responsibility, Service
from rathaus.catalog.sync import assign_local_responsibilities
from rathaus.core.models import Municipality

DEMO_RESPONSIBILITIES_FILE = Path(__file__).resolve().parent / "demo_responsibilities.toml"


@transaction.atomic
def load_responsibilities(path: Path = DEMO_RESPONSIBILITIES_FILE) -> int:
    """Create the missing responsibilities (delegations first, then local) and their fees.

    Existing responsibilities, including their fees, are left as they are. Returns how many
    responsibilities were created.
    """
    with path.open("rb") as f:
        data = tomllib.load(f)
    municipalities = {m.slug: m for m in Municipality.objects.all()}
    known_services = set(Service.objects.values_list("slug", flat=True))
    delegations: dict[str, Municipality] = {}
    for entry in data.get("delegation", []):
        handler = municipalities.get(entry["handled_by"])
        if handler is None:
            raise ValueError(f"{path}: unknown municipality {entry['handled_by']!r}")
        for slug in entry["services"]:
            if slug not in known_services:
                raise ValueError(f"{path}: unknown service {slug!r}")
            delegations[slug] = handler
    before = set(Responsibility.objects.values_list("pk", flat=True))
    created = assign_local_responsibilities(delegations=delegations)
    new_rows = Responsibility.objects.exclude(pk__in=before).select_related("authority")
    fees = {(f["service"], f["handled_by"]): f for f in data.get("fee", [])}
    for row in new_rows.select_related("service", "authority__municipality"):
        fee = fees.get((row.service.slug, row.authority.municipality.slug))
        if fee is None:
            continue
        row.local_fee = Decimal(fee["amount"])
        row.local_fee_note_de = fee.get("note_de", "")
        row.local_fee_note_en = fee.get("note_en", "")
        row.save(update_fields=["local_fee", "local_fee_note_de", "local_fee_note_en"])
    return created
