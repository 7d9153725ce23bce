"""Demo file plans: the municipal plan along the budget outline 0 to 9 for every demo authority."""

from __future__ import annotations

from pathlib import Path

from django.db import transaction

from rathaus.core.models import Authority
from rathaus.records import plan_import
from rathaus.records.services import create_file_plans

DEMO_FILE_PLAN = Path(__file__).resolve().parent / "demo_data" / "kommunaler_aktenplan.csv"


@transaction.atomic
def load_demo_file_plans(path: Path = DEMO_FILE_PLAN) -> int:
    """Give every authority without a file plan the demo plan; returns how many got one.

    Existing plans are left as they are, so what an administrator changed survives the next
    ``load_demo``.
    """
    rows = plan_import.parse(path.read_text(encoding="utf-8"))
    missing = Authority.objects.filter(file_plan__isnull=True).select_related("municipality")
    plans = create_file_plans(
        plans=[(authority, f"Aktenplan {authority.name}") for authority in missing], rows=rows
    )
    return len(plans)
