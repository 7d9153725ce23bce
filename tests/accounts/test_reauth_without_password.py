"""Sensitive changes need a recent authentication: for accounts without password and second
factor too (adding a TOTP app or passkey, setting a password), for e-mail addresses, and the
deletion form's password never lands in the session."""

from __future__ import annotations

import time

import pytest
from allauth.account.models import EmailAddress
from django.contrib.sessions.models import Session
from django.core import mail
from django.test import Client

from rathaus.accounts.models import FederatedIdentity, IdentityProvider, User
from tests.accounts.conftest import ISSUER
from tests.accounts.factories import PASSWORD
from tests.accounts.mail_queue import Sent
from tests.accounts.test_link_reauth import RECORDS, RECORDS_USER, age_login

pytestmark = pytest.mark.django_db


def citizen_account_only_user(provider: IdentityProvider) -> User:
    user = User.objects.create_user("nur-buergerkonto@example.org")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    FederatedIdentity.objects.create(
        user=user, provider=provider, issuer=ISSUER, subject="sub-own", trust_level="low"
    )
    return user


def stale_citizen_account_session(client: Client, user: User) -> None:
    client.force_login(user)
    session = client.session
    session[RECORDS] = [{"method": "citizen_account", "at": time.time() - 3600}]
    session[RECORDS_USER] = str(user.pk)
    session.save()


def test_citizen_account_user_adds_an_authenticator_app_only_after_confirming(
    client: Client, provider: IdentityProvider
) -> None:
    user = citizen_account_only_user(provider)
    stale_citizen_account_session(client, user)
    export = client.post("/konto/daten-export/herunterladen/")
    assert export.status_code == 302 and "/konto/extern/bestaetigen/" in export["Location"]
    response = client.get("/konto/2fa/totp/activate/")
    assert response.status_code == 302 and "/konto/extern/bestaetigen/" in response["Location"]


def test_citizen_account_user_adds_a_passkey_only_after_confirming(
    client: Client, provider: IdentityProvider
) -> None:
    user = citizen_account_only_user(provider)
    stale_citizen_account_session(client, user)
    assert client.get("/konto/2fa/webauthn/add/").status_code == 302


def test_citizen_account_user_sets_a_password_only_after_confirming(
    client: Client, provider: IdentityProvider
) -> None:
    user = citizen_account_only_user(provider)
    stale_citizen_account_session(client, user)
    assert client.get("/konto/password/set/").status_code == 302
    client.post(
        "/konto/password/set/",
        {"password1": "Angreifer-Passwort-2026", "password2": "Angreifer-Passwort-2026"},
    )
    user.refresh_from_db()
    assert not user.has_usable_password()


def test_citizen_account_user_sets_a_password_right_after_the_login(
    client: Client, provider: IdentityProvider
) -> None:
    user = citizen_account_only_user(provider)
    stale_citizen_account_session(client, user)
    session = client.session
    session[RECORDS] = [{"method": "citizen_account", "at": time.time()}]
    session.save()
    assert client.get("/konto/password/set/").status_code == 200
    client.post(
        "/konto/password/set/",
        {"password1": "Eigenes-Passwort-2026", "password2": "Eigenes-Passwort-2026"},
    )
    user.refresh_from_db()
    assert user.has_usable_password()


def test_adding_a_login_address_needs_a_recent_login(citizen_client: Client, citizen: User) -> None:
    age_login(citizen_client)
    assert citizen_client.get("/konto/2fa/totp/activate/").status_code == 302  # control
    citizen_client.post("/konto/email/", {"action_add": "", "email": "angreifer@example.net"})
    assert not EmailAddress.objects.filter(user=citizen, email="angreifer@example.net").exists()


def test_a_fresh_login_adds_an_address(citizen_client: Client, citizen: User) -> None:
    citizen_client.post("/konto/email/", {"action_add": "", "email": "zweite@example.net"})
    assert EmailAddress.objects.filter(user=citizen, email="zweite@example.net").exists()


def test_the_owner_is_told_when_the_password_changes(
    citizen_client: Client,
    citizen: User,
    account_mail_sent: Sent,
) -> None:
    mail.outbox.clear()
    with account_mail_sent():
        response = citizen_client.post(
            "/konto/password/change/",
            {
                "oldpassword": PASSWORD,
                "password1": "Neues-Passwort-2026!",
                "password2": "Neues-Passwort-2026!",
            },
        )
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [[citizen.email]]
    assert "Das Passwort Ihres Bürgerkontos wurde geändert." in mail.outbox[0].body


def test_the_deletion_password_is_not_stored_in_the_session(
    citizen_client: Client, citizen: User
) -> None:
    age_login(citizen_client)
    response = citizen_client.post("/konto/loeschen/", {"password": PASSWORD, "confirm": "on"})
    assert response.status_code == 302
    stored = Session.objects.get(pk=citizen_client.session.session_key).get_decoded()
    assert PASSWORD.replace("!", "%21") not in str(stored) and PASSWORD not in str(stored)
    assert User.objects.filter(pk=citizen.pk).exists()


def test_the_deletion_form_is_shown_only_after_a_recent_login(
    citizen_client: Client,
) -> None:
    assert citizen_client.get("/konto/loeschen/").status_code == 200
    age_login(citizen_client)
    response = citizen_client.get("/konto/loeschen/")
    assert response.status_code == 302 and "/reauthenticate/" in response["Location"]


@pytest.mark.parametrize(
    "path", ["/konto/loeschen/", "/konto/password/set/", "/konto/2fa/totp/activate/"]
)
def test_a_switched_off_citizen_account_login_explains_how_to_go_on_instead_of_a_loop(
    client: Client, provider: IdentityProvider, path: str
) -> None:
    user = citizen_account_only_user(provider)
    IdentityProvider.objects.filter(pk=provider.pk).update(enabled=False)
    stale_citizen_account_session(client, user)
    response = client.get(path)
    for _ in range(6):
        if response.status_code != 302:
            break
        response = client.get(response["Location"])
    assert response.status_code == 200
    html = response.content.decode()
    assert "Anmeldung mit Ihrem Bürgerkonto ist derzeit abgeschaltet" in html
    assert user.email in html and 'href="/konto/password/reset/"' in html


def test_without_a_confirmed_address_the_page_asks_to_confirm_it_first(
    client: Client, provider: IdentityProvider
) -> None:
    user = citizen_account_only_user(provider)
    EmailAddress.objects.filter(user=user).update(verified=False)
    IdentityProvider.objects.filter(pk=provider.pk).update(enabled=False)
    stale_citizen_account_session(client, user)
    response = client.get("/konto/extern/bestaetigen/?next=/konto/loeschen/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "bestätigen Sie zuerst Ihre E-Mail-Adresse" in html
    assert 'href="/konto/email/"' in html and "/konto/password/reset/" not in html
