"""RFC 6238 § 5.2: a TOTP code is accepted once; no code of the same or an earlier time step is
accepted afterwards, for as long as the tolerance would otherwise accept it."""

from __future__ import annotations

from datetime import timedelta

import freezegun
import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.test import Client
from django.utils import timezone

from rathaus.accounts.models import User
from tests.accounts.factories import PASSWORD
from tests.accounts.test_mfa import totp_code

pytestmark = pytest.mark.django_db


def _second_step(client: Client, user: User, code: str) -> int:
    client.post("/konto/login/", {"login": user.email, "password": PASSWORD})
    return client.post("/konto/2fa/authenticate/", {"code": code}).status_code


def _step_start() -> object:
    now = timezone.now().replace(microsecond=0)
    return now - timedelta(seconds=now.second % 30) + timedelta(seconds=2)


def test_a_used_code_is_refused_for_as_long_as_it_is_accepted(citizen: User) -> None:
    secret = generate_totp_secret()
    TOTP.activate(citizen, secret)
    with freezegun.freeze_time(_step_start()) as clock:
        code = totp_code(secret)
        assert _second_step(Client(), citizen, code) == 302
        clock.tick(20)
        assert _second_step(Client(), citizen, code) == 200
        clock.tick(20)
        assert _second_step(Client(), citizen, code) != 302
        clock.tick(30)
        assert _second_step(Client(), citizen, code) != 302


def test_an_earlier_code_is_refused_after_a_later_one_was_used(citizen: User) -> None:
    secret = generate_totp_secret()
    TOTP.activate(citizen, secret)
    with freezegun.freeze_time(_step_start()):
        earlier, later = totp_code(secret, offset=-1), totp_code(secret, offset=1)
        assert _second_step(Client(), citizen, later) == 302
        assert _second_step(Client(), citizen, earlier) == 200


def test_the_next_code_is_accepted_after_the_last(citizen: User) -> None:
    secret = generate_totp_secret()
    TOTP.activate(citizen, secret)
    with freezegun.freeze_time(_step_start()) as clock:
        assert _second_step(Client(), citizen, totp_code(secret)) == 302
        clock.tick(30)
        assert _second_step(Client(), citizen, totp_code(secret)) == 302


def test_the_code_that_activated_the_app_is_used(citizen_client: Client, citizen: User) -> None:
    """Seen over the shoulder while the app was set up, it must not log in afterwards."""
    from allauth.mfa import signals
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY

    with freezegun.freeze_time(_step_start()) as clock:
        citizen_client.get("/konto/2fa/totp/activate/")
        secret = citizen_client.session[SECRET_SESSION_KEY]
        code = totp_code(secret)
        activated = citizen_client.post("/konto/2fa/totp/activate/", {"code": code})
        assert activated.status_code == 302
        # allauth sends the signal once the activation commits (never inside a test's
        # transaction): sent here as allauth sends it
        app = Authenticator.objects.get(user=citizen, type=Authenticator.Type.TOTP)
        signals.authenticator_added.send(
            sender=Authenticator, request=None, user=citizen, authenticator=app
        )
        clock.tick(10)
        assert _second_step(Client(), citizen, code) == 200  # refused: the form again
        clock.tick(30)
        assert _second_step(Client(), citizen, totp_code(secret)) == 302
