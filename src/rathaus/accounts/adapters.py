"""django-allauth adapters: Rathaus' rules for logins and authenticators."""

from __future__ import annotations

import logging
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.internal.flows.reauthentication import get_reauthentication_flows
from allauth.core import context as allauth_context
from allauth.core.exceptions import ReauthenticationRequired
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.contrib import messages
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.sites.shortcuts import get_current_site
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from rathaus.accounts import account_mail, login_limits
from rathaus.accounts.language_cookie import set_language_cookie
from rathaus.accounts.models import FederatedIdentity, Profile
from rathaus.accounts.recent_login import authenticated_recently
from rathaus.accounts.roles import is_staff_member
from rathaus.accounts.selectors import unconfirmed_signups
from rathaus.accounts.services import confirm_login_address_after_reset
from rathaus.core.clients import client_key

logger = logging.getLogger(__name__)


def _confirmed(user: Any, email: str) -> bool:
    from allauth.account.models import EmailAddress

    return EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists()


def _unconfirmed_signup_login(user: Any, email: str) -> bool:
    return bool(
        str(user.email).casefold() == email.casefold()
        and unconfirmed_signups().filter(pk=user.pk).exists()
    )


def on_password_reset(sender: Any, request: HttpRequest | None = None, **kwargs: Any) -> None:
    """allauth's ``password_reset`` signal: a reset an unconfirmed sign-up's login address
    received confirms that address."""
    user = kwargs.get("user")
    if user is not None and user.pk is not None:
        confirm_login_address_after_reset(request=request, user=user)


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        """Every e-mail allauth sends (and ours through it): rendered here, in the request's
        language and with the request's objects, then queued; a job sends it
        (``accounts.account_mail``), so a mail server that is down or slow neither fails nor
        holds the request. As allauth's own ``send_mail`` otherwise."""
        request = allauth_context.request
        ctx = {"request": request, "email": email, "current_site": get_current_site(request)}
        ctx.update(context)
        message = self.render_mail(template_prefix, email, ctx)
        user = ctx.get("user")
        account_mail.queue(
            message=message,
            kind=template_prefix,
            user_id=getattr(user, "pk", None),
        )

    def send_password_reset_mail(self, user: Any, email: str, context: dict[str, Any]) -> None:
        """No reset link to an address the account has not confirmed, except the login
        address of an unconfirmed sign-up (``selectors.unconfirmed_signups``).

        An unconfirmed further address may be a stranger's (typed, or mistyped, into the
        account): a reset link there would hand the account over. A sign-up that never
        confirmed its address and never logged in holds nothing but that address, perhaps
        typed by someone else; without the link its owner could neither sign up nor get in.
        Completing the reset confirms the address (``services.confirm_login_address_after_reset``).
        The page the requester sees stays the same, so nobody learns whether the address
        belongs to an account."""
        if not _confirmed(user, email) and not _unconfirmed_signup_login(user, email):
            logger.info("password reset withheld: unconfirmed address", extra={"user": user.pk})
            return
        super().send_password_reset_mail(user, email, context)

    def confirm_email(self, request: HttpRequest, email_address: Any) -> bool:
        """An address of an account that logs in with a citizen account is confirmed only in a
        browser logged in to that account. The link reaches whoever owns the address that was
        typed; the owner of a typo must not confirm it (and then reset the password)."""
        user = getattr(request, "user", None)
        owner = email_address.user_id
        if (
            not (user is not None and user.is_authenticated and user.pk == owner)
            and FederatedIdentity.objects.filter(user_id=owner).exists()
        ):
            logger.info("e-mail confirmation refused: not logged in", extra={"user": owner})
            messages.error(
                request,
                _("Log in with your citizen account first, then open the confirmation link again."),
            )
            return False
        return bool(super().confirm_email(request, email_address))

    def is_reauthentication_required(self, *, app: str, **kwargs: Any) -> bool:
        """Our own rule (``recent_login.authenticated_recently``) for allauth's account and MFA
        pages: a login step within ``ACCOUNT_REAUTHENTICATION_TIMEOUT`` counts, whatever the
        account uses, and nothing else does.

        allauth asks again for the password even right after login (before a newcomer adds a
        passkey), and it treats an account without password and second factor as always
        re-authenticated. For such an account this method raises ``ReauthenticationRequired``
        itself (allauth would let it through), which sends it to the citizen-account
        confirmation (``get_reauthentication_methods``).
        """
        if not super().is_reauthentication_required(app=app, **kwargs):
            return False  # the app's setting (``ACCOUNT_REAUTHENTICATION_REQUIRED``) is off
        if self.request is None:
            return True
        if authenticated_recently(self.request):
            return False
        user = self.request.user
        if user.is_authenticated and not get_reauthentication_flows(user):
            raise ReauthenticationRequired()
        return True

    def get_reauthentication_methods(self, user: Any) -> list[dict[str, Any]]:
        """An account without password and second factor confirms with its citizen account.

        Accounts created by a citizen-account login have neither; without this, allauth sends
        them to the login page, which sends a logged-in user straight back (no data export, no
        account deletion, no passkey). When its citizen-account login is switched off, the
        same page explains how to set a password instead (``federation_views.reauthenticate``)
        — never the login page, which would send it back in a loop.
        """
        methods: list[dict[str, Any]] = super().get_reauthentication_methods(user)
        if methods or not getattr(user, "is_authenticated", False):
            return methods
        return [
            {
                "id": "citizen_account",
                "description": _("Use your citizen account"),
                "url": reverse("federation:reauthenticate"),
            }
        ]

    def post_login(
        self, request: HttpRequest, user: AbstractBaseUser, **kwargs: Any
    ) -> HttpResponse:
        """After login, show the pages in the language the citizen chose in the profile; without
        a choice (empty) the pages stay in the language they were browsing in."""
        response = super().post_login(request, user, **kwargs)
        language = (
            Profile.objects.filter(user_id=user.pk)
            .values_list("preferred_language", flat=True)
            .first()
        )
        if language:
            set_language_cookie(response, language)
        return response

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        """allauth's limits, then our own per-IP count of login attempts, which allauth's
        clearing of a key's bucket cannot wipe (``accounts/login_limits.py``)."""
        super().pre_authenticate(request, **credentials)
        self._rathaus_ip_usage = login_limits.consume_ip_login_attempt(request)
        if self._rathaus_ip_usage is None:
            raise self.validation_error("too_many_login_attempts")

    def _rollback_login_failed_rl_usage(self) -> None:
        """A correct password: the attempt counts neither in allauth's buckets nor in ours."""
        super()._rollback_login_failed_rl_usage()
        usage = getattr(self, "_rathaus_ip_usage", None)
        if usage is not None:
            usage.rollback()

    def _get_login_attempts_cache_key(self, request: HttpRequest, **credentials: Any) -> str:
        """The per-account login limit counts the login alone, normalised (stripped, lower
        case). allauth prefixes the site's domain, which without ``django.contrib.sites`` is
        the request's Host header: a port or other case would open a fresh bucket."""
        login = credentials.get("email", credentials.get("username", ""))
        return f"login:{str(login).strip().lower()}"

    def get_client_ip(self, request: HttpRequest) -> str:
        """The client as the rate limits count it (``core.clients.client_key``): an
        IPv4-mapped address from a dual-stack socket is its IPv4 address (allauth would count
        every such client as the one IPv6 /64 ``::ffff:0:0/64``)."""
        return client_key(super().get_client_ip(request))


class MFAAdapter(DefaultMFAAdapter):
    def can_delete_authenticator(self, authenticator: Authenticator) -> bool:
        """Staff keep at least one second factor (TOTP or passkey); citizens may remove all."""
        if authenticator.type == Authenticator.Type.RECOVERY_CODES:
            return True
        if not is_staff_member(authenticator.user):
            return True
        others = Authenticator.objects.filter(
            user_id=authenticator.user_id,
            type__in=(Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN),
        ).exclude(pk=authenticator.pk)
        return others.exists()
