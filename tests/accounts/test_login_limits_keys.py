"""allauth's login limits count the right things: each client (an IPv4 address from a
dual-stack socket too) and each account, whatever Host header is sent."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.accounts.factories import PASSWORD, UserFactory

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
