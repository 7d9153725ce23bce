"""System check: the GovChain signing keys in settings are usable (caught at start, not at 3 am)."""

from __future__ import annotations

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
