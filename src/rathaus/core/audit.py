"""Writing the audit trail: every state change goes through :func:`record`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.db.models import Model, Q
from django.utils import timezone

from rathaus.core.models import AuditEvent, Municipality
from rathaus.core.purge import purging, unguarded


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


def redact(
    *,
    targets: Mapping[type[Model], Iterable[Any]],
    person: Any = None,
    role: str = "",
    keep: Iterable[str] = (),
) -> int:
    """Purge the values from the audit events of ``targets`` (model → primary keys) once their
    retention period has run out: ``before``/``after`` become ``{"redacted_on": <today>}``, and
    where ``person`` acted (their account, or the label that named them) the event names
    ``role`` instead. Kept: who else acted, what was done to which object, and when; and the
    events whose action is in ``keep`` (the purge's own record, which holds counts only).

    For the purge after a disposal only (:mod:`rathaus.core.purge`); call it in the purge's
    transaction. Idempotent; returns how many events it changed.
    """
    matching = Q()
    for model, pks in targets.items():
        ids = [str(pk) for pk in pks]
        if ids:
            matching |= Q(object_type=model._meta.label, object_id__in=ids)
    if not matching:
        return 0
    marker = {"redacted_on": timezone.localdate().isoformat()}
    with purging():
        events = unguarded(AuditEvent).filter(matching).exclude(action__in=list(keep))
        values = {
            "before": events.filter(before__isnull=False).exclude(before__has_key="redacted_on"),
            "after": events.filter(after__isnull=False).exclude(after__has_key="redacted_on"),
        }
        named = (
            events.filter(Q(actor=person) | Q(actor_label=str(person)))
            if person is not None
            else events.none()
        )
        changed = set(named.values_list("pk", flat=True))
        for column, rows in values.items():
            changed.update(rows.values_list("pk", flat=True))
            rows.update(**{column: marker})
        named.update(actor=None, actor_label=role)
    return len(changed)
