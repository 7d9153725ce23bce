"""Writing the audit trail: every state change goes through :func:`record`."""

from __future__ import annotations

from typing import Any

from django.db.models import Model

from rathaus.core.models import AuditEvent, Municipality


def record(
    *,
    actor: Any,
    action: str,
    obj: Model,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    municipality: Municipality | None = None,
) -> AuditEvent:
    """Append one event; call it inside the transaction that makes the change."""
    user = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        actor=user,
        actor_label=str(actor) if actor is not None else "system",
        action=action,
        object_type=obj._meta.label,
        object_id=str(obj.pk),
        before=before,
        after=after,
        municipality=municipality,
    )
