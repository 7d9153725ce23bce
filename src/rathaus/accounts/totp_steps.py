"""RFC 6238 § 5.2: a TOTP code is accepted once, and after it no code of the same or an
earlier time step.

allauth remembers a used code in the cache for one 30-second period, while the tolerance
(``MFA_TOTP_TOLERANCE = 1``) accepts it for three: a code seen over someone's shoulder would
work again a little later. Rathaus keeps the last accepted step counter in the authenticator's
``data`` and refuses every counter at or below it; the row lock makes two simultaneous logins
with the same code accept it once.
"""

from __future__ import annotations

import time
from typing import Any

from allauth.core.internal.cryptokit import compare_user_code
from allauth.mfa import app_settings
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    format_hotp_value,
    hotp_value,
    yield_hotp_counters_from_time,
)
from allauth.mfa.utils import decrypt
from django.db import transaction

#: Key in ``Authenticator.data`` of the last accepted time-step counter.
LAST_STEP_KEY = "rathaus_last_step"


def accept_code(authenticator: Authenticator, code: str) -> bool:
    """Whether ``code`` is right for a time step after the last accepted one; if so, that
    step becomes the last accepted."""
    with transaction.atomic():
        locked = Authenticator.objects.select_for_update().get(pk=authenticator.pk)
        secret = decrypt(locked.data["secret"])
        last = locked.data.get(LAST_STEP_KEY)
        for counter in yield_hotp_counters_from_time():
            if last is not None and counter <= int(last):
                continue
            expected = format_hotp_value(hotp_value(secret, counter))
            if compare_user_code(actual=code, expected=expected):
                locked.data[LAST_STEP_KEY] = counter
                locked.save(update_fields=["data"])
                authenticator.data = locked.data
                return True
    return False


def on_authenticator_added(sender: Any, authenticator: Any = None, **kwargs: Any) -> None:
    """Receiver of ``allauth.mfa.signals.authenticator_added``: the code that activated an
    authenticator app counts as used. Its time step is not known here, only that it was one the
    tolerance accepts now; the current step becomes the last accepted (a code of the next step,
    from a phone whose clock runs ahead, stays usable once)."""
    if authenticator is None or authenticator.type != Authenticator.Type.TOTP:
        return
    with transaction.atomic():
        locked = Authenticator.objects.select_for_update().get(pk=authenticator.pk)
        locked.data[LAST_STEP_KEY] = int(time.time()) // app_settings.TOTP_PERIOD
        locked.save(update_fields=["data"])
        authenticator.data = locked.data
