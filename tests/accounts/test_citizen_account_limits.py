"""What a citizen-account login may not do: log in or link a staff account (that would skip the
second factor the admin and back office demand), unlock the management of a second factor, or
keep the session key of a lower trust level."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.test import Client

from rathaus.accounts import federation, trust
from rathaus.accounts.external_identity import ExternalIdentity
from rathaus.accounts.models import FederatedIdentity, IdentityProvider, LoginAttempt, User
from tests.accounts.conftest import ISSUER, log_in
from tests.accounts.factories import StaffFactory, UserFactory
from tests.accounts.test_mfa import totp_code

pytestmark = pytest.mark.django_db


def _link(user: User, provider: IdentityProvider, subject: str = "sub-1") -> None:
    FederatedIdentity.objects.create(
        user=user, provider=provider, issuer=ISSUER, subject=subject, trust_level="low"
    )


def _answered(client: Client, provider: IdentityProvider, level: str = "low") -> str:
    """An answered login of this browser for the citizen account ``sub-1``, as the callback
    leaves it; returns the address that finishes it."""
    session = client.session
    key = session.get(federation.BROWSER_SESSION_KEY) or "browser-key"
    session[federation.BROWSER_SESSION_KEY] = key
    session.save()
    attempt = LoginAttempt.objects.create(
        id=uuid.uuid4(),
        provider=provider,
        status=LoginAttempt.Status.ANSWERED,
        required_level=level,
        browser_key=hashlib.sha256(key.encode()).hexdigest(),
        request_id=uuid.uuid4().hex,
        result=ExternalIdentity(issuer=ISSUER, subject="sub-1", level=level).as_json(),
    )
    return f"/konto/extern/abschluss/{attempt.pk}/"


def test_a_staff_account_never_logs_in_with_a_citizen_account(
    client: Client, provider: IdentityProvider
) -> None:
    staff = StaffFactory()
    TOTP.activate(staff, generate_totp_secret())
    _link(staff, provider)
    response = client.get(_answered(client, provider))
    assert response.status_code == 403
    assert "Beschäftigtenkonten melden sich mit Passwort und zweitem Faktor an" in (
        response.content.decode()
    )
    assert "_auth_user_id" not in client.session
    assert client.get("/admin/").status_code == 302  # to the login, not in


def test_a_staff_account_cannot_link_a_citizen_account(
    client: Client, provider: IdentityProvider
) -> None:
    staff = StaffFactory()
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    log_in(client, staff)
    client.post("/konto/2fa/authenticate/", {"code": totp_code(secret)})
    assert client.get("/backoffice/").status_code != 302  # password and second factor: in
    finish = _answered(client, provider)
    assert client.get(finish).status_code == 200  # asks whether to link
    response = client.post(finish, {"action": "link"})
    assert response.status_code == 403
    assert not FederatedIdentity.objects.filter(user=staff).exists()


def test_a_citizen_account_login_does_not_unlock_the_second_factor_settings(
    client: Client, provider: IdentityProvider
) -> None:
    citizen = UserFactory()
    TOTP.activate(citizen, generate_totp_secret())
    _link(citizen, provider)
    # only a two-factor citizen-account login (ID card, ELSTER) enters such an account
    assert client.get(_answered(client, provider, level="high")).status_code == 302
    assert client.session["_auth_user_id"] == str(citizen.pk)
    response = client.post("/konto/2fa/recovery-codes/generate/")
    # allauth asks to confirm with the password or the authenticator app first
    assert response.status_code == 302 and "/reauthenticate/" in response["Location"]
    assert not citizen.authenticator_set.filter(type="recovery_codes").exists()
    # and the citizen-account confirmation page sends such an account to allauth's instead
    confirm = client.get("/konto/extern/bestaetigen/?next=/konto/")
    assert confirm.status_code == 302 and "/konto/reauthenticate/" in confirm["Location"]


def test_a_step_up_gets_a_new_session_key(client: Client, provider: IdentityProvider) -> None:
    citizen = UserFactory()
    _link(citizen, provider)
    log_in(client, citizen)
    before = client.session.session_key
    assert client.get(_answered(client, provider, level="high")).status_code == 302
    assert client.session[trust.SESSION_KEY] == "high"
    assert client.session.session_key != before


def test_addresses_that_have_an_account_cannot_be_probed_without_limit(
    client: Client, provider: IdentityProvider
) -> None:
    from rathaus.accounts.federation_views import TAKEN_EMAILS_PER_ATTEMPT

    taken = [UserFactory().email for _ in range(TAKEN_EMAILS_PER_ATTEMPT + 1)]
    finish = _answered(client, provider)  # the citizen account sent no e-mail address
    assert "E-Mail" in client.get(finish).content.decode()
    for email in taken[:TAKEN_EMAILS_PER_ATTEMPT]:
        response = client.post(finish, {"email": email})
        assert response.status_code == 400 and "Konto mit dieser E-Mail-Adresse" in (
            response.content.decode()
        )
    response = client.post(finish, {"email": taken[-1]})
    assert response.status_code == 429
    assert "Zu viele" in response.content.decode()
    attempt = LoginAttempt.objects.get()
    assert attempt.status == LoginAttempt.Status.FAILED and attempt.result == {}
    assert client.post(finish, {"email": "frei@example.org"}).status_code == 400  # ended
    assert not User.objects.filter(email="frei@example.org").exists()


def test_a_refused_staff_login_does_not_call_the_answer_invalid(
    client: Client, provider: IdentityProvider
) -> None:
    staff = StaffFactory()
    TOTP.activate(staff, generate_totp_secret())
    _link(staff, provider)
    response = client.get(_answered(client, provider, level="high"))
    assert response.status_code == 403
    html = response.content.decode()
    assert "Beschäftigtenkonten melden sich" in html
    assert "ungültig oder wurde bereits verwendet" not in html
    assert "Bitte starten Sie die Anmeldung erneut" not in html


def test_too_many_taken_addresses_do_not_call_the_answer_invalid(
    client: Client, provider: IdentityProvider
) -> None:
    from rathaus.accounts.federation_views import TAKEN_EMAILS_PER_ATTEMPT

    finish = _answered(client, provider)
    for _ in range(TAKEN_EMAILS_PER_ATTEMPT + 1):
        response = client.post(finish, {"email": UserFactory().email})
    assert response.status_code == 429
    assert "ungültig oder wurde bereits verwendet" not in response.content.decode()


def test_an_answer_used_twice_is_still_called_invalid(
    client: Client, provider: IdentityProvider
) -> None:
    _link(UserFactory(), provider)
    finish = _answered(client, provider)
    assert client.get(finish).status_code == 302
    response = client.get(finish)
    assert response.status_code == 400
    assert "ungültig oder wurde bereits verwendet" in response.content.decode()
