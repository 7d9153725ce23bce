"""Second factors: TOTP, recovery codes, passkeys refused when wrong, and staff enforcement."""

from __future__ import annotations

import json
import time
from datetime import timedelta

import freezegun
import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import (
    SECRET_SESSION_KEY,
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from django.test import Client
from django.utils import timezone

from rathaus.accounts.models import User
from tests.accounts.conftest import log_in
from tests.accounts.factories import PASSWORD

pytestmark = pytest.mark.django_db


def totp_code(secret: str, offset: int = 0) -> str:
    """The code an authenticator app shows now (RFC 6238, 30-second steps)."""
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + offset))


def wrong_code(secret: str) -> str:
    right = totp_code(secret)
    return f"{(int(right) + 1) % 1_000_000:06d}"


def test_totp_activation_with_a_correct_code(citizen_client: Client, citizen: User) -> None:
    page = citizen_client.get("/konto/2fa/totp/activate/")
    assert page.status_code == 200
    secret = citizen_client.session[SECRET_SESSION_KEY]
    response = citizen_client.post("/konto/2fa/totp/activate/", {"code": totp_code(secret)})
    assert response.status_code == 302
    assert Authenticator.objects.filter(user=citizen, type="totp").exists()
    # Recovery codes are generated along with the first factor.
    assert Authenticator.objects.filter(user=citizen, type="recovery_codes").exists()


def test_totp_activation_refuses_a_wrong_code(citizen_client: Client, citizen: User) -> None:
    citizen_client.get("/konto/2fa/totp/activate/")
    secret = citizen_client.session[SECRET_SESSION_KEY]
    response = citizen_client.post("/konto/2fa/totp/activate/", {"code": wrong_code(secret)})
    assert response.status_code == 200
    assert "Falscher Code" in response.content.decode()
    assert not Authenticator.objects.filter(user=citizen, type="totp").exists()


@pytest.fixture
def totp_user(citizen: User) -> tuple[User, str]:
    secret = generate_totp_secret()
    TOTP.activate(citizen, secret)
    RecoveryCodes.activate(citizen)
    return citizen, secret


def test_login_with_totp_asks_for_the_code_and_refuses_a_wrong_one(
    client: Client, totp_user: tuple[User, str]
) -> None:
    user, secret = totp_user
    response = client.post("/konto/login/", {"login": user.email, "password": PASSWORD})
    assert response["Location"] == "/konto/2fa/authenticate/"
    assert client.get("/konto/").status_code == 302  # not logged in yet

    response = client.post("/konto/2fa/authenticate/", {"code": wrong_code(secret)})
    assert response.status_code == 200
    assert client.get("/konto/").status_code == 302

    response = client.post("/konto/2fa/authenticate/", {"code": totp_code(secret)})
    assert response.status_code == 302
    assert client.get("/konto/").status_code == 200


@pytest.mark.parametrize(("steps_old", "accepted"), [(1, True), (2, False)])
def test_a_code_from_the_previous_time_step_still_counts_an_older_one_does_not(
    client: Client, totp_user: tuple[User, str], steps_old: int, accepted: bool
) -> None:
    """RFC 6238 § 5.2: a code typed as its 30-second window ends must not be refused."""
    user, secret = totp_user
    client.post("/konto/login/", {"login": user.email, "password": PASSWORD})
    # 10 s into a 30-s step, on today's date: a session logged in at a fixed date would look
    # idle for too long once that date is past
    now = timezone.now().replace(microsecond=0)
    with freezegun.freeze_time(now - timedelta(seconds=now.second % 30) + timedelta(seconds=10)):
        code = totp_code(secret, offset=-steps_old)
        response = client.post("/konto/2fa/authenticate/", {"code": code})
        assert (response.status_code == 302) is accepted
        assert (client.get("/konto/").status_code == 200) is accepted


def test_a_recovery_code_logs_in_once(client: Client, totp_user: tuple[User, str]) -> None:
    user, _secret = totp_user
    rc = Authenticator.objects.get(user=user, type="recovery_codes").wrap()
    code = rc.get_unused_codes()[0]
    client.post("/konto/login/", {"login": user.email, "password": PASSWORD})
    response = client.post("/konto/2fa/authenticate/", {"code": code})
    assert response.status_code == 302
    assert client.get("/konto/").status_code == 200
    client.post("/konto/logout/")

    client.post("/konto/login/", {"login": user.email, "password": PASSWORD})
    response = client.post("/konto/2fa/authenticate/", {"code": code})
    assert response.status_code == 200  # used codes are spent
    assert client.get("/konto/").status_code == 302


def test_recovery_codes_page_lists_unused_codes(
    client: Client, totp_user: tuple[User, str]
) -> None:
    user, secret = totp_user
    client.post("/konto/login/", {"login": user.email, "password": PASSWORD})
    client.post("/konto/2fa/authenticate/", {"code": totp_code(secret)})
    page = client.get("/konto/2fa/recovery-codes/")
    assert page.status_code == 200
    rc = Authenticator.objects.get(user=user, type="recovery_codes").wrap()
    assert rc.get_unused_codes()[0] in page.content.decode()


def test_a_forged_passkey_assertion_is_refused(client: Client, citizen: User) -> None:
    options = client.get("/konto/2fa/webauthn/login/", HTTP_ACCEPT="application/json")
    assert options.status_code == 200
    assert "request_options" in options.json()
    forged = {
        "type": "public-key",
        "id": "AAAA",
        "rawId": "AAAA",
        "authenticatorAttachment": "platform",
        "response": {
            "clientDataJSON": "e30",
            "authenticatorData": "AAAA",
            "signature": "AAAA",
            "userHandle": "MQ",
        },
        "clientExtensionResults": {},
    }
    response = client.post("/konto/2fa/webauthn/login/", {"credential": json.dumps(forged)})
    assert response.status_code in (200, 302)
    assert client.get("/konto/").status_code == 302  # still anonymous


# --- staff must use a second factor ------------------------------------------------------


def test_staff_without_second_factor_is_sent_to_mfa_setup(client: Client, staff: User) -> None:
    log_in(client, staff)
    for path in ("/konto/", "/admin/", "/backoffice/", "/leistungen/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"] == "/konto/2fa/", path
    assert client.get("/konto/2fa/").status_code == 200
    assert client.get("/konto/2fa/totp/activate/").status_code == 200


def test_staff_can_set_up_totp_and_then_reach_admin_after_confirming_it(
    client: Client, staff: User
) -> None:
    log_in(client, staff)
    client.get("/konto/2fa/totp/activate/")
    secret = client.session[SECRET_SESSION_KEY]
    client.post("/konto/2fa/totp/activate/", {"code": totp_code(secret)})
    assert client.get("/konto/").status_code == 200
    # This session was authenticated with a password only: /admin/ wants the second factor.
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/konto/2fa/reauthenticate/")
    response = client.post(response["Location"], {"code": totp_code(secret)})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_staff_with_totp_logs_in_with_both_factors_and_reaches_admin(
    client: Client, staff: User
) -> None:
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    client.post("/konto/login/", {"login": staff.email, "password": PASSWORD})
    client.post("/konto/2fa/authenticate/", {"code": totp_code(secret)})
    assert client.get("/admin/").status_code == 200


def test_staff_cannot_remove_their_only_second_factor(client: Client, staff: User) -> None:
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)
    client.post("/konto/login/", {"login": staff.email, "password": PASSWORD})
    client.post("/konto/2fa/authenticate/", {"code": totp_code(secret)})
    client.post("/konto/2fa/totp/deactivate/")
    assert Authenticator.objects.filter(user=staff, type="totp").exists()


def test_admin_login_page_goes_through_allauth(client: Client) -> None:
    response = client.get("/admin/login/")
    assert response.status_code == 302
    assert response["Location"].startswith("/konto/login/")


def test_superuser_with_second_factor_manages_users_in_the_admin(client: Client) -> None:
    admin_user = User.objects.create_superuser("admin@stadt.example.org", PASSWORD)
    EmailAddress.objects.create(
        user=admin_user, email=admin_user.email, verified=True, primary=True
    )
    citizen = User.objects.create_user("erika@example.org", PASSWORD)
    secret = generate_totp_secret()
    TOTP.activate(admin_user, secret)
    client.post("/konto/login/", {"login": admin_user.email, "password": PASSWORD})
    client.post("/konto/2fa/authenticate/", {"code": totp_code(secret)})
    assert client.get("/admin/accounts/user/").status_code == 200
    assert client.get(f"/admin/accounts/user/{citizen.pk}/change/").status_code == 200
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "email": "neu@stadt.example.org",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "usable_password": "true",
            "profile-TOTAL_FORMS": "0",
            "profile-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    assert User.objects.filter(email="neu@stadt.example.org").exists()


def test_a_clerk_without_staff_flag_must_also_use_a_second_factor(client: Client) -> None:
    from django.contrib.auth.models import Group

    from tests.accounts.factories import UserFactory

    clerk = UserFactory()
    clerk.groups.add(Group.objects.get(name="clerk"))
    log_in(client, clerk)
    response = client.get("/backoffice/")
    assert response.status_code == 302
    assert response["Location"] == "/konto/2fa/"


def test_staff_roles_exist() -> None:
    from django.contrib.auth.models import Group

    names = set(Group.objects.values_list("name", flat=True))
    assert {"clerk", "team_lead", "administrator", "planner"} <= names
