"""SAML 2.0 service provider in the BundID profile, on pysaml2 (signatures by Debian's xmlsec1).

The AuthnRequest carries ``RequestedAuthnContext Comparison="minimum"`` with the STORK-QAA level
and the AKDB extension (``akdb:AuthenticationRequest`` Version 2: the allowed login means and the
requested attributes). It is signed and sent by the HTTP Redirect binding; the answer comes by
HTTP POST to the assertion consumer service. pysaml2 checks the assertion's signature against the
IdP's metadata, the audience, the recipient and destination, the validity window and that the
response answers our request (no unsolicited responses); the caller checks that the request is
still open (replays) and the trust levels.
"""

from __future__ import annotations

import datetime
import logging
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError
from xml.sax.saxutils import quoteattr

import httpx
from django.conf import settings
from django.core.cache import cache
from django.urls import reverse
from saml2 import (
    BINDING_HTTP_POST,
    BINDING_HTTP_REDIRECT,
    SAMLError,
    extension_element_from_string,
)
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAMEID_FORMAT_TRANSIENT, AuthnContextClassRef
from saml2.samlp import Extensions, RequestedAuthnContext
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from rathaus.accounts import trust
from rathaus.accounts.external_identity import ExternalIdentity, FederationError, split_street
from rathaus.accounts.models import IdentityProvider

logger = logging.getLogger(__name__)

AKDB_NS = "https://www.akdb.de/request/2018/09"
METADATA_CACHE_SECONDS = 3600
#: Clock difference tolerated between the IdP and us (assertion times, AuthnInstant).
CLOCK_SKEW_SECONDS = 60

# Attribute OIDs of the BundID profile (REFERENCE.md).
BPK2 = "urn:oid:1.3.6.1.4.1.25484.494450.3"
QAA_LEVEL = "urn:oid:1.2.40.0.10.2.1.1.261.94"
PROFILE_ATTRIBUTES = {
    "urn:oid:2.5.4.42": "given_names",
    "urn:oid:2.5.4.4": "family_name",
    "urn:oid:1.2.40.0.10.2.1.1.55": "birth_date",
    "urn:oid:0.9.2342.19200300.100.1.3": "email",
    "urn:oid:2.5.4.16": "street_address",
    "urn:oid:2.5.4.17": "postal_code",
    "urn:oid:2.5.4.7": "place",
}
DEFAULT_REQUESTED = [BPK2, *PROFILE_ATTRIBUTES, QAA_LEVEL]
# The AKDB login means for each minimum level (username/password; ELSTER; online ID card).
AUTHN_METHODS = {
    trust.Level.LOW: ("Benutzername", "Elster", "eID"),
    trust.Level.SUBSTANTIAL: ("Elster", "eID"),
    trust.Level.HIGH: ("eID",),
}
ALL_METHODS = ("Benutzername", "Elster", "eID")


def sp_key_pair() -> tuple[str, str]:
    """The SP's signing key and certificate (PEM files).

    ``SAML_SP_KEY_FILE``/``SAML_SP_CERT_FILE`` in production; demo and test installations make
    their own under ``VAR_DIR/saml/``.
    """
    key_file = getattr(settings, "SAML_SP_KEY_FILE", "")
    cert_file = getattr(settings, "SAML_SP_CERT_FILE", "")
    if key_file and cert_file:
        return key_file, cert_file
    if getattr(settings, "PRODUCTION", False):
        raise FederationError("SAML_SP_KEY_FILE and SAML_SP_CERT_FILE are not configured")
    directory = Path(settings.VAR_DIR) / "saml"
    key_path, cert_path = directory / "sp.key", directory / "sp.crt"
    if not (key_path.exists() and cert_path.exists()):
        directory.mkdir(parents=True, exist_ok=True)
        _write_self_signed(key_path, cert_path)
    return str(key_path), str(cert_path)


def _write_self_signed(key_path: Path, cert_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    # 2048 bits for local keys: loading a key costs ~0.5 s at 3072. Production keys (BSI TR-02102:
    # RSA >= 3000 bits) come from SAML_SP_KEY_FILE.
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Rathaus SAML SP (local)")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .sign(key, hashes.SHA256())
    )
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def _absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def entity_id(provider: IdentityProvider) -> str:
    return _absolute(reverse("federation:saml_metadata", args=[provider.slug]))


def acs_url(provider: IdentityProvider) -> str:
    return _absolute(reverse("federation:saml_acs", args=[provider.slug]))


def idp_metadata(provider: IdentityProvider) -> str:
    """The IdP's metadata: pasted in the admin, or fetched from its URL (cached for an hour)."""
    if not provider.metadata_url:
        if not provider.metadata_xml.strip():
            raise FederationError("no IdP metadata configured")
        return provider.metadata_xml
    key = _metadata_cache_key(provider)
    cached = cache.get(key)
    if cached:
        return str(cached)
    try:
        response = httpx.get(provider.metadata_url, timeout=10, follow_redirects=False)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise FederationError(f"IdP metadata not reachable: {exc}") from exc
    cache.set(key, response.text, METADATA_CACHE_SECONDS)
    return response.text


def _metadata_cache_key(provider: IdentityProvider) -> str:
    return f"accounts:saml-metadata:{provider.pk}:{provider.metadata_url}"


#: What pysaml2 raises for metadata it cannot use (not XML, no entity, broken certificate).
METADATA_ERRORS = (SAMLError, ParseError, ValueError, KeyError, TypeError, AttributeError)


def _config(provider: IdentityProvider, *, with_idp: bool = True) -> SPConfig:
    """pysaml2's configuration; unusable IdP metadata is a FederationError (the 503 page), and
    fetched metadata that cannot be read is not kept in the cache."""
    key_file, cert_file = sp_key_pair()
    conf: dict[str, Any] = {
        "entityid": entity_id(provider),
        "key_file": key_file,
        "cert_file": cert_file,
        "encryption_keypairs": [{"key_file": key_file, "cert_file": cert_file}],
        "xmlsec_binary": getattr(settings, "SAML_XMLSEC_BINARY", "/usr/bin/xmlsec1"),
        "accepted_time_diff": CLOCK_SKEW_SECONDS,
        "allow_unknown_attributes": True,
        "service": {
            "sp": {
                "name": "Rathaus",
                "endpoints": {
                    "assertion_consumer_service": [(acs_url(provider), BINDING_HTTP_POST)]
                },
                "authn_requests_signed": True,
                "want_assertions_signed": True,
                "want_response_signed": False,
                "allow_unsolicited": False,
                "signing_algorithm": SIG_RSA_SHA256,
                "digest_algorithm": DIGEST_SHA256,
                "name_id_format": [NAMEID_FORMAT_TRANSIENT],
            }
        },
    }
    if with_idp:
        conf["metadata"] = {"inline": [idp_metadata(provider)]}
    config = SPConfig()
    try:
        config.load(conf)
    except METADATA_ERRORS as exc:
        cache.delete(_metadata_cache_key(provider))
        raise FederationError(f"IdP metadata unusable: {type(exc).__name__}: {exc}") from exc
    return config


def requested_attributes(provider: IdentityProvider) -> list[str]:
    return [str(oid) for oid in provider.requested_attributes] or DEFAULT_REQUESTED


def _idp_entity_id(provider: IdentityProvider, client: Saml2Client) -> str:
    if provider.idp_entity_id:
        return provider.idp_entity_id
    idps = list(client.metadata.identity_providers())
    if len(idps) != 1:
        raise FederationError(f"metadata holds {len(idps)} IdPs; set the IdP entity ID")
    return str(idps[0])


def akdb_extension(*, level: str, attributes: list[str]) -> str:
    """``akdb:AuthenticationRequest`` (Version 2): allowed login means and requested attributes."""
    allowed = AUTHN_METHODS[trust.Level(level)]
    methods = "".join(
        f"<akdb:{name}><akdb:Enabled>{'true' if name in allowed else 'false'}</akdb:Enabled>"
        f"</akdb:{name}>"
        for name in ALL_METHODS
    )
    requested = "".join(
        f"<akdb:RequestedAttribute Name={quoteattr(oid)} "
        f'RequiredAttribute="{str(oid == BPK2).lower()}"/>'
        for oid in attributes
    )
    return (
        f'<akdb:AuthenticationRequest xmlns:akdb="{AKDB_NS}" Version="2">'
        f"<akdb:AuthnMethods>{methods}</akdb:AuthnMethods>"
        f"<akdb:RequestedAttributes>{requested}</akdb:RequestedAttributes>"
        "</akdb:AuthenticationRequest>"
    )


def authn_request(provider: IdentityProvider, *, level: str, relay_state: str) -> tuple[str, str]:
    """A signed AuthnRequest for at least ``level``: (request ID, URL to send the browser to)."""
    config = _config(provider)
    try:
        return _authn_request(config, provider, level=level, relay_state=relay_state)
    except METADATA_ERRORS as exc:
        raise FederationError(f"IdP metadata unusable: {type(exc).__name__}: {exc}") from exc


def _authn_request(
    config: SPConfig, provider: IdentityProvider, *, level: str, relay_state: str
) -> tuple[str, str]:
    client = Saml2Client(config=config)
    extension = extension_element_from_string(
        akdb_extension(level=level, attributes=requested_attributes(provider))
    )
    request_id, info = client.prepare_for_authenticate(
        entityid=_idp_entity_id(provider, client),
        relay_state=relay_state,
        binding=BINDING_HTTP_REDIRECT,
        sign=True,
        sigalg=SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA256,
        extensions=Extensions(extension_elements=[extension]),
        requested_authn_context=RequestedAuthnContext(
            authn_context_class_ref=[
                AuthnContextClassRef(text=trust.STORK_BY_LEVEL[trust.Level(level)])
            ],
            comparison="minimum",
        ),
        force_authn="true",
    )
    location = dict(info["headers"])["Location"]
    return str(request_id), str(location)


def sp_metadata(provider: IdentityProvider) -> str:
    """Our metadata for the IdP: entity ID, ACS, signing certificate, requested attributes."""
    config = _config(provider, with_idp=False)
    return create_metadata_string(None, config=config, valid=24 * 30, sign=False).decode()


def read_response(
    provider: IdentityProvider,
    *,
    saml_response: str,
    request_id: str,
    started_at: datetime.datetime,
) -> tuple[ExternalIdentity, str]:
    """Check the IdP's answer to ``request_id``, sent at ``started_at``: (the identity, the
    assertion's ID). We ask for a fresh login (``ForceAuthn``): an assertion whose
    ``AuthnInstant`` lies before the request is an earlier session's login and is refused."""
    client = Saml2Client(config=_config(provider))
    try:
        response = client.parse_authn_request_response(
            saml_response, BINDING_HTTP_POST, outstanding={request_id: "login"}
        )
    except Exception as exc:  # pysaml2 raises a dozen unrelated types for bad input
        raise FederationError(f"response refused by pysaml2: {type(exc).__name__}: {exc}") from exc
    if response is None or response.assertion is None:
        # pysaml2 answers None when the Destination or the SubjectConfirmation's Recipient is
        # not our ACS, or no assertion satisfied the conditions.
        raise FederationError("response refused by pysaml2: no usable assertion for our ACS")
    if response.in_response_to != request_id:
        raise FederationError("response answers another request")
    assertion = response.assertion
    if assertion.signature is None:
        raise FederationError("assertion is not signed")
    issuer = (assertion.issuer.text or "").strip() if assertion.issuer is not None else ""
    if issuer != _idp_entity_id(provider, client):
        raise FederationError(f"assertion from unexpected issuer {issuer!r}")
    values: dict[str, str] = {}
    levels: dict[str, str | None] = {}
    for statement in assertion.attribute_statement:
        for attribute in statement.attribute:
            texts = [(v.text or "").strip() for v in attribute.attribute_value]
            if not texts or not texts[0]:
                continue
            values[attribute.name] = texts[0]
            marks = [attribute.extension_attributes.get(f"{{{AKDB_NS}}}TrustLevel")] + [
                v.extension_attributes.get(f"{{{AKDB_NS}}}TrustLevel")
                for v in attribute.attribute_value
            ]
            mark = next((m for m in marks if m), None)
            levels[attribute.name] = trust.from_akdb(mark) if mark else None
    subject = values.get(BPK2, "")
    if not subject:
        raise FederationError("assertion without bPK2")
    reached = [
        trust.from_stork(ref)
        for ref in _authn_context_refs(assertion)
        if trust.from_stork(ref) is not None
    ]
    if not reached:
        raise FederationError("assertion without a known STORK-QAA level")
    _check_fresh(assertion, started_at)
    if values.get(QAA_LEVEL):
        qaa = trust.from_stork(values[QAA_LEVEL])
        if qaa is None:
            raise FederationError(f"unknown EID-CITIZEN-QAA-LEVEL {values[QAA_LEVEL]!r}")
        reached.append(qaa)
    level = trust.lowest([str(r) for r in reached])
    attributes: dict[str, str] = {}
    attribute_levels: dict[str, str | None] = {}
    for oid, name in PROFILE_ATTRIBUTES.items():
        if oid not in values:
            continue
        if name == "street_address":
            attributes["street"], attributes["house_number"] = split_street(values[oid])
            attribute_levels["street"] = attribute_levels["house_number"] = levels.get(oid)
        else:
            attributes[name] = values[oid]
            attribute_levels[name] = levels.get(oid)
    identity = ExternalIdentity(
        issuer=issuer,
        subject=subject,
        level=level,
        attributes=attributes,
        attribute_levels=attribute_levels,
    )
    return identity, str(assertion.id)


def _check_fresh(assertion: Any, started_at: datetime.datetime) -> None:
    """Every AuthnStatement's instant lies after the request was sent (less the clock skew)."""
    earliest = started_at - datetime.timedelta(seconds=CLOCK_SKEW_SECONDS)
    if not assertion.authn_statement:
        raise FederationError("assertion without an AuthnStatement")
    for statement in assertion.authn_statement:
        try:
            instant = datetime.datetime.fromisoformat(str(statement.authn_instant or ""))
        except ValueError as exc:
            raise FederationError(f"AuthnInstant {statement.authn_instant!r} unreadable") from exc
        if instant.tzinfo is None:  # xs:dateTime in SAML is UTC
            instant = instant.replace(tzinfo=datetime.UTC)
        if instant < earliest:
            raise FederationError("assertion for an earlier login (AuthnInstant too early)")


def _authn_context_refs(assertion: Any) -> list[str]:
    refs = []
    for statement in assertion.authn_statement:
        context = statement.authn_context
        if context is not None and context.authn_context_class_ref is not None:
            refs.append((context.authn_context_class_ref.text or "").strip())
    return refs
