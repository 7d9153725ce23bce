"""Sensitive pages (data export, account deletion) need a login or re-authentication within the
last few minutes (``ACCOUNT_REAUTHENTICATION_TIMEOUT``); otherwise allauth asks to confirm.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from allauth.account import app_settings as allauth_account_settings
from allauth.account.authentication import get_authentication_records
from allauth.core.exceptions import ReauthenticationRequired
from django.http import HttpRequest, HttpResponse

from rathaus.accounts.federation import CITIZEN_ACCOUNT_METHOD
from rathaus.accounts.middleware import has_second_factor


def authenticated_recently(request: HttpRequest) -> bool:
    """True if this session's last login step lies within the timeout.

    Any method counts, except a citizen-account login for an account that has a second factor:
    such an account confirms with its password or second factor (a citizen-account login skips
    the second factor, so it must not unlock managing it)."""
    records = get_authentication_records(request, request.user)
    if records and has_second_factor(request.user):
        records = [r for r in records if r.get("method") != CITIZEN_ACCOUNT_METHOD]
    if not records:
        return False
    last = max(float(record.get("at", 0)) for record in records)
    return time.time() - last < allauth_account_settings.REAUTHENTICATION_TIMEOUT


def recent_authentication_required(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """Let allauth ask for the password (or a passkey/TOTP) and then replay the request."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.method == "POST" and not authenticated_recently(request):
            raise ReauthenticationRequired()
        return view(request, *args, **kwargs)

    return wrapper
