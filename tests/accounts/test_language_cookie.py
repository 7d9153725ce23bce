"""The language cookie set at login and on saving the profile is set from the
``LANGUAGE_COOKIE_*`` settings, like Django's own language switch: HttpOnly, Secure, SameSite
and its lifetime."""

from __future__ import annotations

from http.cookies import Morsel

import pytest
from django.test import Client, override_settings

from rathaus.accounts.models import Profile
from tests.accounts.conftest import log_in
from tests.accounts.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

SETTINGS = {
    "LANGUAGE_COOKIE_AGE": 60 * 60 * 24 * 365,
    "LANGUAGE_COOKIE_SECURE": True,
    "LANGUAGE_COOKIE_HTTPONLY": True,
    "LANGUAGE_COOKIE_SAMESITE": "Strict",
}


def _assert_set_from_settings(cookie: Morsel[str]) -> None:
    assert cookie.value == "en"
    assert cookie["httponly"] is True
    assert cookie["secure"] is True
    assert cookie["samesite"] == "Strict"
    assert cookie["max-age"] == SETTINGS["LANGUAGE_COOKIE_AGE"]


@override_settings(**SETTINGS)
def test_the_language_cookie_set_at_login_follows_the_settings(client: Client) -> None:
    user = UserFactory()
    Profile.objects.create(user=user, preferred_language="en")
    response = client.post("/konto/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    _assert_set_from_settings(response.cookies["django_language"])


@override_settings(**SETTINGS)
def test_the_language_cookie_set_with_the_profile_follows_the_settings(client: Client) -> None:
    user = UserFactory()
    log_in(client, user)
    response = client.post("/konto/profil/", {"preferred_language": "en"})
    assert response.status_code == 302, response.content.decode()[:2000]
    _assert_set_from_settings(response.cookies["django_language"])
