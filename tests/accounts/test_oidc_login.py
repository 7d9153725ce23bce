"""Login through an OpenID Connect provider (npm oidc-provider on Node, 127.0.0.1) (issue 9)."""

from __future__ import annotations

import datetime
import urllib.parse
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from rathaus.accounts import oidc
from rathaus.accounts.models import FederatedIdentity, IdentityProvider, LoginAttempt, User
from rathaus.core.models import Municipality
from tests.accounts.identity_providers import (
    OIDC_CLIENT_ID,
    OIDC_SLUG,
    oidc_authorize,
    running_oidc_op,
    start_url,
)

pytestmark = pytest.mark.django_db
REFUSED = "Die Anmeldung konnte nicht abgeschlossen werden"


def authorize(client: Client, provider: IdentityProvider, level: str = "low") -> str:
    response = client.get(start_url(provider, level, next_url="/antraege/"))
    assert response.status_code == 302, response.content.decode()[:500]
    return str(response["Location"])


@pytest.mark.parametrize(
    ("citizen", "level"),
    [("oidc-basis-0001", "low"), ("oidc-elster-0002", "substantial"), ("oidc-eid-0003", "high")],
)
def test_citizen_logs_in_with_openid_connect(
    client: Client, oidc_provider: IdentityProvider, citizen: str, level: str
) -> None:
    callback = oidc_authorize(authorize(client, oidc_provider), citizen)
    finish = client.get(callback)
    assert finish.status_code == 302
    done = client.get(finish["Location"])

    assert done.status_code == 302 and done["Location"] == "/antraege/"
    assert client.session["rathaus_trust_level"] == level
    link = FederatedIdentity.objects.get()
    assert link.subject == citizen
    assert link.user.email.endswith("@example.org")


def test_authorization_request_uses_pkce_state_nonce_and_acr(
    client: Client, oidc_provider: IdentityProvider
) -> None:
    query = dict(
        urllib.parse.parse_qsl(
            urllib.parse.urlsplit(authorize(client, oidc_provider, "high")).query
        )
    )
    attempt = LoginAttempt.objects.get()

    assert query["code_challenge_method"] == "S256"
    assert query["code_challenge"] == oidc.code_challenge(attempt.code_verifier)
    assert query["state"] == attempt.request_id and len(query["state"]) >= 43
    assert query["nonce"] == attempt.nonce and query["nonce"] != query["state"]
    assert query["acr_values"] == "STORK-QAA-Level-4"
    assert (query["prompt"], query["max_age"]) == ("login", "0")


def test_profile_is_prefilled_from_the_claims(
    client: Client, oidc_provider: IdentityProvider
) -> None:
    callback = oidc_authorize(authorize(client, oidc_provider, "high"), "oidc-eid-0003")
    client.get(client.get(callback)["Location"])

    profile = User.objects.get(email="erika.mustermann@example.org").profile
    assert (profile.given_names, profile.family_name) == ("Erika", "Mustermann")
    assert (profile.street, profile.house_number, profile.postal_code) == (
        "Friedrich-Engels-Allee",
        "12",
        "42283",
    )


def refused(client: Client, response: Any, caplog: Any, why: str) -> None:
    assert response.status_code == 400
    assert REFUSED in response.content.decode()
    assert "_auth_user_id" not in client.session
    refusal = [r for r in caplog.records if r.getMessage() == "federated login refused"][-1]
    assert why in refusal.reason


@pytest.mark.parametrize("nonce", ["a-nonce-the-provider-never-saw", "ein-nonce-mit-ä"])
def test_id_token_with_a_wrong_nonce_is_refused(
    client: Client, oidc_provider: IdentityProvider, caplog: Any, nonce: str
) -> None:
    """Also when one side is not ASCII (compare_digest refuses such str with a TypeError)."""
    callback = oidc_authorize(authorize(client, oidc_provider), "oidc-eid-0003")
    LoginAttempt.objects.update(nonce=nonce)

    refused(client, client.get(callback), caplog, "nonce")


def test_id_token_from_a_wrong_issuer_is_refused(
    client: Client, oidc_provider: IdentityProvider, caplog: Any, monkeypatch: Any
) -> None:
    """The provider's real ID token, checked as if we had expected another issuer."""
    callback = oidc_authorize(authorize(client, oidc_provider), "oidc-eid-0003")
    real = oidc.discover(oidc_provider)
    monkeypatch.setattr(
        oidc, "discover", lambda provider: {**real, "issuer": "https://other.example"}
    )

    refused(client, client.get(callback), caplog, "issuer")


def test_id_token_signed_with_other_keys_is_refused(
    client: Client, oidc_provider: IdentityProvider, caplog: Any, monkeypatch: Any
) -> None:
    from joserfc.jwk import KeySet, RSAKey

    callback = oidc_authorize(authorize(client, oidc_provider), "oidc-eid-0003")
    others = KeySet([RSAKey.generate_key(2048)])
    monkeypatch.setattr(oidc, "_key_set", lambda metadata: others)

    refused(client, client.get(callback), caplog, "signature")


def test_id_token_for_a_login_before_the_start_is_refused(
    client: Client, oidc_provider: IdentityProvider, caplog: Any
) -> None:
    """A fresh login was asked for (prompt=login, max_age=0): an ID token whose auth_time lies
    before our request (a provider's older single sign-on) is no step-up."""
    callback = oidc_authorize(authorize(client, oidc_provider, "high"), "oidc-eid-0003")
    # the provider's real login, seen as if our request had been sent ten minutes later
    LoginAttempt.objects.update(created_at=timezone.now() + datetime.timedelta(minutes=10))

    refused(client, client.get(callback), caplog, "auth_time")


def test_id_token_without_auth_time_is_refused(
    client: Client, oidc_provider: IdentityProvider, caplog: Any, monkeypatch: Any
) -> None:
    callback = oidc_authorize(authorize(client, oidc_provider), "oidc-eid-0003")
    real_decode = oidc.jwt.decode

    def without_auth_time(*args: Any, **kwargs: Any) -> Any:
        token = real_decode(*args, **kwargs)
        token.claims.pop("auth_time", None)
        return token

    monkeypatch.setattr(oidc.jwt, "decode", without_auth_time)

    refused(client, client.get(callback), caplog, "auth_time")


def test_replayed_callback_is_refused(
    client: Client, oidc_provider: IdentityProvider, caplog: Any
) -> None:
    callback = oidc_authorize(authorize(client, oidc_provider), "oidc-basis-0001")
    client.get(client.get(callback)["Location"])
    client.logout()

    refused(client, client.get(callback), caplog, "replayed")


def test_callback_without_a_started_login_is_refused(
    client: Client, oidc_provider: IdentityProvider, caplog: Any
) -> None:
    response = client.get(f"/konto/extern/{oidc_provider.slug}/oidc/callback/?code=x&state=forged")
    refused(client, response, caplog, "unsolicited")


def test_provider_error_is_shown_not_raised(
    client: Client, oidc_provider: IdentityProvider, caplog: Any
) -> None:
    authorize(client, oidc_provider)
    state = LoginAttempt.objects.get().request_id
    response = client.get(
        f"/konto/extern/{oidc_provider.slug}/oidc/callback/?error=access_denied&state={state}"
    )
    refused(client, response, caplog, "access_denied")
    assert LoginAttempt.objects.get().status == LoginAttempt.Status.FAILED


def test_an_e_mail_address_too_long_to_store_is_refused_with_a_message() -> None:
    """Asked for when the provider sends none: Django's validator accepts 320 characters, the
    column (and SMTP, RFC 5321) 254; PostgreSQL would refuse the longer one with a 500."""
    from django.core.validators import validate_email

    from rathaus.accounts.federation_views import _email_problem

    address = "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".de"
    validate_email(address)  # valid as far as Django's validator goes
    assert len(address) > 254
    assert _email_problem(address) == "Geben Sie eine E-Mail-Adresse wie name@example.de ein."
    assert _email_problem("erika@example.de") == ""


def test_a_verified_address_of_another_account_is_not_taken_over(
    client: Client, oidc_provider: IdentityProvider
) -> None:
    """The provider vouches for the address (email_verified), but another account has it
    confirmed already: no second account (that was a 500 on the unique verified address)."""
    from allauth.account.models import EmailAddress

    from tests.accounts.factories import UserFactory

    other = UserFactory()
    EmailAddress.objects.create(user=other, email="erika.mustermann@example.org", verified=True)
    callback = oidc_authorize(authorize(client, oidc_provider, "high"), "oidc-eid-0003")

    page = client.get(client.get(callback)["Location"])

    assert page.status_code == 200
    assert "Sie haben bereits ein Konto" in page.content.decode()
    assert list(User.objects.all()) == [other]
    assert not FederatedIdentity.objects.exists()


def test_an_unusable_address_from_the_provider_is_asked_for_instead(
    client: Client, oidc_provider: IdentityProvider, monkeypatch: Any
) -> None:
    """Too long for the column (PostgreSQL: a 500) or not an address at all."""
    from rathaus.accounts.external_identity import ExternalIdentity

    real = oidc.validate_id_token

    def with_long_address(*args: Any, **kwargs: Any) -> ExternalIdentity:
        identity = real(*args, **kwargs)
        long_address = "a" * 64 + "@" + ".".join(["b" * 60] * 4) + ".de"
        return ExternalIdentity(
            **{**identity.as_json(), "attributes": {"email": long_address}}  # type: ignore[arg-type]
        )

    monkeypatch.setattr(oidc, "validate_id_token", with_long_address)
    callback = oidc_authorize(authorize(client, oidc_provider, "high"), "oidc-eid-0003")

    page = client.get(client.get(callback)["Location"])

    assert page.status_code == 200
    assert 'name="email"' in page.content.decode()
    assert not User.objects.exists()


OWN_ACR_VALUES = {
    "low": "urn:example:broker:acr:basic",
    "substantial": "urn:example:broker:acr:substantial",
    "high": "urn:example:broker:acr:eid",
}


def test_a_stork_acr_is_refused_when_the_provider_has_its_own_acr_values(
    client: Client, oidc_provider: IdentityProvider, caplog: Any
) -> None:
    """The provider's real ID token says acr STORK-QAA-Level-4; the broker is configured (after
    the request) with its own values, so the STORK name is as unknown as any other."""
    callback = oidc_authorize(authorize(client, oidc_provider, "high"), "oidc-eid-0003")
    oidc_provider.acr_values = OWN_ACR_VALUES
    oidc_provider.save(update_fields=["acr_values"])

    refused(client, client.get(callback), caplog, "unknown acr")
    assert not FederatedIdentity.objects.exists()


def test_own_acr_values_alone_map_to_levels() -> None:
    provider = IdentityProvider(acr_values=OWN_ACR_VALUES)

    assert [oidc.level_for_acr(provider, OWN_ACR_VALUES[lv]) for lv in OWN_ACR_VALUES] == [
        "low",
        "substantial",
        "high",
    ]
    for stork in ("STORK-QAA-Level-1", "STORK-QAA-Level-3", "STORK-QAA-Level-4"):
        assert oidc.level_for_acr(provider, stork) is None
    assert oidc.level_for_acr(provider, "urn:example:broker:acr:other") is None


def test_a_level_without_an_own_acr_value_is_neither_requested_nor_accepted(
    client: Client, oidc_provider: IdentityProvider
) -> None:
    """Configured for "high" only: no STORK fallback for the other levels."""
    oidc_provider.acr_values = {"high": OWN_ACR_VALUES["high"]}
    oidc_provider.save(update_fields=["acr_values"])

    query = dict(
        urllib.parse.parse_qsl(urllib.parse.urlsplit(authorize(client, oidc_provider)).query)
    )

    assert query["acr_values"] == OWN_ACR_VALUES["high"]
    assert oidc.level_for_acr(oidc_provider, "STORK-QAA-Level-1") is None
    assert oidc.level_for_acr(oidc_provider, OWN_ACR_VALUES["high"]) == "high"


def test_without_own_acr_values_the_stork_names_map_to_levels() -> None:
    provider = IdentityProvider(acr_values={})

    assert oidc.level_for_acr(provider, "STORK-QAA-Level-1") == "low"
    assert oidc.level_for_acr(provider, "STORK-QAA-Level-3") == "substantial"
    assert oidc.level_for_acr(provider, "STORK-QAA-Level-4") == "high"
    assert oidc.level_for_acr(provider, "urn:example:broker:acr:eid") is None


def test_another_browser_cannot_fail_the_login_with_its_state(
    client: Client, oidc_provider: IdentityProvider, caplog: Any
) -> None:
    """Knowing the state (it travels in the address) is not enough to end someone's login."""
    authorize_url = authorize(client, oidc_provider)
    state = LoginAttempt.objects.get().request_id
    other = Client()

    answer = other.get(
        f"/konto/extern/{oidc_provider.slug}/oidc/callback/?error=access_denied&state={state}"
    )

    refused(other, answer, caplog, "another browser")
    assert LoginAttempt.objects.get().status == LoginAttempt.Status.STARTED
    callback = oidc_authorize(authorize_url, "oidc-basis-0001")
    done = client.get(client.get(callback)["Location"])
    assert done.status_code == 302 and done["Location"] == "/antraege/"
    assert LoginAttempt.objects.get().status == LoginAttempt.Status.DONE


def test_a_callback_in_another_browser_is_refused_and_its_code_kept(
    client: Client, oidc_provider: IdentityProvider, caplog: Any
) -> None:
    """Login CSRF: the code is not redeemed for a browser that did not start the login; the
    citizen's own browser still can."""
    callback = oidc_authorize(authorize(client, oidc_provider), "oidc-basis-0001")
    other = Client()

    refused(other, other.get(callback), caplog, "another browser")
    assert LoginAttempt.objects.get().status == LoginAttempt.Status.STARTED

    done = client.get(client.get(callback)["Location"])
    assert done.status_code == 302 and done["Location"] == "/antraege/"


#: A client secret with the characters form-urlencoding changes (RFC 6749 § 2.3.1: the client
#: encodes ID and secret before HTTP Basic, the provider decodes them).
SECRET_WITH_SPECIAL_CHARACTERS = "Zm9v+YmFy/YmF6=="


@pytest.fixture(scope="module")
def oidc_op_with_special_secret() -> Iterator[str]:
    """A second test provider whose client secret holds ``+``, ``/`` and ``=``."""
    with running_oidc_op(client_secret=SECRET_WITH_SPECIAL_CHARACTERS) as issuer:
        yield issuer


def test_a_client_secret_is_form_urlencoded_for_http_basic(
    client: Client, oidc_op_with_special_secret: str, settings: Any
) -> None:
    settings.SITE_URL = "http://testserver"
    municipality = Municipality.objects.create(
        ags="05122000", slug="solingen", name="Solingen", state="NW"
    )
    provider = IdentityProvider.objects.create(
        municipality=municipality,
        slug=OIDC_SLUG,
        name="Servicekonto (OIDC-Test)",
        protocol=IdentityProvider.Protocol.OIDC,
        issuer=oidc_op_with_special_secret,
        client_id=OIDC_CLIENT_ID,
        client_secret=SECRET_WITH_SPECIAL_CHARACTERS,
        allowed_levels=["low", "substantial", "high"],
    )
    callback = oidc_authorize(authorize(client, provider), "oidc-basis-0001")
    finish = client.get(callback)
    assert finish.status_code == 302, finish.content.decode()[:500]
    assert client.get(finish["Location"]).status_code == 302
    assert FederatedIdentity.objects.get().subject == "oidc-basis-0001"
