"""A page of links to one view, reversed once: ``url_pattern(view, sample)`` → ``"/x/{}/"``.

List pages link every row to the same view with a different id; ``reverse()`` for each row
costs more than the rest of the row. :func:`url_pattern` reverses once with a sample argument
that no real id equals and returns a ``str.format`` pattern, so the URL configuration stays
the one source of the paths.
"""

from __future__ import annotations

import uuid
from functools import cache

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.urls import get_script_prefix, reverse

#: Sample arguments per converter: values that cannot occur in a real path by accident.
INT_SAMPLE = 987654321987
UUID_SAMPLE = uuid.UUID("0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0")


def url_pattern(viewname: str, sample: int | uuid.UUID) -> str:
    """The URL of ``viewname`` for ``sample`` with ``{}`` where the argument goes."""
    return _pattern(viewname, sample, get_script_prefix())


@cache
def _pattern(viewname: str, sample: int | uuid.UUID, _script_prefix: str) -> str:
    url = reverse(viewname, args=[sample])
    marker = str(sample)
    if url.count(marker) != 1:
        raise ValueError(f"{viewname}: the argument does not appear once in {url}")
    return url.replace(marker, "{}")


@receiver(setting_changed)
def _forget(**kwargs: object) -> None:
    if kwargs.get("setting") == "ROOT_URLCONF":
        _pattern.cache_clear()
