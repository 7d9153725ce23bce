"""The data export (Art. 15, 20 GDPR) holds the account's landlord confirmations and its
accessibility feedback."""

from __future__ import annotations

import datetime
import json

import pytest
from django.test import Client
from django.utils import timezone

from rathaus.accounts.models import User
from rathaus.core.models import Authority, Municipality
from rathaus.portal.models import AccessibilityFeedback
from rathaus.registers.models import LandlordConfirmation
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def _confirmation(landlord: User, code: str, address: str) -> LandlordConfirmation:
    town, _ = Municipality.objects.get_or_create(
        ags="05124000",
        defaults={"name": "Wuppertal", "slug": "wuppertal", "state": Municipality.State.NW},
    )
    office, _ = Authority.objects.get_or_create(
        municipality=town, kind=Authority.Kind.CITIZENS_OFFICE, name="Einwohnermeldeamt"
    )
    return LandlordConfirmation.objects.create(
        code=code,
        authority=office,
        landlord=landlord,
        landlord_name="Hans Vermieter",
        landlord_address=address,
        street="Neumarkt",
        house_number="10",
        postal_code="42103",
        place="Wuppertal",
        move_in_date=datetime.date(2026, 10, 1),
        persons=[{"given_names": "Erika", "family_name": "Mieterin"}],
        sha256="0" * 64,
        created_at=timezone.now(),
    )


def test_export_holds_the_landlord_confirmations_and_feedback_of_the_account(
    citizen_client: Client, citizen: User
) -> None:
    _confirmation(citizen, "ABCD234567", "Hofaue 5, 42103 Wuppertal")
    _confirmation(UserFactory(), "EFGH234567", "Fremde Straße 1, 42103 Wuppertal")
    AccessibilityFeedback.objects.create(
        user=citizen, name="Hans Vermieter", email=citizen.email, message="Knopf nicht lesbar"
    )
    AccessibilityFeedback.objects.create(name="Jemand", message="Fremde Rückmeldung")
    response = citizen_client.post("/konto/daten-export/herunterladen/")
    assert response.status_code == 200
    document = json.loads(response.content)
    text = json.dumps(document, ensure_ascii=False)
    assert "Hofaue 5" in text and "Knopf nicht lesbar" in text
    assert "Fremde Straße" not in text and "Fremde Rückmeldung" not in text
