"""An address someone typed into their own account without confirming it does not block its
owner: only confirmed addresses count as taken, and confirming drops the others' claims."""

from __future__ import annotations

import hashlib
import uuid

import pytest
from allauth.account.models import EmailAddress
from django.test import Client

from rathaus.accounts import federation
from rathaus.accounts.external_identity import ExternalIdentity
from rathaus.accounts.models import IdentityProvider, LoginAttempt, User
from rathaus.core.models import AuditEvent
from tests.accounts.conftest import ISSUER

pytestmark = pytest.mark.django_db

OWNER = "erika.mustermann@example.org"


def _answered_with_email(client: Client, provider: IdentityProvider, email: str) -> str:
    session = client.session
    key = session.get(federation.BROWSER_SESSION_KEY) or "browser-key"
    session[federation.BROWSER_SESSION_KEY] = key
    session.save()
    attempt = LoginAttempt.objects.create(
        id=uuid.uuid4(),
        provider=provider,
        status=LoginAttempt.Status.ANSWERED,
        required_level="high",
        browser_key=hashlib.sha256(key.encode()).hexdigest(),
        request_id=uuid.uuid4().hex,
        result=ExternalIdentity(
            issuer=ISSUER,
            subject="bpk2-erika",
            level="high",
            attributes={"email": email, "given_names": "Erika", "family_name": "Mustermann"},
            email_verified=True,
        ).as_json(),
    )
    return f"/konto/extern/abschluss/{attempt.pk}/"


def test_an_unconfirmed_address_of_another_account_does_not_block_its_owner(
    citizen_client: Client, citizen: User, provider: IdentityProvider
) -> None:
    citizen_client.post("/konto/email/", {"action_add": "", "email": OWNER})
    assert EmailAddress.objects.filter(user=citizen, email=OWNER, verified=False).exists()
    erika = Client()
    response = erika.get(_answered_with_email(erika, provider, OWNER))
    assert "Sie haben bereits ein Konto" not in response.content.decode()
    owner = User.objects.get(email=OWNER)
    assert erika.session["_auth_user_id"] == str(owner.pk)
    # the provider vouched for the address: the squatter's claim is gone, and audited
    assert not EmailAddress.objects.filter(user=citizen, email__iexact=OWNER).exists()
    assert AuditEvent.objects.filter(action="accounts.email.unconfirmed_claim_dropped").exists()


def test_an_unconfirmed_address_of_another_account_does_not_block_signup(
    citizen_client: Client,
) -> None:
    citizen_client.post("/konto/email/", {"action_add": "", "email": OWNER})
    response = Client().post(
        "/konto/signup/",
        {"email": OWNER, "password1": "Erika-Passwort-2026", "password2": "Erika-Passwort-2026"},
    )
    assert response.status_code == 302
    assert User.objects.filter(email=OWNER).exists()


def test_a_confirmed_address_still_blocks(citizen: User, provider: IdentityProvider) -> None:
    erika = Client()
    response = erika.get(_answered_with_email(erika, provider, citizen.email))
    assert "Sie haben bereits ein Konto" in response.content.decode()
    assert "_auth_user_id" not in erika.session


def test_an_account_holds_at_most_three_addresses(citizen_client: Client, citizen: User) -> None:
    for n in range(4):
        citizen_client.post("/konto/email/", {"action_add": "", "email": f"weitere{n}@example.org"})
    assert EmailAddress.objects.filter(user=citizen).count() == 3
