"""Demo tenancy, staff with memberships and an open case for the casework tests."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from rathaus.accounts.models import User
from rathaus.accounts.roles import ADMINISTRATOR, CLERK, TEAM_LEAD
from rathaus.casework.models import Case, StaffMembership
from rathaus.casework.services import open_case
from rathaus.catalog.models import Service
from rathaus.catalog.sync import sync_catalog
from rathaus.core.models import Authority, Municipality, OrgUnit
from rathaus.records.demo import load_demo_file_plans
from tests.accounts.factories import ProfileFactory, StaffFactory

MELDEBESCHEINIGUNG_ANSWERS = {
    "name": {"given_names": "Erika", "family_name": "Mustermann"},
    "birth_date": "1985-03-27",
    "address": {
        "street": "Neumarkt",
        "house_number": "10",
        "postal_code": "42103",
        "place": "Wuppertal",
    },
    "kind": "simple",
    "copies": 1,
}


@pytest.fixture
def demo(db: None) -> None:
    """A small slice of the demo: the catalog, two citizens' offices with their units and the
    demo file plans (the full ``load_demo`` takes seconds per test)."""
    sync_catalog()
    for ags, slug, name in (
        ("05124000", "wuppertal", "Wuppertal"),
        ("05122000", "solingen", "Solingen"),
    ):
        municipality = Municipality.objects.create(ags=ags, slug=slug, name=name, state="NW")
        authority = Authority.objects.create(
            municipality=municipality,
            kind="buergeramt",
            name=f"Bürgerbüro {name}",
            address=f"Rathaus, Markt 1, 42000 {name}",
        )
        OrgUnit.objects.create(authority=authority, code="33.1", name="Meldewesen")
        OrgUnit.objects.create(authority=authority, code="33.2", name="Pass- und Ausweiswesen")
    load_demo_file_plans()


@pytest.fixture
def full_demo(db: None) -> None:
    call_command("load_demo", verbosity=0)


@pytest.fixture
def wuppertal(demo: None) -> Municipality:
    return Municipality.objects.get(ags="05124000")


@pytest.fixture
def buergeramt(wuppertal: Municipality) -> Authority:
    return Authority.objects.get(municipality=wuppertal, kind="buergeramt")


@pytest.fixture
def meldewesen(buergeramt: Authority) -> OrgUnit:
    return OrgUnit.objects.get(authority=buergeramt, code="33.1")


@pytest.fixture
def meldebescheinigung(demo: None) -> Service:
    return Service.objects.get(slug="meldebescheinigung")


@pytest.fixture
def citizen(db: None) -> User:
    profile = ProfileFactory(birth_date=datetime.date(1985, 3, 27))
    return profile.user  # type: ignore[no-any-return]


@pytest.fixture
def make_staff(db: None) -> Callable[..., User]:
    def make(*units: OrgUnit, role: str = CLERK, **kwargs: Any) -> User:
        user: User = StaffFactory(**kwargs)
        user.groups.add(Group.objects.get_or_create(name=role)[0])
        for unit in units:
            StaffMembership.objects.create(user=user, org_unit=unit)
        return user

    return make


@pytest.fixture
def clerk(make_staff: Callable[..., User], meldewesen: OrgUnit) -> User:
    return make_staff(meldewesen, role=CLERK)


@pytest.fixture
def second_clerk(make_staff: Callable[..., User], meldewesen: OrgUnit) -> User:
    return make_staff(meldewesen, role=CLERK)


@pytest.fixture
def team_lead(make_staff: Callable[..., User], meldewesen: OrgUnit) -> User:
    return make_staff(meldewesen, role=TEAM_LEAD)


@pytest.fixture
def administrator(make_staff: Callable[..., User], meldewesen: OrgUnit) -> User:
    return make_staff(meldewesen, role=ADMINISTRATOR)


@pytest.fixture
def make_case(
    meldebescheinigung: Service, buergeramt: Authority, citizen: User
) -> Callable[..., Case]:
    def make(**kwargs: Any) -> Case:
        values: dict[str, Any] = {
            "service": meldebescheinigung,
            "authority": buergeramt,
            "applicant": citizen,
            "title": meldebescheinigung.name_de,
            "actor": citizen,
            "particulars": MELDEBESCHEINIGUNG_ANSWERS,
        }
        values.update(kwargs)
        return open_case(**values)

    return make


@pytest.fixture
def case(make_case: Callable[..., Case]) -> Case:
    return make_case()


from tests.fixtures.clamd import clamd_address  # noqa: E402, F401
