"""Fixtures for the back-office tests: a demo tenancy, staff with roles and a second factor, cases.

Staff log in the way they must in production: password, then the TOTP code of their
authenticator (``staff_client``), so the second-factor middleware lets them into /backoffice/.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client

from rathaus.accounts.models import User
from rathaus.accounts.roles import ADMINISTRATOR, CLERK, PLANNER, TEAM_LEAD
from rathaus.casework import services as casework
from rathaus.casework.models import Case, StaffMembership
from rathaus.catalog.models import Service
from rathaus.core.models import Authority, Municipality, OrgUnit
from tests.accounts.factories import PASSWORD, ProfileFactory, UserFactory

WUPPERTAL = "05124000"
SOLINGEN = "05122000"


def totp_code(secret: str) -> str:
    """The code an authenticator app shows now (RFC 6238, 30-second steps)."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """allauth keeps rate limits and used TOTP codes in the cache."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def demo(db: None) -> None:
    call_command("load_demo", verbosity=0)


@pytest.fixture
def citizens_office(demo: None) -> Authority:
    """Wuppertal's Bürgeramt, which handles the Wohnsitzanmeldung."""
    return Authority.objects.get(municipality__ags=WUPPERTAL, kind="buergeramt")


@pytest.fixture
def foreign_office(demo: None) -> Authority:
    """Solingen's Bürgeramt: another municipality of the same installation."""
    return Authority.objects.get(municipality__ags=SOLINGEN, kind="buergeramt")


def _second_unit(authority: Authority, code: str) -> OrgUnit:
    unit, _created = OrgUnit.objects.get_or_create(
        authority=authority, code=code, defaults={"name": f"Test unit {code}"}
    )
    return unit


@pytest.fixture
def make_staff(db: None) -> Callable[..., User]:
    """A staff user in ``role`` working in ``units``, with a TOTP authenticator (``.secret``)."""

    def make(role: str, *units: OrgUnit, name: str = "") -> User:
        user = UserFactory(
            email=f"{role}.{name or len(units)}.{User.objects.count()}@stadt.example.org",
            first_name=name.title() or role.title(),
            last_name="Amt",
        )
        # get_or_create: a browser test before this one flushed the groups of migration 0003.
        user.groups.add(Group.objects.get_or_create(name=role)[0])
        for unit in units:
            StaffMembership.objects.create(user=user, org_unit=unit)
        secret = generate_totp_secret()
        TOTP.activate(user, secret)
        user.secret = secret  # type: ignore[attr-defined]
        return user  # type: ignore[no-any-return]

    return make


def staff_login(client: Client, user: User) -> Client:
    """Password, then the TOTP code: the session records the second factor."""
    response = client.post("/konto/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.content.decode()[:500]
    if Authenticator.objects.filter(user=user, type="totp").exists():
        assert response["Location"] == "/konto/2fa/authenticate/"
        for _attempt in range(2):
            # A code typed at the end of its 30 seconds may arrive in the next step: type the
            # new one, as a person would (allauth accepts the current step only).
            response = client.post(
                "/konto/2fa/authenticate/",
                {"code": totp_code(user.secret)},  # type: ignore[attr-defined]
            )
            if response.status_code == 302:
                break
        assert response.status_code == 302, response.content.decode()[:500]
    return client


@pytest.fixture
def staff_client() -> Callable[[User], Client]:
    def make(user: User) -> Client:
        return staff_login(Client(), user)

    return make


@pytest.fixture
def admin_client(db: None) -> Client:
    """A superuser through password and second factor, as the admin site demands."""
    root = UserFactory(email="root@stadt.example.org", is_staff=True, is_superuser=True)
    secret = generate_totp_secret()
    TOTP.activate(root, secret)
    root.secret = secret  # type: ignore[attr-defined]
    return staff_login(Client(), root)


def wohnsitz_particulars(family_name: str) -> dict[str, Any]:
    """Submitted answers of a Wohnsitzanmeldung, as the notice templates read them."""
    return {
        "move_in_date": (datetime.date.today() - datetime.timedelta(days=3)).isoformat(),
        "new_address": {
            "street": "Friedrich-Engels-Allee",
            "house_number": "12",
            "postal_code": "42283",
            "place": "Wuppertal",
        },
        "residence_kind": "main",
        "previous_kept": "no",
        "persons": [
            {
                "name": {"given_names": "Erika", "family_name": family_name},
                "birth_date": "1985-03-27",
                "birth_place": "Wuppertal",
                "sex": "female",
                "nationality": "DE",
                "religion": "none",
                "marital_status": "single",
                "has_document": True,
                "document_type": "id_card",
                "document_number": "L01X00T47",
                "document_authority": "Stadt Wuppertal",
                "document_issued_on": "2021-05-02",
                "document_valid_until": "2031-05-01",
            }
        ],
        "landlord_way": "own_property",
    }


@pytest.fixture
def wohnsitz(demo: None) -> Service:
    return Service.objects.get(slug="wohnsitz-anmelden")


@pytest.fixture
def open_case(wohnsitz: Service) -> Callable[..., Case]:
    """Open a case the way a submission does (casework.open_case, with its file)."""

    def make(
        authority: Authority,
        *,
        unit: OrgUnit | None = None,
        family_name: str = "Mustermann",
        applicant: User | None = None,
        service: Service | None = None,
    ) -> Case:
        if applicant is None:
            applicant = ProfileFactory(family_name=family_name).user
        return casework.open_case(
            service=service or wohnsitz,
            authority=authority,
            org_unit=unit,
            applicant=applicant,
            title=f"Anmeldung {family_name}",
            actor=applicant,
            particulars=wohnsitz_particulars(family_name),
        )

    return make


@pytest.fixture
def unit(citizens_office: Authority) -> OrgUnit:
    unit = citizens_office.units.order_by("code").first()
    assert unit is not None
    return unit


@pytest.fixture
def other_unit(citizens_office: Authority) -> OrgUnit:
    return _second_unit(citizens_office, "99.9")


@pytest.fixture
def clerk(make_staff: Callable[..., User], unit: OrgUnit) -> User:
    return make_staff(CLERK, unit, name="clara")


@pytest.fixture
def second_clerk(make_staff: Callable[..., User], unit: OrgUnit) -> User:
    return make_staff(CLERK, unit, name="conrad")


@pytest.fixture
def team_lead(make_staff: Callable[..., User], unit: OrgUnit) -> User:
    return make_staff(TEAM_LEAD, unit, name="theresa")


@pytest.fixture
def administrator(make_staff: Callable[..., User], unit: OrgUnit) -> User:
    return make_staff(ADMINISTRATOR, unit, name="anton")


@pytest.fixture
def planner(make_staff: Callable[..., User]) -> User:
    return make_staff(PLANNER, name="paula")


def future(days: int = 14) -> datetime.date:
    return datetime.date.today() + datetime.timedelta(days=days)


__all__ = ["Municipality", "admin_client", "future", "staff_login", "totp_code"]
