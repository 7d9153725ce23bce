"""An incident is stored once: importing a file again added every incident a second time.

Before the constraint, exact duplicates already stored (same region, time, location, area and
response time) are removed, keeping the first; each region's count goes into the audit trail.
"""

from typing import Any

from django.db import migrations, models
from django.db.models import Count, Min

KEY = ("region", "occurred_at", "location", "area", "response_seconds")


def remove_duplicates(apps: Any, schema_editor: Any) -> None:
    Incident = apps.get_model("rescue", "Incident")
    AuditEvent = apps.get_model("core", "AuditEvent")
    removed: dict[int, int] = {}
    groups = (
        Incident.objects.values(*KEY)
        .annotate(rows=Count("id"), first=Min("id"))
        .filter(rows__gt=1)
        .order_by()
    )
    for group in groups.iterator():
        deleted, _ = (
            Incident.objects.filter(**{name: group[name] for name in KEY})
            .exclude(id=group["first"])
            .delete()
        )
        removed[group["region"]] = removed.get(group["region"], 0) + deleted
    for region_id, count in sorted(removed.items()):
        AuditEvent.objects.create(
            actor=None,
            actor_label="system",
            action="rescue.duplicate_incidents_removed",
            object_type="rescue.Region",
            object_id=str(region_id),
            after={"incidents_removed": count, "migration": "rescue.0004_incident_unique"},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0006_audit_actor_only_cleared"),
        ("rescue", "0003_field_names"),
    ]

    operations = [
        migrations.RunPython(remove_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="incident",
            constraint=models.UniqueConstraint(
                fields=("region", "occurred_at", "location", "area", "response_seconds"),
                name="rescue_incident_unique",
            ),
        ),
    ]
