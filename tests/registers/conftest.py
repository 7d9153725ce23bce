"""Fixtures of the register tests: the demo municipalities and a landlord's account."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from rathaus.accounts.models import User
from rathaus.core.models import Authority, Municipality
from rathaus.registers.landlord_confirmations import MoveIn, Person
from tests.accounts.factories import ProfileFactory


@pytest.fixture
def registration_office(db: None) -> Authority:
    town = Municipality.objects.create(
        name="Wuppertal", slug="wuppertal", ags="05124000", state=Municipality.State.NW
    )
    return Authority.objects.create(
        municipality=town,
        kind=Authority.Kind.CITIZENS_OFFICE,
        name="Einwohnermeldeamt Wuppertal",
        address="Johannes-Rau-Platz 1, 42275 Wuppertal",
    )


@pytest.fixture
def landlord(db: None) -> User:
    profile = ProfileFactory(
        given_names="Hans", family_name="Vermieter", street="Hofaue", house_number="5"
    )
    return profile.user  # type: ignore[no-any-return]


@pytest.fixture
def move_in() -> MoveIn:
    return MoveIn(
        street="Friedrich-Engels-Allee",
        house_number="12",
        address_supplement="2. OG links",
        postal_code="42283",
        place="Wuppertal",
        move_in_date=timezone.localdate() - datetime.timedelta(days=3),
        persons=(Person("Erika", "Mustermann"), Person("Max", "Mustermann")),
        landlord_name="Hans Vermieter",
        landlord_address="Hofaue 5, 42103 Wuppertal",
    )


# the Django admin through password and second factor
from tests.backoffice.conftest import admin_client  # noqa: E402, F401
