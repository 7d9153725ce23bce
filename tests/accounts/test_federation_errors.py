"""A provider's unusable metadata is a 503 page (not a 500), and a cancelled link drops the
answer's attributes."""

from __future__ import annotations

import pytest
from django.test import Client

from rathaus.accounts.models import IdentityProvider, LoginAttempt
from rathaus.core.models import Municipality
from tests.accounts.factories import UserFactory
from tests.accounts.test_citizen_account_limits import _answered

pytestmark = pytest.mark.django_db

MAINTENANCE_PAGE = (
    '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Wartung</title></head>'
    "<body><p>Wartungsarbeiten<br></p></body></html>"
)


def test_unusable_idp_metadata_is_a_503_not_a_500(settings: object) -> None:
    settings.SITE_URL = "http://testserver"  # type: ignore[attr-defined]
    municipality = Municipality.objects.create(
        ags="05124000", slug="wuppertal", name="Wuppertal", state="NW"
    )
    IdentityProvider.objects.create(
        municipality=municipality,
        slug="bundid",
        name="BundID",
        protocol=IdentityProvider.Protocol.SAML,
        metadata_xml=MAINTENANCE_PAGE,
        allowed_levels=["low", "substantial", "high"],
    )
    client = Client(raise_request_exception=False)
    response = client.get("/konto/extern/bundid/anmelden/?niveau=high")
    assert response.status_code == 503
    assert not LoginAttempt.objects.exists()


def test_a_cancelled_link_drops_the_answer(client: Client, provider: IdentityProvider) -> None:
    client.force_login(UserFactory())
    finish = _answered(client, provider)
    assert client.get(finish).status_code == 200
    client.post(finish, {"action": "cancel"})
    attempt = LoginAttempt.objects.get()
    assert attempt.status != LoginAttempt.Status.ANSWERED and attempt.result == {}


def test_the_oidc_client_secret_is_not_rendered_into_the_admin_form(
    provider: IdentityProvider,
) -> None:
    from rathaus.accounts.admin import IdentityProviderForm

    provider.client_secret = "geheim-0123456789"
    provider.save()
    form = IdentityProviderForm(instance=provider)
    assert "geheim-0123456789" not in str(form["client_secret"])
    data = {
        "municipality": provider.municipality_id,
        "name": provider.name,
        "slug": provider.slug,
        "protocol": provider.protocol,
        "enabled": "on",
        "allowed_levels": ["low", "substantial", "high"],
        "issuer": provider.issuer,
        "client_id": provider.client_id,
        "client_secret": "",
        "acr_values": "{}",
        "requested_attributes": "[]",
    }
    edited = IdentityProviderForm(data, instance=provider)
    assert edited.is_valid(), edited.errors
    assert edited.save().client_secret == "geheim-0123456789"
