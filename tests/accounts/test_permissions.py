"""A citizen reaches neither the admin nor anything of another citizen."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from django.test import Client

from rathaus.accounts.models import User
from tests.accounts.factories import ProfileFactory

pytestmark = pytest.mark.django_db


def test_citizen_cannot_reach_the_admin(citizen_client: Client) -> None:
    response = citizen_client.get("/admin/")
    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert (
            "/admin/" not in response["Location"].split("?")[0] or "login" in response["Location"]
        )
    assert citizen_client.get("/admin/login/").status_code == 403


def test_citizen_cannot_open_another_citizens_profile_in_the_admin(
    citizen_client: Client,
) -> None:
    other = ProfileFactory()
    for path in (
        f"/admin/accounts/user/{other.user.pk}/change/",
        f"/admin/accounts/profile/{other.pk}/change/",
    ):
        response = citizen_client.get(path)
        assert response.status_code in (302, 403, 404)
        assert other.user.email not in response.content.decode()


def test_profile_page_shows_only_the_own_profile(citizen_client: Client) -> None:
    other = ProfileFactory(family_name="Fremd")
    html = citizen_client.get(f"/konto/profil/?user={other.user.pk}").content.decode()
    assert "Fremd" not in html


def test_citizen_cannot_rename_or_remove_another_citizens_passkey(
    citizen_client: Client, citizen: User
) -> None:
    other = ProfileFactory().user
    key = Authenticator.objects.create(
        user=other, type=Authenticator.Type.WEBAUTHN, data={"name": "Fremdes Telefon"}
    )
    assert citizen_client.get(f"/konto/2fa/webauthn/keys/{key.pk}/edit/").status_code == 404
    assert citizen_client.post(f"/konto/2fa/webauthn/keys/{key.pk}/remove/").status_code == 404
    assert Authenticator.objects.filter(pk=key.pk).exists()
