"""The profile's address rule reads the cleaned values: a street of spaces is no street."""

from __future__ import annotations

import pytest
from django.test import Client

from rathaus.accounts.models import Profile, User

pytestmark = pytest.mark.django_db


def test_a_blank_street_does_not_save_an_incomplete_address(
    citizen_client: Client, citizen: User
) -> None:
    response = citizen_client.post(
        "/konto/profil/",
        {
            "street": "   ",
            "house_number": "12",
            "postal_code": "42283",
            "place": "Wuppertal",
            "preferred_language": "de",
        },
    )
    profile = Profile.objects.filter(user=citizen).first()
    saved_incomplete = profile is not None and profile.house_number and not profile.street
    assert response.status_code == 200 and not saved_incomplete


def test_an_address_of_spaces_only_counts_as_empty(citizen_client: Client, citizen: User) -> None:
    response = citizen_client.post(
        "/konto/profil/",
        {"street": "  ", "house_number": " ", "preferred_language": "de"},
    )
    assert response.status_code == 302
