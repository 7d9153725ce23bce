"""Linking a citizen account needs a recent authentication with the account's own means; the
login that links does not count as one, the owner is told by e-mail, and an account with a
second factor is not entered by a one-factor citizen-account login."""

from __future__ import annotations

import time
from typing import Any

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.core import mail
from django.db import IntegrityError, transaction
from django.test import Client

from rathaus.accounts.external_identity import ExternalIdentity
from rathaus.accounts.models import (
    FederatedIdentity,
    IdentityProvider,
    LoginAttempt,
    Profile,
    User,
)
from tests.accounts.conftest import log_in
from tests.accounts.factories import UserFactory
from tests.accounts.mail_queue import Sent
from tests.accounts.test_citizen_account_limits import _answered, _link
from tests.accounts.test_verified_identity import _answered_as

pytestmark = pytest.mark.django_db

RECORDS = "account_authentication_methods"
RECORDS_USER = "account_authentication_methods_user"


def age_login(client: Client, seconds: int = 3600) -> None:
    """Make this session's login steps ``seconds`` older."""
    session = client.session
    records = session[RECORDS]
    for record in records:
        record["at"] -= seconds
    session[RECORDS] = records
    session.save()


def test_linking_a_citizen_account_needs_a_recent_login(
    client: Client, provider: IdentityProvider
) -> None:
    victim = UserFactory()
    log_in(client, victim)
    age_login(client)
    assert client.post("/konto/daten-export/herunterladen/").status_code == 302  # control
    finish = _answered(client, provider)
    assert client.get(finish).status_code == 200
    response = client.post(finish, {"action": "link"})
    assert response.status_code == 302 and "/konto/reauthenticate/" in response["Location"]
    assert not FederatedIdentity.objects.filter(user=victim).exists()
    # the answer waits for the confirmation: after the password, the link page again
    assert LoginAttempt.objects.get().status == LoginAttempt.Status.ANSWERED
    confirmed = client.post(response["Location"], {"password": "Rathaus-Test-2026!"})
    assert confirmed.status_code == 302 and confirmed["Location"] == finish
    assert client.post(finish, {"action": "link"}).status_code == 302
    assert FederatedIdentity.objects.filter(user=victim).exists()


def test_linking_does_not_unlock_the_data_export(
    client: Client, provider: IdentityProvider
) -> None:
    victim = UserFactory()
    log_in(client, victim)
    age_login(client)
    finish = _answered(client, provider)
    client.get(finish)
    client.post(finish, {"action": "link"})
    assert client.post("/konto/daten-export/herunterladen/").status_code == 302


def test_the_login_that_links_is_no_recent_authentication(
    client: Client, provider: IdentityProvider
) -> None:
    user = UserFactory()
    log_in(client, user)
    finish = _answered(client, provider)
    client.get(finish)
    assert client.post(finish, {"action": "link"}).status_code == 302
    assert FederatedIdentity.objects.filter(user=user).exists()
    age_login(client)
    assert client.post("/konto/daten-export/herunterladen/").status_code == 302


def test_a_linked_stranger_logs_in_without_the_accounts_second_factor(
    client: Client, provider: IdentityProvider
) -> None:
    victim = UserFactory()
    TOTP.activate(victim, generate_totp_secret())
    client.force_login(victim)
    session = client.session
    session[RECORDS] = [
        {"method": "password", "at": time.time() - 3600},
        {"method": "mfa", "type": "totp", "at": time.time() - 3600},
    ]
    session[RECORDS_USER] = str(victim.pk)
    session.save()
    finish = _answered(client, provider)
    client.get(finish)
    client.post(finish, {"action": "link"})
    stranger = Client()
    stranger.get(_answered(stranger, provider))
    assert stranger.session.get("_auth_user_id") != str(victim.pk)


def test_a_one_factor_citizen_account_login_does_not_enter_an_account_with_a_second_factor(
    client: Client, provider: IdentityProvider
) -> None:
    user = UserFactory()
    TOTP.activate(user, generate_totp_secret())
    _link(user, provider)
    response = client.get(_answered(client, provider, level="low"))
    assert response.status_code == 403
    assert "zweiten Faktor" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert LoginAttempt.objects.get().result == {}


def test_an_id_card_login_enters_an_account_with_a_second_factor(
    client: Client, provider: IdentityProvider
) -> None:
    user = UserFactory()
    TOTP.activate(user, generate_totp_secret())
    _link(user, provider)
    assert client.get(_answered(client, provider, level="high")).status_code == 302
    assert client.session["_auth_user_id"] == str(user.pk)


def test_the_owner_is_told_when_a_citizen_account_is_linked(
    client: Client,
    provider: IdentityProvider,
    account_mail_sent: Sent,
) -> None:
    user: User = UserFactory()
    log_in(client, user)
    finish = _answered(client, provider)
    client.get(finish)
    mail.outbox.clear()
    with account_mail_sent():
        client.post(finish, {"action": "link"})
    assert [m.to for m in mail.outbox] == [[user.email]]
    body = mail.outbox[0].body
    assert "Bürgerkonto" in body and "Sie" in body
    assert "sub-1" not in body


def test_an_account_with_a_citizen_account_is_not_linked_with_another_persons(
    client: Client, provider: IdentityProvider
) -> None:
    owner: User = UserFactory()
    _link(owner, provider, subject="owner-bpk2")
    log_in(client, owner)
    finish = _answered_as(
        client,
        provider,
        subject="other-person-bpk2",
        level="high",
        attributes={"given_names": "Max", "family_name": "Fremder"},
    )
    page = client.get(finish)
    assert page.status_code == 403
    assert "bereits mit einem anderen Bürgerkonto" in page.content.decode()
    client.post(finish, {"action": "link"})

    assert list(FederatedIdentity.objects.values_list("user", "subject")) == [
        (owner.pk, "owner-bpk2")
    ]
    assert not Profile.objects.filter(family_name="Fremder").exists()
    assert LoginAttempt.objects.get().result == {}  # the other person's answer is dropped
    stranger = Client()
    stranger.get(_answered_as(stranger, provider, subject="other-person-bpk2"))
    assert stranger.session.get("_auth_user_id") != str(owner.pk)


def test_linking_refuses_a_second_citizen_account_of_the_issuer_even_past_the_page(
    client: Client, provider: IdentityProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The confirmation itself checks too: the other link may come from another tab after the
    page was shown."""
    from rathaus.accounts import federation

    owner: User = UserFactory()
    log_in(client, owner)
    finish = _answered_as(client, provider, subject="other-person-bpk2", level="high")
    assert client.get(finish).status_code == 200  # asks whether to link
    _link(owner, provider, subject="owner-bpk2")  # the other tab
    checked = federation.finish

    def as_before_the_other_tab(request: Any, attempt: LoginAttempt) -> Any:
        outcome = federation.Outcome("confirm_link", ExternalIdentity.from_json(attempt.result))
        return outcome if attempt.result else checked(request, attempt)

    monkeypatch.setattr(federation, "finish", as_before_the_other_tab)
    response = client.post(finish, {"action": "link"})

    assert response.status_code == 403
    assert list(FederatedIdentity.objects.values_list("subject", flat=True)) == ["owner-bpk2"]


def test_the_database_holds_one_citizen_account_per_issuer_and_account(
    provider: IdentityProvider,
) -> None:
    owner: User = UserFactory()
    _link(owner, provider, subject="owner-bpk2")
    with pytest.raises(IntegrityError), transaction.atomic():
        _link(owner, provider, subject="other-person-bpk2")
