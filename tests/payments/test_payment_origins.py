"""The origins the portal's CSP ``form-action`` allows for the pay button: the provider's API
and the payment pages it sends citizens to, which may be on another host."""

from __future__ import annotations

import pytest

from rathaus.core.models import Municipality
from rathaus.payments.models import PaymentTransaction, ProviderConfig
from rathaus.payments.selectors import payment_origins


def _attempt(municipality: Municipality, page: str, payable_id: str) -> None:
    PaymentTransaction.objects.create(
        municipality=municipality,
        payable_type="tests.matter",
        payable_id=payable_id,
        amount_cents=3060,
        purpose="Gebuehr",
        provider="xbezahldienste",
        payment_page_url=page,
        status="FAILED",
    )


@pytest.mark.django_db
def test_the_payment_pages_origin_is_allowed_besides_the_apis(municipality: Municipality) -> None:
    ProviderConfig.objects.create(
        municipality=municipality, base_url="https://api.epay.example/v1", originator_id="o"
    )
    _attempt(municipality, "https://pay.epay.example/checkout/T-1", "1")
    _attempt(municipality, "https://pay.epay.example/checkout/T-2", "2")
    _attempt(municipality, "https://pay.epay.example:8443/T-3", "3")

    assert payment_origins(municipality=municipality) == [
        "https://api.epay.example",
        "https://pay.epay.example:8443",
        "https://pay.epay.example",
    ]


@pytest.mark.django_db
def test_an_origin_that_would_change_the_policy_is_left_out(municipality: Municipality) -> None:
    ProviderConfig.objects.create(
        municipality=municipality, base_url="https://api.epay.example/v1", originator_id="o"
    )
    _attempt(municipality, "https://evil.example;script-src *;/x", "1")
    _attempt(municipality, "https://a b.example/x", "2")

    assert payment_origins(municipality=municipality) == ["https://api.epay.example"]


@pytest.mark.django_db
def test_another_municipalitys_pages_are_not_allowed(municipality: Municipality) -> None:
    other = Municipality.objects.create(name="Solingen", slug="solingen", ags="05122000")
    ProviderConfig.objects.create(
        municipality=municipality, base_url="https://api.epay.example/v1", originator_id="o"
    )
    _attempt(other, "https://pay.other.example/T-1", "1")

    assert payment_origins(municipality=municipality) == ["https://api.epay.example"]
