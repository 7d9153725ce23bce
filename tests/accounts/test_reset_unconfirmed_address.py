"""A password reset never goes to an address the account has not confirmed: whoever owns a
further address someone typed (or mistyped) into an account must not take the account over."""

from __future__ import annotations

import re

import pytest
from django.core import mail
from django.test import Client

from rathaus.accounts.models import User
from tests.accounts.mail_queue import Sent

pytestmark = pytest.mark.django_db


def _reset_links() -> list[str]:
    return [
        found.group(1)
        for message in mail.outbox
        if (found := re.search(r"http://testserver(/konto/password/reset/key/\S+)", message.body))
    ]


def test_no_reset_link_to_an_unconfirmed_further_address(
    citizen_client: Client,
    citizen: User,
    account_mail_sent: Sent,
) -> None:
    citizen_client.post("/konto/email/", {"action_add": "", "email": "erika@exmaple.org"})
    mail.outbox.clear()
    stranger = Client()
    with account_mail_sent():
        response = stranger.post("/konto/password/reset/", {"email": "erika@exmaple.org"})
    assert response.status_code == 302  # the same page as for any address: no enumeration
    links = _reset_links()
    if links:
        form = stranger.get(links[0])
        stranger.post(
            form["Location"],
            {"password1": "Fremdes-Passwort-2026", "password2": "Fremdes-Passwort-2026"},
        )
        stranger.post(
            "/konto/login/", {"login": citizen.email, "password": "Fremdes-Passwort-2026"}
        )
    assert stranger.session.get("_auth_user_id") != str(citizen.pk)
    assert not links


def test_the_confirmed_address_still_gets_its_reset_link(
    citizen: User, account_mail_sent: Sent
) -> None:
    mail.outbox.clear()
    with account_mail_sent():
        Client().post("/konto/password/reset/", {"email": citizen.email})
    assert len(_reset_links()) == 1
