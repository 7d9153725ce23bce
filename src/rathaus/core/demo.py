"""Demo tenancy: municipalities, their authorities and org units from a data file.

Loading is idempotent and never overwrites: rows are looked up by their natural keys (slug,
municipality and kind, authority and code) and only created when missing, so whatever an
administrator changed in the Django admin survives the next ``load_demo``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from rathaus.core import audit
from rathaus.core.models import Authority, Municipality, OrgUnit

DEMO_TENANCY_FILE = Path(__file__).resolve().parent / "demo_data" / "staedtedreieck.toml"


@dataclass(frozen=True)
class TenancyResult:
    municipalities: int
    authorities: int
    units: int


def _validated(instance: Any, path: Path, exclude: list[str] | None = None) -> Any:
    try:
        instance.full_clean(exclude=exclude)
    except ValidationError as exc:
        raise ValueError(f"{path}: invalid demo data for {instance!r}: {exc.message_dict}") from exc
    return instance


@transaction.atomic
def load_tenancy(path: Path = DEMO_TENANCY_FILE) -> TenancyResult:
    """Create the municipalities, authorities and org units of the file that do not exist yet."""
    with path.open("rb") as f:
        data = tomllib.load(f)
    created = {"municipalities": 0, "authorities": 0, "units": 0}
    for m in data.get("municipality", []):
        municipality = Municipality.objects.filter(slug=m["slug"]).first()
        if municipality is None:
            municipality = _validated(
                Municipality(slug=m["slug"], name=m["name"], ags=m["ags"], state=m["state"]), path
            )
            municipality.save()
            audit.record(
                actor=None,
                action="core.municipality_created",
                obj=municipality,
                municipality=municipality,
            )
            created["municipalities"] += 1
        for a in m.get("authority", []):
            authority = Authority.objects.filter(municipality=municipality, kind=a["kind"]).first()
            if authority is None:
                authority = _validated(
                    Authority(
                        municipality=municipality,
                        kind=a["kind"],
                        name=a["name"],
                        address=a.get("address", ""),
                        website=a.get("website", ""),
                        opening_hours=a.get("opening_hours", ""),
                        email=a.get("email", ""),
                        phone=a.get("phone", ""),
                    ),
                    path,
                    exclude=["municipality"],
                )
                authority.save()
                audit.record(
                    actor=None,
                    action="core.authority_created",
                    obj=authority,
                    municipality=municipality,
                )
                created["authorities"] += 1
            for u in a.get("unit", []):
                _, new = OrgUnit.objects.get_or_create(
                    authority=authority, code=u["code"], defaults={"name": u["name"]}
                )
                created["units"] += int(new)
    return TenancyResult(**created)
