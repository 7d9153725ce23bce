"""A provider's unusable metadata is a 503 page (not a 500), a cancelled link drops the
answer's attributes, and an attribute the profile cannot hold is skipped (not a 500)."""

from __future__ import annotations

import pytest
from django.test import Client

from rathaus.accounts.models import FederatedIdentity, IdentityProvider, LoginAttempt, Profile, User
from rathaus.core.models import Municipality
from tests.accounts.conftest import ISSUER
from tests.accounts.factories import UserFactory
from tests.accounts.test_citizen_account_limits import _answered
from tests.accounts.test_verified_identity import _answered_as

pytestmark = pytest.mark.django_db

#: "42103" and "12" in full-width digits (U+FF10 …): ``\d`` matches them, ``[0-9]`` does not.
FULL_WIDTH_POSTAL_CODE = "\uff14\uff12\uff11\uff10\uff13"
FULL_WIDTH_HOUSE_NUMBER = "\uff11\uff12"

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


def _linked_user(provider: IdentityProvider) -> User:
    user: User = UserFactory()
    FederatedIdentity.objects.create(
        user=user, provider=provider, issuer=ISSUER, subject="sub-1", trust_level="low"
    )
    return user


def test_a_postal_code_of_full_width_digits_is_skipped_not_a_500(
    client: Client, provider: IdentityProvider
) -> None:
    """Full-width digits are Unicode digits, but not the ASCII digits the database demands."""
    user = _linked_user(provider)
    attributes = {
        "postal_code": FULL_WIDTH_POSTAL_CODE,
        "place": "Wuppertal",
        "house_number": FULL_WIDTH_HOUSE_NUMBER,
    }
    response = client.get(_answered_as(client, provider, attributes=attributes))
    assert response.status_code == 302
    profile = Profile.objects.get(user=user)
    assert (profile.postal_code, profile.house_number) == ("", "")
    assert profile.place == "Wuppertal"  # the other values are kept


def test_an_id_card_login_with_a_full_width_postal_code_keeps_the_one_typed(
    client: Client, provider: IdentityProvider
) -> None:
    user = _linked_user(provider)
    Profile.objects.create(user=user, postal_code="42103")
    response = client.get(
        _answered_as(
            client, provider, level="high", attributes={"postal_code": FULL_WIDTH_POSTAL_CODE}
        )
    )
    assert response.status_code == 302
    assert Profile.objects.get(user=user).postal_code == "42103"


def test_a_value_the_profiles_constraints_refuse_is_skipped_too(
    client: Client, provider: IdentityProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Beside the field's validators, the profile's check constraints are asked per value:
    were a validator ever wider than the constraint, the login still goes through."""
    field = Profile._meta.get_field("postal_code")
    monkeypatch.setitem(field.__dict__, "validators", [])
    user = _linked_user(provider)
    attributes = {"postal_code": FULL_WIDTH_POSTAL_CODE, "place": "Wuppertal"}
    response = client.get(_answered_as(client, provider, attributes=attributes))
    assert response.status_code == 302
    profile = Profile.objects.get(user=user)
    assert (profile.postal_code, profile.place) == ("", "Wuppertal")
