"""ID tokens whose values our checks or columns cannot hold are refused as invalid answers from
the provider, never a 500: a time claim too large for a float (or not finite), and a ``sub``
longer than the link's column (``FederatedIdentity.subject``, 500 characters; PostgreSQL would
refuse the row)."""

from __future__ import annotations

import datetime
import time
from typing import Any

import pytest
from django.test import Client
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from rathaus.accounts import oidc
from rathaus.accounts.external_identity import ExternalIdentity, FederationError
from rathaus.accounts.models import FederatedIdentity, IdentityProvider, User
from tests.accounts.identity_providers import oidc_authorize
from tests.accounts.test_oidc_login import REFUSED, authorize

pytestmark = pytest.mark.django_db

ISSUER = "https://id.example.org"
NONCE = "n-0123456789"


@pytest.fixture
def signing_key(monkeypatch: pytest.MonkeyPatch) -> RSAKey:
    """A key of our own, served as the provider's key set."""
    key = RSAKey.generate_key(2048, parameters={"kid": "test"})
    monkeypatch.setattr(oidc, "_key_set", lambda metadata: KeySet([key]))
    return key


def _validate(provider: IdentityProvider, key: RSAKey, **claims: Any) -> ExternalIdentity:
    now = int(time.time())
    token = jwt.encode(
        {"alg": "RS256", "kid": "test"},
        {
            "iss": ISSUER,
            "aud": provider.client_id,
            "sub": "pseudonym-1",
            "exp": now + 60,
            "iat": now,
            "auth_time": now,
            "nonce": NONCE,
            "acr": oidc.acr_by_level(provider)["low"],
            **claims,
        },
        key,
    )
    return oidc.validate_id_token(
        provider,
        id_token=token,
        nonce=NONCE,
        metadata={"issuer": ISSUER, "jwks_uri": "https://id.example.org/jwks"},
        started_at=datetime.datetime.fromtimestamp(now - 1, tz=datetime.UTC),
    )


def test_a_valid_token_of_our_own_passes(provider: IdentityProvider, signing_key: RSAKey) -> None:
    assert _validate(provider, signing_key).subject == "pseudonym-1"


@pytest.mark.parametrize("claim", ["exp", "iat", "auth_time"])
@pytest.mark.parametrize(
    "value", [10**400, -(10**400), "nan", "inf"], ids=["huge", "huge-negative", "nan", "inf"]
)
def test_a_time_claim_no_float_holds_is_refused(
    provider: IdentityProvider, signing_key: RSAKey, claim: str, value: Any
) -> None:
    with pytest.raises(FederationError):
        _validate(provider, signing_key, **{claim: value})


def test_a_subject_longer_than_its_column_is_refused(
    client: Client, oidc_provider: IdentityProvider, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    real = oidc.validate_id_token

    def with_long_subject(*args: Any, **kwargs: Any) -> ExternalIdentity:
        identity = real(*args, **kwargs)
        return ExternalIdentity(**{**identity.as_json(), "subject": "s" * 501})  # type: ignore[arg-type]

    monkeypatch.setattr(oidc, "validate_id_token", with_long_subject)
    callback = oidc_authorize(authorize(client, oidc_provider, "high"), "oidc-eid-0003")

    response = client.get(callback)

    assert response.status_code == 400
    assert REFUSED in response.content.decode()
    assert "_auth_user_id" not in client.session
    refusal = [r for r in caplog.records if r.getMessage() == "federated login refused"][-1]
    assert "subject longer than 500" in refusal.reason  # type: ignore[attr-defined]
    assert not FederatedIdentity.objects.exists()
    assert not User.objects.exists()
