"""The pay button posts to the portal, which redirects to the payment provider: the page's CSP
``form-action`` allows the provider of the municipality the fee goes to, which is that of the
authority the application was sent to, whatever the responsibilities say today."""

from __future__ import annotations

from decimal import Decimal

from django.test import Client

from rathaus.accounts.models import User
from rathaus.applications.models import Application
from rathaus.applications.services import submit_application
from rathaus.catalog.models import Responsibility, Service
from rathaus.core.models import Municipality
from rathaus.payments.models import ProviderConfig
from tests.applications.meldebescheinigung import answer_all


def test_the_pay_button_may_reach_the_provider_of_the_authority_it_was_sent_to(
    client: Client, citizen: User, meldebescheinigung: Service, wuppertal: Municipality
) -> None:
    Responsibility.objects.filter(service=meldebescheinigung).update(local_fee=Decimal("10.00"))
    client.force_login(citizen)
    session = client.session
    session["rathaus_trust_level"] = "high"
    session.save()
    client.post("/antraege/neu/meldebescheinigung/", {"gemeinde": "wuppertal"})
    application = Application.objects.get()
    answer_all(application)
    sent = submit_application(
        application=application, idempotency_key="k", confirmed=True, actor=citizen
    )
    assert sent.status == Application.Status.AWAITING_PAYMENT and sent.authority is not None
    ProviderConfig.objects.create(
        municipality=sent.authority.municipality,
        base_url="https://pay.example.org/api",
        originator_id="x",
        auth_scheme=ProviderConfig.AuthScheme.NONE,
    )
    # the service goes to another authority for new applications; this one stays where it is
    Responsibility.objects.filter(service=meldebescheinigung, municipality=wuppertal).delete()
    page = client.get(f"/antraege/{application.public_id}/")
    assert page.status_code == 200
    form_action = next(
        part
        for part in page["Content-Security-Policy"].split(";")
        if part.strip().startswith("form-action")
    )
    assert "https://pay.example.org" in form_action
