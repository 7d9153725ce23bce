"""django-allauth adapters: Rathaus' rules for logins and authenticators."""

from __future__ import annotations

import logging
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.base_user import AbstractBaseUser
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from rathaus.accounts.models import FederatedIdentity, Profile
from rathaus.accounts.recent_login import authenticated_recently
from rathaus.accounts.roles import is_staff_member

logger = logging.getLogger(__name__)


def _confirmed(user: Any, email: str) -> bool:
    from allauth.account.models import EmailAddress

    return EmailAddress.objects.filter(user=user, email__iexact=email, verified=True).exists()


class AccountAdapter(DefaultAccountAdapter):
    def send_password_reset_mail(self, user: Any, email: str, context: dict[str, Any]) -> None:
        """No reset link to an unconfirmed address of an account that logs in with a citizen
        account: that address was typed after the login and never confirmed, so a typo's owner
        could set a password and read the ID card's data. The citizen logs in with the citizen
        account (and may confirm the address first, then reset)."""
        if FederatedIdentity.objects.filter(user=user).exists() and not _confirmed(user, email):
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
        """A login within ``ACCOUNT_REAUTHENTICATION_TIMEOUT`` counts as a recent authentication.

        allauth by default asks again for the password even right after login (for instance
        before a newcomer adds a passkey); a fresh login proves the same.
        """
        if self.request is not None and authenticated_recently(self.request):
            return False
        return bool(super().is_reauthentication_required(app=app, **kwargs))

    def get_reauthentication_methods(self, user: Any) -> list[dict[str, Any]]:
        """An account without password and second factor confirms with its citizen account.

        Accounts created by a citizen-account login have neither; without this, allauth sends
        them to the login page, which sends a logged-in user straight back (no data export, no
        account deletion, no passkey).
        """
        methods: list[dict[str, Any]] = super().get_reauthentication_methods(user)
        if methods or not getattr(user, "is_authenticated", False):
            return methods
        if not FederatedIdentity.objects.filter(user_id=user.pk, provider__enabled=True).exists():
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
        """After login, show the pages in the language the citizen chose in the profile."""
        response = super().post_login(request, user, **kwargs)
        language = (
            Profile.objects.filter(user_id=user.pk)
            .values_list("preferred_language", flat=True)
            .first()
        )
        if language:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                language,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response


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
