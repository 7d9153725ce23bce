"""allauth's login limits count the right things: each client (an IPv4 address from a
dual-stack socket too) and each account, whatever Host header is sent; a correct second factor
of one's own account does not reset the client's count of password guesses."""

from __future__ import annotations

import pytest
from allauth.mfa.totp.internal.auth import SECRET_SESSION_KEY, TOTP, generate_totp_secret
from django.test import Client

from tests.accounts.conftest import log_in
from tests.accounts.factories import PASSWORD, UserFactory
from tests.accounts.test_mfa import totp_code, wrong_code

pytestmark = pytest.mark.django_db


def _fail_five_logins(address: str, email: str) -> None:
    attacker = Client(REMOTE_ADDR=address)
    for _ in range(5):
        attacker.post("/konto/login/", {"login": email, "password": "falsch-falsch-1"})


def test_plain_ipv4_clients_have_separate_buckets() -> None:
    target, victim = UserFactory(), UserFactory()
    _fail_five_logins("203.0.113.7", target.email)
    response = Client(REMOTE_ADDR="198.51.100.20").post(
        "/konto/login/", {"login": victim.email, "password": PASSWORD}
    )
    assert response.status_code == 302


def test_ipv4_mapped_clients_of_a_dual_stack_socket_have_separate_buckets() -> None:
    target, victim = UserFactory(), UserFactory()
    _fail_five_logins("::ffff:203.0.113.7", target.email)
    response = Client(REMOTE_ADDR="::ffff:198.51.100.20").post(
        "/konto/login/", {"login": victim.email, "password": PASSWORD}
    )
    assert response.status_code == 302


def test_an_ipv4_mapped_client_counts_as_its_ipv4_address() -> None:
    target = UserFactory()
    _fail_five_logins("::ffff:203.0.113.7", target.email)
    other = UserFactory()
    response = Client(REMOTE_ADDR="203.0.113.7").post(
        "/konto/login/", {"login": other.email, "password": PASSWORD}
    )
    assert response.status_code == 200 and "Zu viele" in response.content.decode()


@pytest.mark.parametrize("host", ["testserver:8443", "TESTSERVER", "testserver:80"])
def test_the_per_account_limit_holds_whatever_host_header_is_sent(host: str) -> None:
    victim = UserFactory()
    for n in range(5):
        Client(REMOTE_ADDR=f"203.0.113.{n + 1}").post(
            "/konto/login/", {"login": victim.email, "password": "falsch-falsch-1"}
        )
    locked = Client(REMOTE_ADDR="203.0.113.50").post(
        "/konto/login/", {"login": victim.email, "password": PASSWORD}
    )
    assert locked.status_code == 200 and "Zu viele" in locked.content.decode()
    guess = Client(REMOTE_ADDR="203.0.113.51", HTTP_HOST=host).post(
        "/konto/login/", {"login": victim.email.upper(), "password": PASSWORD}
    )
    assert guess.status_code != 302


ADDRESS = "203.0.113.9"


def _guess(client: Client, email: str) -> bool:
    """One wrong password for ``email``; True when the login limit refused it."""
    response = client.post("/konto/login/", {"login": email, "password": "falsch-falsch-1"})
    assert response.status_code == 200
    return "Zu viele" in response.content.decode()


def test_a_correct_second_factor_of_ones_own_does_not_reset_the_ips_password_guesses() -> None:
    attacker = Client(REMOTE_ADDR=ADDRESS)
    assert [_guess(attacker, UserFactory().email) for _ in range(4)] == [False] * 4
    own = UserFactory()
    secret = generate_totp_secret()
    TOTP.activate(own, secret)
    assert (
        attacker.post("/konto/login/", {"login": own.email, "password": PASSWORD}).status_code
        == 302
    )
    assert attacker.post("/konto/2fa/authenticate/", {"code": totp_code(secret)}).status_code == 302
    assert attacker.session.get("_auth_user_id") == str(own.pk)
    attacker.post("/konto/logout/")

    assert [_guess(attacker, UserFactory().email) for _ in range(2)] == [False, True]


def test_activating_an_authenticator_app_does_not_reset_the_ips_password_guesses() -> None:
    """allauth's activation form clears its ``login_failed`` buckets, the IP's among them: our
    own count of the IP's failed logins stays."""
    attacker = Client(REMOTE_ADDR=ADDRESS)
    assert [_guess(attacker, UserFactory().email) for _ in range(4)] == [False] * 4
    own = UserFactory()
    log_in(attacker, own)
    attacker.get("/konto/2fa/totp/activate/")
    secret = attacker.session[SECRET_SESSION_KEY]
    activated = attacker.post("/konto/2fa/totp/activate/", {"code": totp_code(secret)})
    assert activated.status_code == 302
    attacker.post("/konto/logout/")

    assert [_guess(attacker, UserFactory().email) for _ in range(2)] == [False, True]


def test_wrong_second_factor_codes_count_per_account() -> None:
    own = UserFactory()
    secret = generate_totp_secret()
    TOTP.activate(own, secret)
    browser = Client(REMOTE_ADDR=ADDRESS)
    browser.post("/konto/login/", {"login": own.email, "password": PASSWORD})
    for _ in range(5):
        wrong = browser.post("/konto/2fa/authenticate/", {"code": wrong_code(secret)})
        assert "Falscher Code" in wrong.content.decode()
    locked = browser.post("/konto/2fa/authenticate/", {"code": totp_code(secret)})
    assert locked.status_code == 200 and "Zu viele" in locked.content.decode()
    # they are no password guesses: another account still logs in from this address
    other = UserFactory()
    response = Client(REMOTE_ADDR=ADDRESS).post(
        "/konto/login/", {"login": other.email, "password": PASSWORD}
    )
    assert response.status_code == 302
