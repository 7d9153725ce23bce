"""Demo staff for ``make run``: a clerk and a team lead per demo municipality, and a planner.

They log in with a known password and a TOTP secret that is printed, so a newcomer can try the
back office at once (an authenticator app, or ``oathtool --totp -b SECRET``). Refused outside
the demo and test environments: known credentials never reach a production database.
"""

from __future__ import annotations

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction

from rathaus.accounts import roles
from rathaus.accounts.models import User
from rathaus.casework.models import StaffMembership
from rathaus.core.models import Municipality, OrgUnit

DEMO_PASSWORD = "Rathaus-Demo-2026"  # noqa: S105 (demo only; refused in production)
# A fixed base32 secret so the printed instructions stay valid across `make run` restarts.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105


@dataclass(frozen=True)
class DemoStaff:
    email: str
    role: str
    municipality: str


def _staff_user(email: str, *, first_name: str, last_name: str, role: str) -> User:
    user, created = User.objects.get_or_create(
        email=email, defaults={"first_name": first_name, "last_name": last_name}
    )
    if created:
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    EmailAddress.objects.update_or_create(
        user=user, email=email, defaults={"verified": True, "primary": True}
    )
    user.groups.add(Group.objects.get(name=role))
    if not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists():
        TOTP.activate(user, DEMO_TOTP_SECRET)
    return user


@transaction.atomic
def load_demo_staff() -> list[DemoStaff]:
    """Create what is missing; existing demo users keep their passwords and authenticators."""
    if settings.PRODUCTION:
        raise ImproperlyConfigured(
            "Demo staff with known passwords are never created in production."
        )
    created: list[DemoStaff] = []
    for municipality in Municipality.objects.order_by("name"):
        units = list(OrgUnit.objects.filter(authority__municipality=municipality))
        if not units:
            continue
        for role, first_name, last_name in (
            (roles.CLERK, "Sachbearbeitung", municipality.name),
            (roles.TEAM_LEAD, "Teamleitung", municipality.name),
        ):
            local = "sachbearbeitung" if role == roles.CLERK else "teamleitung"
            email = f"{local}.{municipality.slug}@demo.rathaus.invalid"
            user = _staff_user(email, first_name=first_name, last_name=last_name, role=role)
            for unit in units:
                StaffMembership.objects.get_or_create(user=user, org_unit=unit)
            created.append(DemoStaff(email=email, role=role, municipality=municipality.name))
    planner = "planung@demo.rathaus.invalid"
    _staff_user(
        planner, first_name="Einsatzplanung", last_name="Rettungsdienst", role=roles.PLANNER
    )
    created.append(DemoStaff(email=planner, role=roles.PLANNER, municipality=""))
    return created
