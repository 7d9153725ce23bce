"""The published log is public: anyone can read its files, at an address without a signature,
and caches keep the checkpoint briefly and full tiles for good."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from storages.backends.s3 import S3Storage

from rathaus.core.models import Authority
from rathaus.ledger import services
from rathaus.ledger.checks import log_is_published_for_anyone
from rathaus.ledger.keys import verifier_keys
from rathaus.ledger.public_storage import PublicLogS3Storage
from rathaus.ledger.publication import log_url
from rathaus.ledger.sequencer import sequence
from rathaus.ledger.verify import directory_fetcher, verify

S3 = {"bucket_name": "govchain-bucket", "endpoint_url": "https://s3.example.test"}
# credentials are only needed to sign: the addresses of a public log are never signed
CREDENTIALS = {"access_key": "AKIAEXAMPLE", "secret_key": "example-secret"}


def _s3_ledger(settings: Any, backend: type[S3Storage], **options: Any) -> None:
    settings.STORAGES = {
        **settings.STORAGES,
        "ledger": {
            "BACKEND": f"{backend.__module__}.{backend.__qualname__}",
            "OPTIONS": {**S3, **CREDENTIALS, **options},
        },
    }
    settings.LEDGER_STORAGE = "ledger"


@pytest.mark.parametrize(
    ("name", "cache_control", "content_type"),
    [
        ("govchain/checkpoint", "public, max-age=5", "text/plain; charset=utf-8"),
        ("govchain/tile/0/x001/234", "public, max-age=31536000, immutable", None),
        ("govchain/tile/2/000", "public, max-age=31536000, immutable", None),
        ("govchain/tile/entries/000", "public, max-age=31536000, immutable", None),
        ("govchain/tile/0/001.p/44", "public, max-age=86400", None),
        ("govchain/tile/entries/001.p/44", "public, max-age=86400", None),
    ],
)
def test_objects_are_uploaded_public_with_their_cache_lifetime(
    name: str, cache_control: str, content_type: str | None
) -> None:
    """The parameters django-storages passes to S3 with every upload (PutObject)."""
    storage = PublicLogS3Storage(**S3, **CREDENTIALS)
    params = storage._get_write_parameters(name, ContentFile(b"data"))
    assert params == {
        "ACL": "public-read",
        "CacheControl": cache_control,
        "ContentType": content_type or "application/octet-stream",
    }


def test_a_bucket_policy_instead_of_object_acls_leaves_the_acl_out() -> None:
    storage = PublicLogS3Storage(**S3, **CREDENTIALS, default_acl=None)
    params = storage._get_write_parameters("govchain/checkpoint", ContentFile(b"data"))
    assert "ACL" not in params
    assert params["CacheControl"] == "public, max-age=5"


def test_the_log_url_of_a_public_bucket_carries_no_signature(settings: Any) -> None:
    _s3_ledger(settings, PublicLogS3Storage)
    assert log_url() == "https://s3.example.test/govchain-bucket/govchain/"
    assert log_is_published_for_anyone() == []


def test_a_private_bucket_is_reported_and_its_log_url_is_not_a_presigned_one(
    settings: Any,
) -> None:
    _s3_ledger(settings, S3Storage)
    assert log_url() == "https://s3.example.test/govchain-bucket/govchain/"
    assert [m.id for m in log_is_published_for_anyone()] == ["ledger.W001"]


def test_a_public_address_set_by_the_operator_is_the_log_url(settings: Any) -> None:
    _s3_ledger(settings, S3Storage)
    settings.LEDGER_PUBLIC_URL = "https://cdn.example.de/govchain"
    assert log_url() == "https://cdn.example.de/govchain/"
    assert log_is_published_for_anyone() == []  # the operator made it public (bucket policy)


def test_a_ledger_storage_that_does_not_exist_is_an_error(settings: Any) -> None:
    settings.LEDGER_STORAGE = "nowhere"
    assert [m.id for m in log_is_published_for_anyone()] == ["ledger.E002"]


# --- a local directory served by the application -------------------------------------------


@pytest.fixture
def served(settings: Any, published: Path) -> Path:
    middleware = list(settings.MIDDLEWARE)
    middleware.insert(
        middleware.index("whitenoise.middleware.WhiteNoiseMiddleware") + 1,
        "rathaus.ledger.serving.PublishedLogMiddleware",
    )
    settings.MIDDLEWARE = middleware
    return published


def _url_fetcher(client: Client) -> Any:
    def fetch(path: str) -> bytes | None:
        response = client.get(f"/media/govchain/{path}")
        if response.status_code == 404:
            return None
        assert response.status_code == 200, path
        return b"".join(response.streaming_content)  # type: ignore[attr-defined]

    return fetch


def test_the_log_served_from_a_directory_can_be_cached_by_anyone(
    authority: Authority, served: Path, client: Client
) -> None:
    for i in range(300):
        services.append(
            document=f"Bescheid {i}".encode(), document_type="notice", authority=authority
        )
    sequence()

    checkpoint = client.get("/media/govchain/checkpoint", HTTP_ACCEPT_LANGUAGE="en")
    assert checkpoint.status_code == 200
    assert checkpoint["Cache-Control"] == "public, max-age=5"
    assert checkpoint["Content-Type"] == "text/plain; charset=utf-8"
    assert checkpoint["Access-Control-Allow-Origin"] == "*"
    assert not checkpoint.has_header("Vary")  # one copy for every visitor, not one per cookie
    assert not checkpoint.cookies
    assert b"".join(checkpoint.streaming_content) == (served / "checkpoint").read_bytes()  # type: ignore[attr-defined]
    full = client.get("/media/govchain/tile/0/000")
    assert full["Cache-Control"] == "public, max-age=31536000, immutable"
    assert full["Content-Type"] == "application/octet-stream"
    assert not full.has_header("Vary")
    assert client.get("/media/govchain/tile/entries/001.p/44")["Cache-Control"] == (
        "public, max-age=86400"
    )
    sha = hashlib.sha256(b"Bescheid 299").hexdigest()
    report = verify(document_sha256=sha, fetch=_url_fetcher(client), verifier_keys=verifier_keys())
    assert report.status == "valid", report.message
    assert verify(
        document_sha256=sha, fetch=directory_fetcher(served), verifier_keys=verifier_keys()
    ).status == ("valid")


@pytest.mark.parametrize(
    "path",
    [
        "tile/0/999",  # no such file
        "tile/0",  # a directory
        "",
        ".checkpoint.0123456789abcdef.tmp",  # a publication's temporary file
        "tile/../checkpoint",
        "tile/0/%2e%2e/%2e%2e/checkpoint",
    ],
)
def test_nothing_but_the_logs_files_is_served(
    authority: Authority, served: Path, client: Client, path: str
) -> None:
    services.append(document=b"Bescheid", document_type="notice", authority=authority)
    sequence()
    (served / ".checkpoint.0123456789abcdef.tmp").write_text("half written")
    assert client.get(f"/media/govchain/{path}").status_code == 404
