"""The citizen profile: validation next to the fields, values kept, saved with an audit event."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from rathaus.accounts.models import Profile, User
from rathaus.core.models import AuditEvent
from tests.accounts.test_federation_errors import FULL_WIDTH_HOUSE_NUMBER, FULL_WIDTH_POSTAL_CODE

pytestmark = pytest.mark.django_db

VALID = {
    "given_names": "Erika Maria",
    "family_name": "Mustermann",
    "birth_date": "1980-12-24",
    "street": "Neumarkt",
    "house_number": "10a",
    "postal_code": "42103",
    "place": "Wuppertal",
    "phone": "+49 202 123456",
    "preferred_language": "de",
}


def test_profile_is_saved_and_audited(citizen_client: Client, citizen: User) -> None:
    response = citizen_client.post("/konto/profil/", VALID)
    assert response.status_code == 302
    profile = Profile.objects.get(user=citizen)
    assert profile.birth_date == date(1980, 12, 24)
    assert profile.has_address
    event = AuditEvent.objects.get(action="accounts.profile.updated")
    assert event.actor == citizen
    # the names of the changed fields only: the trail outlives the account, its values not
    assert "postal_code" in event.after["fields"] and "42103" not in str(event.after)
    overview = citizen_client.get("/konto/").content.decode()
    assert "Erika Maria Mustermann" in overview


def test_german_date_format_is_accepted(citizen_client: Client, citizen: User) -> None:
    citizen_client.post("/konto/profil/", {**VALID, "birth_date": "24.12.1980"})
    assert Profile.objects.get(user=citizen).birth_date == date(1980, 12, 24)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("postal_code", "4210", "genau fünf Ziffern"),
        ("postal_code", "ABCDE", "genau fünf Ziffern"),
        ("postal_code", FULL_WIDTH_POSTAL_CODE, "genau fünf Ziffern"),
        ("house_number", FULL_WIDTH_HOUSE_NUMBER, "Hausnummer"),
        ("street", "S" * 56, "höchstens 55 Zeichen"),
        ("house_number", "zehn", "Hausnummer"),
        ("phone", "call me", "Telefonnummer"),
        ("birth_date", "1850-01-01", "vor 1900"),
        ("birth_date", "31.02.1980", "TT.MM.JJJJ"),
    ],
)
def test_bad_profile_input_shows_a_message_next_to_the_field_and_keeps_the_input(
    citizen_client: Client, citizen: User, field: str, value: str, message: str
) -> None:
    response = citizen_client.post("/konto/profil/", {**VALID, field: value})
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html
    assert message in html
    assert f'value="{value}"' in html
    assert 'value="Erika Maria"' in html  # the other entries are kept too
    assert not Profile.objects.filter(user=citizen).exists()


def test_birth_date_in_the_future_is_refused(citizen_client: Client) -> None:
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = citizen_client.post("/konto/profil/", {**VALID, "birth_date": tomorrow})
    assert "nicht in der Zukunft" in response.content.decode()


def test_an_incomplete_address_names_the_missing_parts(citizen_client: Client) -> None:
    data = {**VALID, "house_number": "", "place": ""}
    html = citizen_client.post("/konto/profil/", data).content.decode()
    assert 'id="id_house_number_error"' in html
    assert 'id="id_place_error"' in html
    assert "Anschrift" in html


def test_an_empty_profile_is_allowed(citizen_client: Client, citizen: User) -> None:
    response = citizen_client.post("/konto/profil/", {"preferred_language": "en"})
    assert response.status_code == 302
    assert Profile.objects.get(user=citizen).preferred_language == "en"
    assert response.cookies["django_language"].value == "en"


def test_profile_needs_a_login(client: Client) -> None:
    response = client.get("/konto/profil/")
    assert response.status_code == 302
    assert response["Location"].startswith("/konto/login/")
