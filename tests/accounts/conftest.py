"""Fixtures for the accounts tests: a fresh rate-limit cache and logged-in users."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache
from django.test import Client

from rathaus.accounts.models import IdentityProvider, User
from rathaus.core.models import Municipality
from tests.accounts.factories import PASSWORD, StaffFactory, UserFactory


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """allauth keeps rate limits and used TOTP codes in the cache."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def citizen(db: None) -> User:
    return UserFactory()


@pytest.fixture
def staff(db: None) -> User:
    return StaffFactory()


def log_in(client: Client, user: User, password: str = PASSWORD) -> None:
    """Log in through allauth's form, so the session records how the user authenticated."""
    response = client.post("/konto/login/", {"login": user.email, "password": password})
    assert response.status_code == 302, response.content.decode()[:2000]


#: The issuer of the citizen-account provider of :func:`provider` (answers are made up in tests).
ISSUER = "https://id.example.org"


@pytest.fixture
def provider(db: None) -> IdentityProvider:
    """An OIDC citizen-account provider whose answers the tests write themselves."""
    municipality = Municipality.objects.create(
        ags="05124000", slug="wuppertal", name="Wuppertal", state="NW"
    )
    return IdentityProvider.objects.create(
        municipality=municipality,
        slug="stadtkonto",
        name="Stadtkonto",
        protocol=IdentityProvider.Protocol.OIDC,
        allowed_levels=["low", "substantial", "high"],
        issuer=ISSUER,
        client_id="rathaus",
    )


@pytest.fixture
def citizen_client(client: Client, citizen: User) -> Client:
    log_in(client, citizen)
    return client


# The real identity providers on 127.0.0.1 for the citizen-account login tests (issue 9).
from tests.accounts.identity_providers import (  # noqa: E402, F401
    oidc_op,
    oidc_provider,
    saml_idp,
    saml_provider,
)
