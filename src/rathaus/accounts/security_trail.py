"""Changes to how an account logs in go into the audit trail, and a confirmed second factor
gives the session a new key.

allauth announces each change by a signal (``allauth.account.signals``,
``allauth.mfa.signals``); :func:`connect` (from ``AccountsConfig.ready``) subscribes. The events
name the kind of change and the account only — never a password, secret, code or address: the
trail outlives the account.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from rathaus.core import audit

#: allauth's account signal → audit action.
ACCOUNT_ACTIONS = {
    "password_changed": "accounts.password.changed",
    "password_set": "accounts.password.set",
    "password_reset": "accounts.password.reset",
    "email_added": "accounts.email.added",
    "email_removed": "accounts.email.removed",
    "email_changed": "accounts.email.primary_changed",
    "email_confirmed": "accounts.email.confirmed",
}
#: allauth's MFA signal → the verb of the audit action ``accounts.mfa.<type>.<verb>``.
MFA_VERBS = {
    "authenticator_added": "added",
    "authenticator_removed": "removed",
    "authenticator_reset": "reset",
}


def _account_receiver(action: str) -> Any:
    def receive(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
        user = kwargs.get("user")
        if user is None and kwargs.get("email_address") is not None:
            user = kwargs["email_address"].user
        if user is None or user.pk is None:
            return
        audit.record(actor=user, action=action, obj=user)
        if action == ACCOUNT_ACTIONS["email_confirmed"]:
            from rathaus.accounts.services import drop_unconfirmed_claims

            drop_unconfirmed_claims(email=kwargs["email_address"].email, owner=user)

    return receive


def _mfa_receiver(verb: str) -> Any:
    def receive(sender: Any, user: Any = None, authenticator: Any = None, **kwargs: Any) -> None:
        if user is None or authenticator is None:
            return
        audit.record(actor=user, action=f"accounts.mfa.{authenticator.type}.{verb}", obj=user)

    return receive


def cycle_session_key_after_second_factor(
    sender: Any, request: HttpRequest, method: str = "", **kwargs: Any
) -> None:
    """A session that gained a second factor (at login or re-authentication, which opens the
    admin and the back office to staff) gets a new key: a key known before is worth nothing."""
    if method == "mfa" and hasattr(request, "session"):
        request.session.cycle_key()


def connect() -> None:
    from allauth.account import signals as account_signals
    from allauth.mfa import signals as mfa_signals

    for name, action in ACCOUNT_ACTIONS.items():
        getattr(account_signals, name).connect(
            _account_receiver(action), weak=False, dispatch_uid=f"rathaus-audit-{name}"
        )
    for name, verb in MFA_VERBS.items():
        getattr(mfa_signals, name).connect(
            _mfa_receiver(verb), weak=False, dispatch_uid=f"rathaus-audit-{name}"
        )
    account_signals.authentication_step_completed.connect(
        cycle_session_key_after_second_factor, dispatch_uid="rathaus-mfa-cycle-session-key"
    )
