"""Deployment checks (``manage.py check --deploy``) for the records module."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, register
from django.core.checks import Warning as CheckWarning
from django.core.exceptions import ImproperlyConfigured


@register(deploy=True)
def archive_timestamp_hash_is_strong(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """The hash that renews archive time stamps must be known and not itself listed weak, and
    ``RECORDS_WEAK_HASH_ALGORITHMS`` readable (names, as a list or a comma-separated string);
    otherwise the daily job renews nothing (records/preservation.py)."""
    from rathaus.records.preservation import renewal_hash

    try:
        renewal_hash()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="records.E001")]
    return []


@register(deploy=True)
def weak_signature_settings_are_sound(
    app_configs: Any = None, **kwargs: Any
) -> list[Error | CheckWarning]:
    """``RECORDS_WEAK_SIGNATURE_ALGORITHMS`` must be readable (known names, as a list or a
    comma-separated string), or the daily job renews nothing, and so must the minimum key
    lengths, whose defaults apply meanwhile (records.E002); lengths below the BSI's
    recommendation (TR-02102-1) leave stamps on such keys unrenewed for their key
    (records.W001)."""
    from rathaus.records.preservation import (
        DEFAULT_MIN_EC_KEY_BITS,
        DEFAULT_MIN_RSA_KEY_BITS,
        min_key_bits,
        weak_signature_algorithms,
    )

    try:
        weak_signature_algorithms()
    except ImproperlyConfigured as exc:
        return [
            Error(f"{exc} No archive time stamp is renewed until corrected.", id="records.E002")
        ]
    try:
        bits = min_key_bits()
    except ImproperlyConfigured as exc:
        return [
            Error(
                f"{exc} Until corrected, the default applies ({DEFAULT_MIN_RSA_KEY_BITS} bits "
                f"for RSA and DSA, {DEFAULT_MIN_EC_KEY_BITS} for EC).",
                id="records.E002",
            )
        ]
    if bits["rsa"] >= DEFAULT_MIN_RSA_KEY_BITS and bits["ec"] >= DEFAULT_MIN_EC_KEY_BITS:
        return []
    return [
        CheckWarning(
            f"RECORDS_MIN_RSA_KEY_BITS={bits['rsa']} and RECORDS_MIN_EC_KEY_BITS={bits['ec']} "
            f"are below what BSI TR-02102-1 recommends ({DEFAULT_MIN_RSA_KEY_BITS} bits for RSA "
            f"and DSA, {DEFAULT_MIN_EC_KEY_BITS} for EC): archive time stamps on shorter TSA "
            "keys are not renewed for their key until its sunset comes near "
            "(DOCUMENTS_ALGORITHM_SUNSETS). A TSA on a shorter key does not call for it: the "
            "daily job renews the stamps that would lapse with it all the same, and warns.",
            id="records.W001",
        )
    ]
