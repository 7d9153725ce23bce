"""Revoking a notice the way the shipped services require it: requested by one clerk and
confirmed by a second one of the case's org unit (four-eyes rule for revocations)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group

from rathaus.accounts.models import User
from rathaus.accounts.roles import CLERK
from rathaus.casework import services
from rathaus.casework.models import Notice, StaffMembership
from tests.accounts.factories import StaffFactory


def colleague_of(notice: Notice) -> User:
    """A second clerk working in the org unit of the notice's case."""
    colleague: User = StaffFactory()
    colleague.groups.add(Group.objects.get_or_create(name=CLERK)[0])
    StaffMembership.objects.create(user=colleague, org_unit=notice.case.org_unit)
    return colleague


def revoke(*, notice: Notice, actor: Any, reason: str, **details: Any) -> Notice:
    """``actor`` requests the revocation of ``notice`` (reason, ``legal_basis``,
    ``ledger_reason``), a colleague confirms it."""
    services.request_revocation(notice=notice, reason=reason, actor=actor, **details)
    return services.confirm_revocation(notice=notice, actor=colleague_of(notice))
