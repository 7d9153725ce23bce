"""Changes to the login means are in the audit trail (the kind of change, no secrets, no
addresses), and profile events keep field names only, not values that outlive the account."""

from __future__ import annotations

import json

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from django.test import Client

from rathaus.accounts.models import User
from rathaus.core.models import AuditEvent
from tests.accounts.factories import PASSWORD
from tests.accounts.test_mfa import totp_code

pytestmark = pytest.mark.django_db


def _actions(user: User) -> list[str]:
    return list(AuditEvent.objects.filter(actor=user).values_list("action", flat=True))


def test_a_password_change_is_audited(citizen_client: Client, citizen: User) -> None:
    response = citizen_client.post(
        "/konto/password/change/",
        {
            "oldpassword": PASSWORD,
            "password1": "Neues-Passwort-2026!",
            "password2": "Neues-Passwort-2026!",
        },
    )
    assert response.status_code == 302
    assert "accounts.password.changed" in _actions(citizen)
    trail = json.dumps(list(AuditEvent.objects.values("before", "after")))
    assert "Neues-Passwort" not in trail and PASSWORD not in trail


def test_adding_an_e_mail_address_is_audited_without_the_address(
    citizen_client: Client, citizen: User
) -> None:
    citizen_client.post("/konto/email/", {"action_add": "", "email": "zweite@example.org"})
    assert EmailAddress.objects.filter(user=citizen, email="zweite@example.org").exists()
    assert "accounts.email.added" in _actions(citizen)
    trail = json.dumps(list(AuditEvent.objects.values("before", "after")))
    assert "zweite@example.org" not in trail


@pytest.mark.django_db(transaction=True)  # allauth announces it after the commit
def test_activating_an_authenticator_app_is_audited(citizen_client: Client, citizen: User) -> None:
    citizen_client.get("/konto/2fa/totp/activate/")
    secret = citizen_client.session[SECRET_SESSION_KEY]
    citizen_client.post("/konto/2fa/totp/activate/", {"code": totp_code(secret)})
    assert Authenticator.objects.filter(user=citizen, type="totp").exists()
    assert "accounts.mfa.totp.added" in _actions(citizen)
    assert secret not in json.dumps(list(AuditEvent.objects.values("before", "after")))


def test_profile_values_do_not_outlive_the_deleted_account_in_the_trail(
    citizen_client: Client, citizen: User
) -> None:
    response = citizen_client.post(
        "/konto/profil/",
        {
            "given_names": "Erika",
            "family_name": "Mustermann",
            "birth_date": "12.08.1964",
            "street": "Friedrich-Engels-Allee",
            "house_number": "12",
            "postal_code": "42283",
            "place": "Wuppertal",
            "phone": "+49 202 123456",
            "preferred_language": "de",
        },
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="accounts.profile.updated")
    assert "street" in json.dumps(event.after)
    response = citizen_client.post("/konto/loeschen/", {"password": PASSWORD, "confirm": "on"})
    assert response.status_code == 302 and not User.objects.filter(pk=citizen.pk).exists()
    trail = json.dumps(list(AuditEvent.objects.values("actor_label", "before", "after")))
    for value in ("Friedrich-Engels-Allee", "1964-08-12", "+49 202 123456", "Mustermann"):
        assert value not in trail
