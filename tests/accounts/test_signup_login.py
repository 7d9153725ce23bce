"""Sign-up with e-mail verification, login, logout, password reset, throttling and CSRF."""

from __future__ import annotations

import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client

from rathaus.accounts.models import User
from tests.accounts.conftest import log_in
from tests.accounts.factories import PASSWORD
from tests.accounts.mail_queue import Sent

pytestmark = pytest.mark.django_db


NEW_PASSWORD = "Neues-Passwort-2026"


def _link(message: mail.EmailMessage) -> str:
    found = re.search(r"https?://[^/\s]+(/konto/[^\s]+)", str(message.body))
    assert found, message.body
    return found.group(1)


def test_signup_sends_verification_mail_and_confirming_logs_in(
    client: Client, account_mail_sent: Sent
) -> None:
    with account_mail_sent():
        response = client.post(
            "/konto/signup/",
            {"email": "neu@example.org", "password1": PASSWORD, "password2": PASSWORD},
        )
    assert response.status_code == 302
    assert response["Location"] == "/konto/confirm-email/"
    assert User.objects.filter(email="neu@example.org").exists()
    assert not EmailAddress.objects.get(email="neu@example.org").verified
    assert len(mail.outbox) == 1
    assert "Bitte öffnen Sie diesen Link" in str(mail.outbox[0].body)  # formal German
    confirm_url = _link(mail.outbox[0])

    page = client.get(confirm_url)
    assert page.status_code == 200
    response = client.post(confirm_url)
    assert response.status_code == 302
    assert EmailAddress.objects.get(email="neu@example.org").verified
    overview = client.get("/konto/")
    assert overview.status_code == 200
    assert "neu@example.org" in overview.content.decode()


def test_login_is_refused_until_the_email_address_is_confirmed(client: Client) -> None:
    client.post(
        "/konto/signup/",
        {"email": "neu@example.org", "password1": PASSWORD, "password2": PASSWORD},
    )
    client.logout()
    response = client.post("/konto/login/", {"login": "neu@example.org", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/konto/confirm-email/"
    assert client.get("/konto/").status_code == 302


def test_invalid_signup_shows_messages_next_to_the_fields_and_keeps_the_input(
    client: Client,
) -> None:
    response = client.post(
        "/konto/signup/",
        {"email": "keine-adresse", "password1": "kurz", "password2": "anders"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="keine-adresse"' in html
    assert 'id="id_email_error"' in html
    assert 'aria-invalid="true"' in html
    assert not User.objects.exists()


def test_signup_with_a_known_address_does_not_create_a_second_account(
    client: Client, citizen: User
) -> None:
    client.post(
        "/konto/signup/",
        {"email": citizen.email, "password1": PASSWORD, "password2": PASSWORD},
    )
    assert User.objects.filter(email=citizen.email).count() == 1


def test_signup_page_is_german_by_default_and_english_on_request(client: Client) -> None:
    assert "Bürgerkonto anlegen" in client.get("/konto/signup/").content.decode()
    english = client.get("/konto/signup/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Create a citizen account" in english.content.decode()


def test_login_and_logout(client: Client, citizen: User) -> None:
    log_in(client, citizen)
    assert client.get("/konto/").status_code == 200
    response = client.post("/konto/logout/")
    assert response.status_code == 302
    assert client.get("/konto/").status_code == 302


def test_wrong_password_is_refused_with_a_message(client: Client, citizen: User) -> None:
    response = client.post("/konto/login/", {"login": citizen.email, "password": "falsch"})
    assert response.status_code == 200
    assert "leider falsch" in response.content.decode()


def test_sixth_failed_login_within_five_minutes_is_throttled(client: Client, citizen: User) -> None:
    for _attempt in range(5):
        response = client.post("/konto/login/", {"login": citizen.email, "password": "falsch"})
        assert "Zu viele" not in response.content.decode()
    response = client.post("/konto/login/", {"login": citizen.email, "password": "falsch"})
    assert "Zu viele fehlgeschlagene Anmeldeversuche" in response.content.decode()
    # Even the right password is refused while the limit holds.
    response = client.post("/konto/login/", {"login": citizen.email, "password": PASSWORD})
    assert response.status_code != 302 or client.get("/konto/").status_code == 302


def test_password_reset_flow(client: Client, citizen: User, account_mail_sent: Sent) -> None:
    with account_mail_sent():
        response = client.post("/konto/password/reset/", {"email": citizen.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    reset_url = _link(mail.outbox[0])
    response = client.get(reset_url)
    assert response.status_code == 302  # allauth hides the key from the address bar
    form_url = response["Location"]
    response = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    citizen.refresh_from_db()
    assert citizen.check_password(NEW_PASSWORD)


def test_login_form_requires_a_csrf_token(citizen: User) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post("/konto/login/", {"login": citizen.email, "password": PASSWORD})
    assert response.status_code == 403


@pytest.mark.parametrize("confirmed", [False, True])
def test_no_reset_link_to_an_unconfirmed_address_of_a_citizen_account_user(
    client: Client, db: None, confirmed: bool, account_mail_sent: Sent
) -> None:
    """An account created by a citizen-account login holds the ID card's data; the address was
    typed afterwards. Until it is confirmed, a reset link could reach the owner of a typo."""
    from rathaus.accounts.models import FederatedIdentity, IdentityProvider

    user = User.objects.create_user(email="erika@exampel.de")  # mistyped, never confirmed
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=confirmed)
    from rathaus.core.models import Municipality

    municipality = Municipality.objects.create(
        ags="05124000", name="Wuppertal", slug="wuppertal", state="NW"
    )
    provider = IdentityProvider.objects.create(
        municipality=municipality, slug="bund", name="BundID", protocol="saml"
    )
    FederatedIdentity.objects.create(
        user=user,
        provider=provider,
        issuer="https://id.bund.de",
        subject="bpk2-1",
        trust_level="high",
    )

    with account_mail_sent():
        response = client.post("/konto/password/reset/", {"email": user.email})

    assert response.status_code == 302  # the same answer either way (no enumeration)
    assert len(mail.outbox) == (1 if confirmed else 0)
