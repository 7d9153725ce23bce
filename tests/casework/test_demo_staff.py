"""Demo staff for `make run`: usable at once, idempotent, never in production."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command

from rathaus.accounts import roles
from rathaus.accounts.models import User
from rathaus.casework.demo import DEMO_PASSWORD, load_demo_staff
from rathaus.casework.models import StaffMembership

pytestmark = pytest.mark.django_db


def test_demo_staff_work_in_their_municipality_with_a_second_factor() -> None:
    call_command("load_demo", verbosity=0)
    load_demo_staff()
    clerk = User.objects.get(email="sachbearbeitung.wuppertal@demo.rathaus.invalid")
    assert clerk.check_password(DEMO_PASSWORD)
    assert roles.is_staff_member(clerk)
    assert clerk.groups.filter(name=roles.CLERK).exists()
    assert Authenticator.objects.filter(user=clerk, type=Authenticator.Type.TOTP).exists()
    municipalities = set(
        StaffMembership.objects.filter(user=clerk).values_list(
            "org_unit__authority__municipality__slug", flat=True
        )
    )
    assert municipalities == {"wuppertal"}
    lead = User.objects.get(email="teamleitung.remscheid@demo.rathaus.invalid")
    assert lead.groups.filter(name=roles.TEAM_LEAD).exists()


def test_loading_twice_creates_nothing_new() -> None:
    call_command("load_demo", verbosity=0)
    load_demo_staff()
    counts = (User.objects.count(), StaffMembership.objects.count(), Authenticator.objects.count())
    load_demo_staff()
    assert (
        User.objects.count(),
        StaffMembership.objects.count(),
        Authenticator.objects.count(),
    ) == counts


def test_refused_in_production(settings: object) -> None:
    settings.PRODUCTION = True  # type: ignore[attr-defined]
    with pytest.raises(ImproperlyConfigured):
        load_demo_staff()
    assert not User.objects.exists()
