"""Sensitive pages (data export, account deletion, setting a password, linking a citizen
account) need a login or re-authentication within the last few minutes
(``ACCOUNT_REAUTHENTICATION_TIMEOUT``); otherwise the account confirms first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from allauth.account import app_settings as allauth_account_settings
from allauth.account.authentication import get_authentication_records
from allauth.core.exceptions import ReauthenticationRequired
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode

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


#: Form fields whose values are secrets: a request that carries one is never kept in the session
#: to be replayed after the re-authentication (allauth's ``suspend_request`` would store it in
#: plain text).
SECRET_FIELDS = ("password", "password1", "password2", "oldpassword")


def carries_secret(request: HttpRequest) -> bool:
    return request.method == "POST" and any(request.POST.get(name) for name in SECRET_FIELDS)


def reauthentication_url(request: HttpRequest, next_url: str) -> str:
    """Where this account confirms a sensitive step (password, second factor or citizen
    account: the adapter's first method), returning to ``next_url``."""
    from allauth.account.adapter import get_adapter

    methods = get_adapter(request).get_reauthentication_methods(request.user)
    base = methods[0]["url"] if methods else reverse("account_login")
    return f"{base}?{urlencode({REDIRECT_FIELD_NAME: next_url})}"


def recent_authentication_required(
    view: Callable[..., HttpResponse],
) -> Callable[..., HttpResponse]:
    """Show and accept the page only after a recent login or re-authentication.

    A POST without secrets is replayed after the confirmation (allauth keeps it in the session);
    one that carries a password is not stored: the citizen confirms and comes back to the page.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if request.user.is_authenticated and not authenticated_recently(request):
            if carries_secret(request):
                return HttpResponseRedirect(reauthentication_url(request, request.path))
            raise ReauthenticationRequired()
        return view(request, *args, **kwargs)

    return wrapper
