"""Limits on failed logins beside allauth's own (``ACCOUNT_RATE_LIMITS["login_failed"]``).

allauth keeps one IP bucket and one bucket per key for ``login_failed``. Whenever it clears a
key's bucket (a correct second-factor code, a correct passkey, a password reset), its
``ratelimit.clear`` deletes the IP bucket with it: whoever guesses passwords at other accounts
would get a fresh allowance from one correct login to their own. So the second-factor step
counts only the account's own bucket, and the per-IP count of failed logins is kept a second
time under our own name, which allauth never clears.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from allauth.account import app_settings as account_settings
from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.core import context
from allauth.core.internal import ratelimit
from django.http import HttpRequest

#: The ``app`` part of our buckets' cache keys (allauth's are "allauth.account").
APP = "rathaus.accounts"


def _login_failed_limits(per: str) -> str:
    """The rates of ``ACCOUNT_RATE_LIMITS["login_failed"]`` counted ``per`` "ip" or "key"."""
    configured = account_settings.RATE_LIMITS.get("login_failed") or ""
    parts = [part.strip() for part in configured.split(",") if part.strip()]
    return ",".join(part for part in parts if ratelimit.parse_rate(part).per == per)


def check_second_factor_limit(user: Any) -> Callable[[], None]:
    """Count one second-factor attempt of ``user`` in the account's own bucket; refuse it when
    there were too many. Returns what to call after a correct code: it clears that bucket only
    (allauth's ``check_rate_limit`` would count and clear the IP bucket too)."""
    request = context.request
    key = f"mfa-auth-user-{user.pk}"
    config = {"login_failed": _login_failed_limits("key")}
    if not ratelimit.consume(
        request, app="allauth.account", action="login_failed", config=config, key=key
    ):
        raise get_account_adapter().validation_error("too_many_login_attempts")

    def clear() -> None:
        ratelimit.clear(
            request, app="allauth.account", action="login_failed", config=config, key=key
        )

    return clear


def consume_ip_login_attempt(request: HttpRequest) -> ratelimit.RateLimitUsage | None:
    """Count one password login attempt of this client in our own IP bucket; None when there
    were too many. The caller rolls the usage back after a correct password."""
    return ratelimit.consume(
        request,
        app=APP,
        action="login_failed",
        config={"login_failed": _login_failed_limits("ip")},
    )
