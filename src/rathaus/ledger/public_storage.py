"""An S3 storage for the published log: anyone may read it, each file cached as long as it may.

Configure it as the ledger's storage (``STORAGES["ledger"]``, docs/govchain.md)::

    "ledger": {
        "BACKEND": "rathaus.ledger.public_storage.PublicLogS3Storage",
        "OPTIONS": {"bucket_name": "govchain", "endpoint_url": "https://s3.example.de"},
    }

Objects are written with the ACL ``public-read``; on a bucket whose ACLs are switched off
(S3 Object Ownership "bucket owner enforced") give ``"default_acl": None`` and let a bucket
policy allow anonymous ``s3:GetObject`` on the log's prefix. Addresses carry no signature
(``querystring_auth`` off), so ``publication.log_url()`` is an address that does not expire.
"""

from __future__ import annotations

from typing import Any

from storages.backends.s3 import S3Storage

from rathaus.ledger.publication import cache_control, content_type


class PublicLogS3Storage(S3Storage):
    """S3Storage for tiles, entry bundles and the checkpoint: public, unsigned, cacheable."""

    default_acl = "public-read"
    querystring_auth = False
    file_overwrite = True  # a file is replaced in one request, never deleted first

    def get_object_parameters(self, name: str) -> dict[str, Any]:
        """Per object: a short ``Cache-Control`` for the checkpoint, a long one for tiles and
        bundles, and the content type (``AWS_S3_OBJECT_PARAMETERS`` may add more)."""
        params: dict[str, Any] = super().get_object_parameters(name)
        control = cache_control(name)
        if control is not None:
            params.setdefault("CacheControl", control)
        params.setdefault("ContentType", content_type(name))
        return params
