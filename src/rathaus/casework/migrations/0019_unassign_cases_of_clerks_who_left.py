"""Unassign the open cases of clerks who no longer work for the case's authority.

Since casework/memberships.py, a membership that ends unassigns the cases that rested on it
(``services.end_membership``). Memberships removed before that left their cases assigned to a
clerk who can no longer see them (the back office shows assigned cases only within the clerk's
authorities), so the team lead did not find them under "nobody" either. Of these, the ones
whose clerk holds no membership in any unit of the case's authority are certainly stale: no
assignment can give a case to such a clerk (``permissions.is_assignable_to``). They are
unassigned here as ``end_membership`` does, with an entry in the case's history and the audit
event ``case.assignee_left_unit`` (actor "system"). A case of another unit given to a clerk who
still works for its authority stays theirs: nothing tells a stale assignment from a
deliberate one there.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations
from django.db.models import Exists, OuterRef

OPEN_STATUSES = ("received", "in_review", "waiting_for_citizen")

# The case history is kept in German (services.end_membership writes it under the site's
# language); a migration does not translate.
NOTE = (
    "{clerk} arbeitet nicht mehr für diese Behörde; der Fall ist ihr oder ihm nicht mehr "
    "zugewiesen. Bitte neu zuweisen."
)


def _snapshot(case: Any) -> dict[str, Any]:
    return {
        "status": case.status,
        "outcome": case.outcome,
        "assigned_to": case.assigned_to_id,
        "org_unit": case.org_unit_id,
        "due_on": case.due_on.isoformat() if case.due_on else None,
    }


def forward(apps: Any, schema_editor: Any) -> None:
    Case = apps.get_model("casework", "Case")
    CaseEvent = apps.get_model("casework", "CaseEvent")
    StaffMembership = apps.get_model("casework", "StaffMembership")
    AuditEvent = apps.get_model("core", "AuditEvent")
    db = schema_editor.connection.alias
    works_there = StaffMembership.objects.using(db).filter(
        user_id=OuterRef("assigned_to_id"), org_unit__authority_id=OuterRef("authority_id")
    )
    stale = (
        Case.objects.using(db)
        .filter(status__in=OPEN_STATUSES, assigned_to__isnull=False)
        .exclude(Exists(works_there))
        .select_related("assigned_to", "authority")
        .order_by("pk")
    )
    for case in stale.iterator(chunk_size=500):
        before = _snapshot(case)
        clerk_id, clerk = case.assigned_to_id, case.assigned_to.email
        case.assigned_to = None
        case.save(update_fields=["assigned_to", "updated_at"])
        CaseEvent.objects.using(db).create(
            case=case,
            kind="assigned",
            actor=None,
            actor_label="system",
            note=NOTE.format(clerk=clerk),
            citizen_visible=False,
            data={"user": None, "org_unit": None, "unassigned": clerk_id, "membership_ended": None},
        )
        AuditEvent.objects.using(db).create(
            actor=None,
            actor_label="system",
            action="case.assignee_left_unit",
            object_type="casework.Case",
            object_id=str(case.pk),
            before=before,
            after={**_snapshot(case), "membership_ended": None},
            municipality_id=case.authority.municipality_id,
        )


class Migration(migrations.Migration):
    dependencies = [
        ("casework", "0018_name_vector_without_format_characters"),
        ("core", "0007_audit_truncate_refused"),
    ]

    operations = [migrations.RunPython(forward, migrations.RunPython.noop, elidable=False)]
