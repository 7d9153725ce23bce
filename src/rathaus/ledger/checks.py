"""System checks: the GovChain signing keys in settings are usable and the log is published where
anyone can read it (caught at start, not at 3 am)."""

from __future__ import annotations

import sys
from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register()
def signing_keys_are_usable(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    from rathaus.ledger.keys import log_signers

    try:
        log_signers()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), hint="See docs/modules/ledger.md.", id="ledger.E001")]
    return []


@checks.register()
def log_is_published_for_anyone(
    app_configs: Any = None, **kwargs: Any
) -> list[checks.CheckMessage]:
    """The log is worth nothing if nobody can read it: S3 objects are private by default and
    S3Storage addresses them with signed URLs that expire."""
    from django.conf import settings
    from django.core.files.storage import InvalidStorageError

    from rathaus.ledger.publication import ledger_storage

    try:
        storage = ledger_storage()
    except InvalidStorageError as exc:
        return [
            checks.Error(str(exc), hint="LEDGER_STORAGE names a STORAGES alias.", id="ledger.E002")
        ]
    s3 = sys.modules.get("storages.backends.s3")  # imported if the storage is an S3Storage
    if s3 is None or not isinstance(storage, s3.S3Storage):
        return []
    if getattr(settings, "LEDGER_PUBLIC_URL", ""):
        return []  # the operator made the objects public (bucket policy) at that address
    public = sys.modules.get("rathaus.ledger.public_storage")
    is_public = public is not None and isinstance(storage, public.PublicLogS3Storage)
    if is_public and not storage.querystring_auth:
        return []
    return [
        checks.Warning(
            "The GovChain log is published to S3 as private objects behind signed URLs that "
            "expire: nobody can verify a document against it.",
            hint="Give the ledger storage the BACKEND rathaus.ledger.public_storage."
            "PublicLogS3Storage (public-read, unsigned addresses, Cache-Control), or allow "
            "anonymous reads with a bucket policy and set LEDGER_PUBLIC_URL to the address "
            "verifiers use. See docs/govchain.md.",
            id="ledger.W001",
        )
    ]
