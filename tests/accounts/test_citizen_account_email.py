"""The e-mail address of an account made by a citizen-account login is confirmed by mail before
anything (mailbox notifications, password reset) goes to it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client

from rathaus.accounts import oidc
from rathaus.accounts.external_identity import ExternalIdentity
from rathaus.accounts.models import IdentityProvider, User
from rathaus.accounts.selectors import notification_address
from tests.accounts.identity_providers import (
    SamlIdp,
    idp_login,
    oidc_authorize,
    post_to_acs,
    start_saml,
    start_url,
)
from tests.accounts.mail_queue import Sent

pytestmark = pytest.mark.django_db
TYPED = "erika@exampel.de"  # a typo: exampel, not example


def confirmation_path(message: mail.EmailMessage) -> str:
    found = re.search(r"https?://[^/\s]+(/konto/confirm-email/[^\s]+)", str(message.body))
    assert found, message.body
    return found.group(1)


@pytest.fixture
def without_email(monkeypatch: pytest.MonkeyPatch) -> None:
    """The provider sends no e-mail address: the citizen is asked for one."""
    real = oidc.validate_id_token

    def no_address(*args: Any, **kwargs: Any) -> ExternalIdentity:
        identity = real(*args, **kwargs)
        attributes = {k: v for k, v in identity.attributes.items() if k != "email"}
        return ExternalIdentity(**{**identity.as_json(), "attributes": attributes})  # type: ignore[arg-type]

    monkeypatch.setattr(oidc, "validate_id_token", no_address)


def type_address(client: Client, provider: IdentityProvider, sent: Sent, email: str = TYPED) -> Any:
    """Log in at the provider, then type ``email`` on the page "Ihre E-Mail-Adresse"."""
    response = client.get(start_url(provider, "high", next_url="/antraege/"))
    callback = oidc_authorize(str(response["Location"]), "oidc-eid-0003")
    finish_url = client.get(callback)["Location"]
    page = client.get(finish_url)
    assert 'name="email"' in page.content.decode()
    assert (
        "Wir senden Ihnen einen Link, mit dem Sie die Adresse bestätigen" in page.content.decode()
    )
    with sent():
        return client.post(finish_url, {"email": email})


def test_a_typed_address_is_sent_a_confirmation_link_and_stays_unconfirmed(
    client: Client,
    oidc_provider: IdentityProvider,
    without_email: None,
    account_mail_sent: Sent,
) -> None:
    answer = type_address(client, oidc_provider, account_mail_sent)

    assert answer.status_code == 302 and answer["Location"] == "/antraege/"
    user = User.objects.get(email=TYPED)
    assert not EmailAddress.objects.get(user=user).verified
    assert [m.to for m in mail.outbox] == [[TYPED]]
    assert "Bitte öffnen Sie diesen Link" in str(mail.outbox[0].body)
    assert notification_address(user=user) == ""


def test_the_citizen_confirms_the_typed_address_in_the_logged_in_browser(
    client: Client,
    oidc_provider: IdentityProvider,
    without_email: None,
    account_mail_sent: Sent,
) -> None:
    type_address(client, oidc_provider, account_mail_sent)
    link = confirmation_path(mail.outbox[0])

    assert client.get(link).status_code == 200
    confirmed = client.post(link)

    assert confirmed.status_code in (200, 302)
    user = User.objects.get(email=TYPED)
    assert EmailAddress.objects.get(user=user).verified
    assert notification_address(user=user) == TYPED


def test_the_owner_of_a_mistyped_address_cannot_confirm_it(
    client: Client,
    oidc_provider: IdentityProvider,
    without_email: None,
    account_mail_sent: Sent,
) -> None:
    """The link reaches whoever owns the typed address. Confirming it in a browser that is not
    logged in to the account would open password reset to them (and the ID card's data)."""
    type_address(client, oidc_provider, account_mail_sent)
    link = confirmation_path(mail.outbox[0])
    stranger = Client()

    stranger.get(link)
    page = stranger.post(link, follow=True)

    user = User.objects.get(email=TYPED)
    assert not EmailAddress.objects.get(user=user).verified
    assert "_auth_user_id" not in stranger.session
    assert "mit Ihrem Bürgerkonto an" in page.content.decode()
    assert notification_address(user=user) == ""


def test_an_unconfirmed_address_from_the_saml_provider_is_sent_a_confirmation_link(
    client: Client,
    saml_provider: IdentityProvider,
    saml_idp: SamlIdp,
    account_mail_sent: Sent,
) -> None:
    """BundID's e-mail attribute carries no confirmation: it is treated like a typed one."""
    action, fields = idp_login(saml_idp, start_saml(client, saml_provider, "high"), "eid")
    answer = post_to_acs(client, action, fields)
    with account_mail_sent():
        done = client.get(answer["Location"])

    assert done.status_code == 302
    user = User.objects.get(email="erika.mustermann@example.org")
    assert not EmailAddress.objects.get(user=user).verified
    assert [m.to for m in mail.outbox] == [["erika.mustermann@example.org"]]


def test_an_address_the_provider_vouches_for_is_confirmed_without_a_mail(
    client: Client,
    oidc_provider: IdentityProvider,
    account_mail_sent: Sent,
) -> None:
    """The test provider sends email_verified: true."""
    response = client.get(start_url(oidc_provider, "high"))
    callback = oidc_authorize(str(response["Location"]), "oidc-eid-0003")
    with account_mail_sent():
        client.get(client.get(callback)["Location"])

    user = User.objects.get(email="erika.mustermann@example.org")
    assert EmailAddress.objects.get(user=user).verified
    assert mail.outbox == []
    assert notification_address(user=user) == "erika.mustermann@example.org"


def test_a_notification_address_needs_a_confirmed_login_address(db: None) -> None:
    from tests.accounts.factories import UserFactory

    confirmed = UserFactory()
    unconfirmed = UserFactory(verified_email=False)
    EmailAddress.objects.create(user=unconfirmed, email=unconfirmed.email, verified=False)
    without_row = UserFactory(verified_email=False)
    other_confirmed = UserFactory(verified_email=False)
    EmailAddress.objects.create(user=other_confirmed, email="zweite@example.org", verified=True)

    assert notification_address(user=confirmed) == confirmed.email
    assert notification_address(user=unconfirmed) == ""
    assert notification_address(user=without_row) == ""
    assert notification_address(user=other_confirmed) == ""
