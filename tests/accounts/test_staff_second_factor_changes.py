"""Staff keep their last passkey, and confirming the second factor gives the session a new key."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY
from django.test import Client

from rathaus.accounts.models import User
from tests.accounts.conftest import log_in
from tests.accounts.factories import UserFactory
from tests.accounts.test_mfa import totp_code

pytestmark = pytest.mark.django_db


def test_staff_cannot_remove_their_only_passkey(client: Client, staff: User) -> None:
    log_in(client, staff)
    key = Authenticator.objects.create(
        user=staff, type=Authenticator.Type.WEBAUTHN, data={"name": "Diensthandy"}
    )
    client.post(f"/konto/2fa/webauthn/keys/{key.pk}/remove/")
    assert Authenticator.objects.filter(pk=key.pk).exists()


def test_a_citizen_removes_their_only_passkey(client: Client) -> None:
    citizen = UserFactory()
    log_in(client, citizen)
    key = Authenticator.objects.create(
        user=citizen, type=Authenticator.Type.WEBAUTHN, data={"name": "Handy"}
    )
    client.post(f"/konto/2fa/webauthn/keys/{key.pk}/remove/")
    assert not Authenticator.objects.filter(pk=key.pk).exists()


def test_the_session_key_changes_when_staff_confirm_the_second_factor(
    client: Client, staff: User
) -> None:
    log_in(client, staff)
    client.get("/konto/2fa/totp/activate/")
    secret = client.session[SECRET_SESSION_KEY]
    client.post("/konto/2fa/totp/activate/", {"code": totp_code(secret)})
    confirm = client.get("/admin/")
    assert confirm["Location"].startswith("/konto/2fa/reauthenticate/")
    before = client.session.session_key
    client.post(confirm["Location"], {"code": totp_code(secret, offset=1)})
    assert client.get("/admin/").status_code == 200
    assert client.session.session_key != before
