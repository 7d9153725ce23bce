"""Deployment checks (``manage.py check --deploy``) for the documents module."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.checks import Warning as CheckWarning
from django.core.exceptions import ImproperlyConfigured


@register(Tags.security, deploy=True)
def seal_is_configured(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """Production needs a real seal: the demo seal is only generated outside production."""
    if not settings.PRODUCTION:
        return []
    from rathaus.documents.seal import seal_signer, seal_trust_roots

    errors = []
    for loader in (seal_signer, seal_trust_roots):
        try:
            loader()
        except ImproperlyConfigured as exc:
            errors.append(Error(str(exc), id="documents.E001"))
    return errors


@register(deploy=True)
def fonts_are_installed(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    from rathaus.documents.rendering import font_dir

    try:
        font_dir()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="documents.E002")]
    return []


@register(Tags.security, deploy=True)
def timestamps_can_be_checked(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """A time-stamping authority needs its trust roots: a stamp no root vouches for is refused
    when sealing (``seal_pdf``: nothing is issued) and judged not valid (``validate_seal``)."""
    if not getattr(settings, "DOCUMENTS_TSA_URL", ""):
        return []
    from rathaus.documents.seal import tsa_trust_roots

    try:
        roots = tsa_trust_roots()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="documents.E003")]
    if not roots:
        return [
            Error(
                "DOCUMENTS_TSA_URL is set but DOCUMENTS_TSA_TRUST_ROOTS names no PEM file with "
                "the time-stamping authority's CA certificates: its stamps are refused, so no "
                "document can be sealed.",
                id="documents.E003",
            )
        ]
    return []


@register(Tags.security, deploy=True)
def seal_can_be_validated_long_term(app_configs: Any = None, **kwargs: Any) -> list[CheckWarning]:
    """With ``DOCUMENTS_SEAL_LTV`` the seal embeds the revocation data its certificate points
    to; a certificate that points to none (no CRL distribution point, no OCSP responder) leaves
    a validator in years to come nothing to show it was not revoked."""
    if not settings.PRODUCTION or not getattr(settings, "DOCUMENTS_SEAL_LTV", False):
        return []
    from rathaus.documents.seal import seal_signer

    try:
        cert = seal_signer().signing_cert
    except ImproperlyConfigured:
        return []  # documents.E001 says why
    if cert is None or cert.crl_distribution_points or cert.ocsp_urls:
        return []
    return [
        CheckWarning(
            "The seal certificate names no CRL distribution point and no OCSP responder, so the "
            "seals carry no revocation data for long-term validation (DOCUMENTS_SEAL_LTV). A "
            "qualified seal certificate names them; check DOCUMENTS_SEAL_PKCS12.",
            id="documents.W004",
        )
    ]


@register(Tags.security, deploy=True)
def algorithm_sunsets_are_readable(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """``DOCUMENTS_ALGORITHM_SUNSETS`` must name known algorithms and dates; otherwise seals
    are checked (and archive time stamps renewed) by the built-in dates only."""
    from rathaus.documents.algorithms import AlgorithmSunsets

    try:
        AlgorithmSunsets.configured()
    except ImproperlyConfigured as exc:
        return [
            Error(
                f"{exc} Until corrected, seals are checked with the built-in sunset dates.",
                id="documents.E004",
            )
        ]
    return []
