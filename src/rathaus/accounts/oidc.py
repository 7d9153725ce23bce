"""OpenID Connect relying party: authorization code flow with PKCE (S256), state and nonce.

The ID token's signature is checked against the provider's published keys (JWKS, via joserfc),
then ``iss``, ``aud``/``azp``, ``exp``/``iat``, ``nonce`` and the ``acr`` that says which trust
level the login reached. States and brokers report the level as ``acr``; the values per level are
configurable per provider (default: the STORK-QAA names BundID uses).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import math
import secrets
import time
import urllib.parse
from typing import Any

import httpx
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from rathaus.accounts import trust
from rathaus.accounts.external_identity import ExternalIdentity, FederationError, split_street
from rathaus.accounts.models import IdentityProvider

DISCOVERY_CACHE_SECONDS = 3600
CLOCK_SKEW_SECONDS = 60
ALLOWED_ALGORITHMS = ["RS256", "PS256", "ES256", "RS384", "RS512", "ES384", "PS384", "PS512"]
SCOPE = "openid profile email address"


def redirect_uri(provider: IdentityProvider) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("federation:oidc_callback", args=[provider.slug])


def own_acr_values(provider: IdentityProvider) -> dict[str, str]:
    """The acr values configured for the provider, by level (empty: it uses the STORK names)."""
    configured = provider.acr_values if isinstance(provider.acr_values, dict) else {}
    return {lv: str(configured[lv]) for lv in trust.ORDER if configured.get(lv)}


def acr_by_level(provider: IdentityProvider) -> dict[str, str]:
    """The acr value of each level: the provider's own when it has any (then a level without
    one has none), otherwise the STORK-QAA names."""
    return own_acr_values(provider) or {
        lv: trust.STORK_BY_LEVEL[trust.Level(lv)] for lv in trust.ORDER
    }


def level_for_acr(provider: IdentityProvider, acr: str) -> str | None:
    """The level an ID token's ``acr`` stands for; None for a value the provider does not use.

    A provider with its own values is held to exactly those: a STORK name is then as unknown as
    any other value.
    """
    own = own_acr_values(provider)
    if own:
        return next((lv for lv, value in own.items() if value == acr), None)
    return trust.from_stork(acr)


def _get_json(url: str) -> dict[str, Any]:
    try:
        response = httpx.get(url, timeout=10, follow_redirects=False)
        response.raise_for_status()
        data = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise FederationError(f"provider not reachable at {url}: {exc}") from exc
    if not isinstance(data, dict):
        raise FederationError(f"{url} did not answer with a JSON object")
    return data


def discover(provider: IdentityProvider) -> dict[str, Any]:
    """The provider's metadata (OpenID Connect Discovery 1.0), its ``issuer`` checked."""
    issuer = provider.issuer.rstrip("/")
    key = f"accounts:oidc-discovery:{issuer}"
    cached = cache.get(key)
    if cached:
        return dict(cached)
    metadata = _get_json(issuer + "/.well-known/openid-configuration")
    if str(metadata.get("issuer", "")).rstrip("/") != issuer:
        raise FederationError(f"discovery names issuer {metadata.get('issuer')!r}, not {issuer!r}")
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        if not metadata.get(name):
            raise FederationError(f"discovery lacks {name}")
    cache.set(key, metadata, DISCOVERY_CACHE_SECONDS)
    return metadata


def _key_set(metadata: dict[str, Any]) -> KeySet:
    try:
        return KeySet.import_key_set(_get_json(str(metadata["jwks_uri"])))  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError) as exc:
        raise FederationError(f"provider keys unusable: {exc}") from exc


def new_secrets() -> tuple[str, str, str]:
    """(state, nonce, PKCE code verifier), each with at least 256 bits of randomness."""
    return secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(48)


def code_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_url(
    provider: IdentityProvider, *, level: str, state: str, nonce: str, code_verifier: str
) -> str:
    metadata = discover(provider)
    wanted = [
        acr
        for lv, acr in acr_by_level(provider).items()
        if trust.suffices(required=level, reached=lv)
    ]
    if not wanted:
        raise FederationError(f"no acr value configured for level {level!r} or above")
    query = {
        "response_type": "code",
        "client_id": provider.client_id,
        "redirect_uri": redirect_uri(provider),
        "scope": SCOPE,
        "state": state,
        "nonce": nonce,
        "code_challenge": code_challenge(code_verifier),
        "code_challenge_method": "S256",
        "acr_values": " ".join(wanted),
        "prompt": "login",
        # A fresh login, and the ID token must then say when it was (auth_time, OIDC Core 3.1.2.1).
        "max_age": "0",
    }
    endpoint = str(metadata["authorization_endpoint"])
    joiner = "&" if "?" in endpoint else "?"
    return endpoint + joiner + urllib.parse.urlencode(query)


def exchange_code(
    provider: IdentityProvider,
    *,
    code: str,
    code_verifier: str,
    nonce: str,
    started_at: datetime.datetime,
) -> ExternalIdentity:
    """Redeem the code at the token endpoint and check the ID token."""
    metadata = discover(provider)
    try:
        response = httpx.post(
            str(metadata["token_endpoint"]),
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri(provider),
                "code_verifier": code_verifier,
            },
            # client_secret_basic: ID and secret form-urlencoded before Basic (RFC 6749 § 2.3.1)
            auth=(
                urllib.parse.quote_plus(provider.client_id),
                urllib.parse.quote_plus(provider.client_secret),
            ),
            timeout=10,
            follow_redirects=False,
        )
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise FederationError(f"token endpoint failed: {exc}") from exc
    if response.status_code != 200 or not isinstance(body, dict) or "id_token" not in body:
        raise FederationError(f"token endpoint answered {response.status_code}: {body!r}"[:500])
    return validate_id_token(
        provider,
        id_token=str(body["id_token"]),
        nonce=nonce,
        metadata=metadata,
        started_at=started_at,
    )


def _seconds(value: Any) -> float:
    """A time claim (seconds since the epoch) as a finite number: an integer too large for a
    float raises OverflowError, "nan" or "inf" (which no comparison would catch) ValueError."""
    seconds = float(value)
    if not math.isfinite(seconds):
        raise ValueError(f"not a time: {value!r}")
    return seconds


def validate_id_token(
    provider: IdentityProvider,
    *,
    id_token: str,
    nonce: str,
    metadata: dict[str, Any],
    started_at: datetime.datetime,
) -> ExternalIdentity:
    """The identity in ``id_token``, answering a login started at ``started_at``.

    We ask for a fresh login (``prompt=login``, ``max_age=0``); a provider that answers with an
    earlier session's login (``auth_time`` before the start) is refused, or a stale single
    sign-on at the provider would pass as a fresh step-up.
    """
    supported = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    algorithms = [a for a in supported if a in ALLOWED_ALGORITHMS]
    try:
        token = jwt.decode(id_token, _key_set(metadata), algorithms=algorithms)
    except (JoseError, ValueError) as exc:
        raise FederationError(f"ID token signature invalid: {exc}") from exc
    claims = token.claims
    issuer = str(metadata["issuer"]).rstrip("/")
    if str(claims.get("iss", "")).rstrip("/") != issuer:
        raise FederationError(f"ID token from issuer {claims.get('iss')!r}, expected {issuer!r}")
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if provider.client_id not in audiences:
        raise FederationError(f"ID token for audience {audience!r}")
    if len(audiences) > 1 and claims.get("azp") != provider.client_id:
        raise FederationError("ID token with several audiences and a foreign azp")
    now = time.time()
    try:
        expires, issued = _seconds(claims["exp"]), _seconds(claims["iat"])
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise FederationError("ID token without exp/iat") from exc
    if expires < now - CLOCK_SKEW_SECONDS:
        raise FederationError("ID token expired")
    if issued > now + CLOCK_SKEW_SECONDS:
        raise FederationError("ID token issued in the future")
    try:
        authenticated = _seconds(claims["auth_time"])
    except (KeyError, TypeError, ValueError, OverflowError) as exc:
        raise FederationError("ID token without auth_time (max_age was requested)") from exc
    if authenticated < started_at.timestamp() - CLOCK_SKEW_SECONDS:
        raise FederationError("ID token for an earlier login (auth_time before the start)")
    # compared as bytes: compare_digest refuses str with non-ASCII characters (a TypeError)
    sent = str(claims.get("nonce", "")).encode("utf-8", "surrogatepass")
    if not nonce or not secrets.compare_digest(sent, nonce.encode("utf-8", "surrogatepass")):
        raise FederationError("ID token nonce does not match")
    subject = str(claims.get("sub") or "")
    if not subject:
        raise FederationError("ID token without sub")
    level = level_for_acr(provider, str(claims.get("acr") or ""))
    if level is None:
        raise FederationError(f"ID token with unknown acr {claims.get('acr')!r}")
    attributes: dict[str, str] = {}
    # a claim that is there but no text (a number, a list) is named, not guessed at
    unusable: list[str] = []
    mapping = {
        "given_name": "given_names",
        "family_name": "family_name",
        "birthdate": "birth_date",
        "email": "email",
    }
    for claim, name in mapping.items():
        if isinstance(claims.get(claim), str) and claims[claim]:
            attributes[name] = claims[claim]
        elif claims.get(claim) not in (None, ""):
            unusable.append(name)
    address = claims.get("address")
    if isinstance(address, dict):
        parts = {"street_address": "street", "postal_code": "postal_code", "locality": "place"}
        for part, name in parts.items():
            value = address.get(part)
            if not isinstance(value, str):
                if value not in (None, ""):
                    unusable.append(name)
            elif part == "street_address":
                attributes["street"], attributes["house_number"] = split_street(value)
            else:
                attributes[name] = value
    return ExternalIdentity(
        issuer=issuer,
        subject=subject,
        level=level,
        attributes=attributes,
        # OIDC has no per-claim levels: the claims carry the level of the login.
        attribute_levels=dict.fromkeys([*attributes, *unusable], level),
        email_verified=claims.get("email_verified") is True,
        unusable=unusable,
    )
