"""Deployment checks (``manage.py check --deploy``) for the records module."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, register
from django.core.exceptions import ImproperlyConfigured


@register(deploy=True)
def archive_timestamp_hash_is_strong(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """The hash that renews archive time stamps must be known and not itself listed weak;
    otherwise the daily job renews nothing (records/preservation.py)."""
    from rathaus.records.preservation import renewal_hash

    try:
        renewal_hash()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), id="records.E001")]
    return []
