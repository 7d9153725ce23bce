"""Deployment checks of the shared infrastructure (``manage.py check --deploy``)."""

from __future__ import annotations

from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Tags, register
from django.core.checks import Warning as CheckWarning

#: Caches each process keeps for itself, and the one that keeps nothing.
PROCESS_LOCAL_CACHES = {"django.core.cache.backends.locmem.LocMemCache"}
NO_CACHES = {"django.core.cache.backends.dummy.DummyCache"}


@register(deploy=True)
def sender_is_not_localhost(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """Mail from "noreply@localhost" (the default) is rejected or filed as spam by most
    receiving servers: the confirmation links and notices would not arrive."""
    if not settings.PRODUCTION:
        return []
    _local, at, domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")
    domain = domain.strip().lower()
    if at and domain and domain != "localhost" and not domain.endswith(".localhost"):
        return []
    return [
        CheckWarning(
            f"DEFAULT_FROM_EMAIL is {settings.DEFAULT_FROM_EMAIL!r}: no sender address of a "
            "real domain, whose mail most receiving servers refuse.",
            hint="Set DEFAULT_FROM_EMAIL to an address of your domain, e.g. "
            '"Bürgerportal <noreply@portal.example.de>" (docs/operations.md).',
            id="core.W001",
        )
    ]


@register(Tags.security, deploy=True)
def cache_is_shared(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    """The rate limits (login, sign-up, verification, catalog API) count in the cache: one each
    process keeps for itself divides them by the number of web processes."""
    if not settings.PRODUCTION:
        return []
    backend = settings.CACHES["default"]["BACKEND"]
    if backend in PROCESS_LOCAL_CACHES:
        return [
            CheckWarning(
                f"The cache ({backend}) is kept by each process for itself: every granian "
                "worker counts the rate limits on its own.",
                hint="Set CACHE_URL to a shared cache, e.g. redis://127.0.0.1:6379/0 "
                "(docs/operations.md, Rate limits and caches).",
                id="core.W002",
            )
        ]
    if backend in NO_CACHES:
        return [
            CheckWarning(
                f"The cache ({backend}) keeps nothing: no rate limit counts anything.",
                hint="Set CACHE_URL to a shared cache, e.g. redis://127.0.0.1:6379/0 "
                "(docs/operations.md, Rate limits and caches).",
                id="core.W003",
            )
        ]
    return []
