"""Counting events in Django's cache: rate limits and attempt limits of several modules.

The caller chooses the key (and puts a time window into it where it counts per window); with a
cache shared by all processes (``CACHE_URL``) the counts hold across them.
"""

from __future__ import annotations

from django.core.cache import cache


def hit(key: str, *, timeout: int) -> int:
    """Count one event under ``key``, kept ``timeout`` seconds from its first event; returns
    the number of events counted, this one included."""
    if cache.add(key, 1, timeout=timeout):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=timeout)
        return 1


def hits(key: str) -> int:
    """The events counted under ``key`` so far (without counting one)."""
    return int(cache.get(key, 0))
