"""Fee data an administrator got wrong reaches no citizen as a 500."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import translation

from rathaus.accounts.models import User
from rathaus.applications.errors import ApplicationError
from rathaus.applications.models import Application
from rathaus.applications.services import fee_quote, start_application
from rathaus.catalog.models import Service
from rathaus.core.models import Municipality
from tests.applications.test_payment_flow import fill_parking_permit


@pytest.fixture
def parking_permit(citizen: User, wuppertal: Municipality) -> Application:
    service = Service.objects.get(slug="bewohnerparkausweis")
    application = start_application(
        applicant=citizen, service=service, municipality=wuppertal, trust_level="substantial"
    )
    fill_parking_permit(application)
    # Written past the admin's checks (an older release, a manual SQL fix): unusable fee data.
    Service.objects.filter(pk=service.pk).update(
        fee_kind="fixed", fees=[{"label_de": "Gebühr", "amount": "-26.00"}]
    )
    application.refresh_from_db()
    return application


def test_unusable_fee_data_is_an_application_error(parking_permit: Application) -> None:
    with (
        translation.override("en"),
        pytest.raises(ApplicationError, match="cannot be calculated at the moment"),
    ):
        fee_quote(parking_permit)


def test_the_review_page_explains_unusable_fee_data_instead_of_failing(
    parking_permit: Application, citizen: User
) -> None:
    client = Client()
    client.force_login(citizen)
    session = client.session
    session["rathaus_trust_level"] = "substantial"
    session.save()
    response = client.get(f"/antraege/{parking_permit.public_id}/pruefen/")
    assert response.status_code == 400  # as for answers no fee can be calculated for
    assert "Die Gebühr für diese Leistung kann derzeit nicht berechnet werden" in (
        response.content.decode()
    )
