"""Demo responsibilities: the Bergisches Städtedreieck's division of labour ("Einer für Alle")."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from rathaus.catalog.models import Service
from rathaus.catalog.sync import LocalFee, assign_local_responsibilities
from rathaus.core.models import Municipality

DEMO_RESPONSIBILITIES_FILE = Path(__file__).resolve().parent / "demo_responsibilities.toml"


@transaction.atomic
def load_responsibilities(path: Path = DEMO_RESPONSIBILITIES_FILE) -> int:
    """Create the missing responsibilities (delegated ones to their delegate, the others to
    the municipality's own authority) with their fees, each audited.

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
    fees = {
        (f["service"], f["handled_by"]): LocalFee(
            amount=Decimal(f["amount"]),
            note_de=f.get("note_de", ""),
            note_en=f.get("note_en", ""),
        )
        for f in data.get("fee", [])
    }
    return assign_local_responsibilities(delegations=delegations, fees=fees)
