"""Caching of rendered catalog pages, invalidated whenever catalog or tenancy data changes.

The cache key carries a version number that every save or delete of a service, responsibility,
life situation, municipality or authority bumps. With a shared cache (``CACHE_URL`` pointing to
Redis or Memcached) the invalidation reaches every process at once; with the default per-process
memory cache other processes see a change after :data:`TIMEOUT` seconds at the latest.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save

VERSION_KEY = "catalog:version"
TIMEOUT = 60


def version() -> str:
    value = cache.get(VERSION_KEY)
    if value is None:
        value = str(time.time_ns())
        cache.add(VERSION_KEY, value, None)
        value = cache.get(VERSION_KEY, value)
    return str(value)


def key(*parts: str) -> str:
    return ":".join(("catalog", version(), *parts))


def invalidate(**kwargs: Any) -> None:
    cache.set(VERSION_KEY, str(time.time_ns()), None)


def connect_signals() -> None:
    from rathaus.catalog.models import LifeSituation, Responsibility, Service
    from rathaus.core.models import Authority, Municipality

    for model in (Service, Responsibility, LifeSituation, Municipality, Authority):
        post_save.connect(invalidate, sender=model, dispatch_uid=f"catalog.cache.save.{model}")
        post_delete.connect(invalidate, sender=model, dispatch_uid=f"catalog.cache.del.{model}")
    m2m_changed.connect(
        invalidate, sender=Service.life_situations.through, dispatch_uid="catalog.cache.m2m"
    )
