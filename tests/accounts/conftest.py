"""Fixtures for the accounts tests: a fresh rate-limit cache, logged-in users, and the account
e-mails sent (``account_mail_sent``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from rathaus.accounts.models import IdentityProvider, User
from rathaus.core.models import Municipality
from tests.accounts.factories import PASSWORD, StaffFactory, UserFactory
from tests.accounts.mail_queue import run_account_mail_jobs


@pytest.fixture(autouse=True)
def _empty_cache() -> Iterator[None]:
    """allauth keeps rate limits and used TOTP codes in the cache."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def account_mail_sent(
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> Callable[[], AbstractContextManager[None]]:
    """``with account_mail_sent(): client.post(...)``: the account e-mails the requests queue
    are in ``mail.outbox`` when the block ends (``tests/accounts/mail_queue.py``)."""

    @contextmanager
    def sent() -> Iterator[None]:
        with django_capture_on_commit_callbacks(execute=True):
            yield
        run_account_mail_jobs()

    return sent


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


# A real SMTP server on 127.0.0.1 for the account e-mail queue tests.
# The real identity providers on 127.0.0.1 for the citizen-account login tests (issue 9).
from tests.accounts.identity_providers import (  # noqa: E402, F401
    oidc_op,
    oidc_provider,
    saml_idp,
    saml_provider,
)
from tests.fixtures.smtp import smtp_server  # noqa: E402, F401
