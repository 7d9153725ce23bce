"""When a staff membership ends, the cases that rested on it are handed back to the team lead.

A clerk moved to another unit (in the admin: the membership deleted or changed to another unit)
must not keep deciding the old unit's cases that were assigned to them: every way a membership
ends (the admin's delete and bulk delete, a queryset's ``delete()``, a cascade, a change of its
user or unit) reaches these receivers of Django's model signals, connected in
``CaseworkConfig.ready``, which call ``services.end_membership`` in the same transaction.
Whoever ends it names themselves with :func:`changed_by` (the admin does), so that the audit
trail records them; otherwise the actor is unknown (None).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from rathaus.casework.models import StaffMembership
from rathaus.casework.services import end_membership

_actor: ContextVar[Any] = ContextVar("casework_membership_actor", default=None)

#: The (user, org unit) a membership had before it was saved with another one.
_BEFORE_ATTR = "_rathaus_membership_before"


@contextmanager
def changed_by(actor: Any) -> Iterator[None]:
    """Memberships ended inside this block were ended by ``actor``."""
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


def on_membership_deleted(*, instance: StaffMembership, **kwargs: Any) -> None:
    """``post_delete``: runs inside the deletion's transaction, once per membership."""
    end_membership(user_id=instance.user_id, org_unit_id=instance.org_unit_id, actor=_actor.get())


def on_membership_saving(*, instance: StaffMembership, raw: bool = False, **kwargs: Any) -> None:
    """``pre_save``: remember what a stored membership was before it changes."""
    if raw or instance.pk is None:
        return
    before = (
        StaffMembership.objects.filter(pk=instance.pk).values_list("user_id", "org_unit_id").first()
    )
    setattr(instance, _BEFORE_ATTR, before)


def on_membership_saved(
    *, instance: StaffMembership, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    """``post_save``: a membership given another user or unit ended the old one."""
    before = getattr(instance, _BEFORE_ATTR, None)
    if raw or created or before is None:
        return
    delattr(instance, _BEFORE_ATTR)
    if before != (instance.user_id, instance.org_unit_id):
        user_id, org_unit_id = before
        end_membership(user_id=user_id, org_unit_id=org_unit_id, actor=_actor.get())
