"""A sign-up nobody confirmed does not keep the owner of the address out: its login address gets
a password reset link (which confirms the address), and it is deleted once the confirmation has
expired (``services.delete_unconfirmed_signups``)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import mail
from django.test import Client
from django.utils import timezone

from rathaus.accounts import services
from rathaus.accounts.models import User
from rathaus.accounts.tasks import delete_unconfirmed_signups_job
from rathaus.core.models import AuditEvent
from tests.accounts.mail_queue import Sent

pytestmark = pytest.mark.django_db


OWNER = "erika@example.org"


SQUATTER_PASSWORD = "Sq-uat-ter-2026!x"


def _sign_up(email: str, password: str = SQUATTER_PASSWORD) -> User:
    response = Client().post(
        "/konto/signup/", {"email": email, "password1": password, "password2": password}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    mail.outbox.clear()  # the confirmation mail, never opened
    return User.objects.get(email__iexact=email)


def _reset_links() -> list[str]:
    return [
        found.group(1)
        for message in mail.outbox
        if (found := re.search(r"http://testserver(/konto/password/reset/key/\S+)", message.body))
    ]


def _expire(user: User) -> None:
    days = settings.ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS
    User.objects.filter(pk=user.pk).update(date_joined=timezone.now() - timedelta(days=days + 1))


def test_the_owner_of_a_squatted_address_gets_in_by_a_reset_link(account_mail_sent: Sent) -> None:
    squatted = _sign_up(OWNER)
    owner = Client()

    with account_mail_sent():
        response = owner.post("/konto/password/reset/", {"email": OWNER})

    assert response.status_code == 302
    links = _reset_links()
    assert len(links) == 1
    form = owner.get(links[0])
    response = owner.post(
        form["Location"], {"password1": "Own-er-Pass-2026!y", "password2": "Own-er-Pass-2026!y"}
    )
    assert response.status_code == 302
    assert EmailAddress.objects.get(user=squatted, email=OWNER).verified
    assert AuditEvent.objects.filter(action="accounts.email.confirmed", object_id=squatted.pk)
    owner.post("/konto/login/", {"login": OWNER, "password": "Own-er-Pass-2026!y"})
    assert owner.session.get("_auth_user_id") == str(squatted.pk)


def test_the_reset_page_answers_alike_for_unknown_and_unconfirmed_addresses() -> None:
    _sign_up(OWNER)
    unknown = Client().post("/konto/password/reset/", {"email": "niemand@example.org"})
    squatted = Client().post("/konto/password/reset/", {"email": OWNER})
    assert (unknown.status_code, unknown["Location"]) == (
        squatted.status_code,
        squatted["Location"],
    )


def test_no_reset_link_to_the_unconfirmed_login_address_of_a_used_account(
    account_mail_sent: Sent,
) -> None:
    user = _sign_up(OWNER)
    User.objects.filter(pk=user.pk).update(last_login=timezone.now())
    with account_mail_sent():
        Client().post("/konto/password/reset/", {"email": OWNER})
    assert not _reset_links()


def test_no_reset_link_to_an_account_made_by_an_administrator(account_mail_sent: Sent) -> None:
    User.objects.create_user(email=OWNER, password="Ver-waltung-2026!z")
    with account_mail_sent():
        Client().post("/konto/password/reset/", {"email": OWNER})
    assert not _reset_links()


def test_expired_unconfirmed_signups_are_deleted_without_their_address(
    account_mail_sent: Sent,
) -> None:
    expired = _sign_up(OWNER)
    _expire(expired)
    fresh = _sign_up("max@example.org")
    confirmed = _sign_up("lena@example.org")
    EmailAddress.objects.filter(user=confirmed).update(verified=True)
    _expire(confirmed)
    used = _sign_up("jonas@example.org")
    User.objects.filter(pk=used.pk).update(last_login=timezone.now())
    _expire(used)

    assert services.delete_unconfirmed_signups() == 1

    assert set(User.objects.values_list("pk", flat=True)) == {fresh.pk, confirmed.pk, used.pk}
    event = AuditEvent.objects.get(action="accounts.user.unconfirmed_signup_deleted")
    assert event.object_id == str(expired.pk)
    assert OWNER not in str(event.before) + str(event.after) + event.actor_label
    assert not EmailAddress.objects.filter(email=OWNER).exists()
    # the address is free again for its owner
    with account_mail_sent():
        response = Client().post(
            "/konto/signup/",
            {"email": OWNER, "password1": "Own-er-Pass-2026!y", "password2": "Own-er-Pass-2026!y"},
        )
    assert response.status_code == 302
    assert [m.to for m in mail.outbox] == [[OWNER]]  # the confirmation link
    assert "Konto existiert bereits" not in [
        m.subject.removeprefix("[Rathaus] ") for m in mail.outbox
    ]


def test_the_deletion_of_unconfirmed_signups_runs_periodically() -> None:
    path = "rathaus.accounts.tasks.delete_unconfirmed_signups_job"
    assert path in [job for job, _every in settings.PERIODIC_JOBS]
    expired = _sign_up(OWNER)
    _expire(expired)
    delete_unconfirmed_signups_job.call()
    assert not User.objects.filter(pk=expired.pk).exists()
