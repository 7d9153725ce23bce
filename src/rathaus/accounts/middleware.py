"""Staff must use a second factor (DESIGN.md: /admin/ "staff with a second factor only").

A staff member without an authenticator is sent to the MFA setup pages and can use nothing else
until one exists. The admin site and the back office additionally require that this session was
authenticated with a second factor; otherwise the staff member confirms one (re-authentication).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cached_property

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from rathaus.accounts.roles import is_staff_member, session_staff_member
from rathaus.core.raw_sql import fetch_value, table

#: Paths that need a session authenticated with a second factor.
SECOND_FACTOR_SESSION_PATHS: tuple[str, ...] = ("/admin/", "/backoffice/")
#: The REST API gives no staff powers (public catalog, public verification, the schema:
#: docs/modules/api.md); a redirect to the MFA pages would only break its clients.
API_PATH = "/api/"
#: Factors that count: TOTP and WebAuthn (recovery codes only as a fallback to log in).
SETUP_TYPES = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


def has_second_factor(user: object) -> bool:
    """Whether ``user`` has set up a TOTP app or a passkey (asked on every staff request, so
    written as SQL: the ORM would spend about a millisecond building the same query)."""
    # Only the quoted table name goes into the text.
    sql = f"SELECT 1 FROM {table(Authenticator)} WHERE user_id = %s AND type IN (%s, %s) LIMIT 1"  # noqa: S608
    return fetch_value(sql, [getattr(user, "pk", None), *SETUP_TYPES]) is not None


def session_used_second_factor(request: HttpRequest) -> bool:
    """True if this session's login (or a later re-authentication) used a second factor."""
    return any(
        record.get("method") == "mfa"
        for record in get_authentication_records(request, request.user)
    )


class StaffSecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    @cached_property
    def exempt_prefixes(self) -> tuple[str, ...]:
        """Pages a staff member needs while setting up a factor: MFA pages, logout, assets; and
        the API, which is no page (``API_PATH``)."""
        return (
            reverse("mfa_index"),
            reverse("account_logout"),
            reverse("account_reauthenticate"),
            reverse("set_language"),
            settings.STATIC_URL or "/static/",
            API_PATH,
        )

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._staff(request) and not request.path.startswith(self.exempt_prefixes):
            if not has_second_factor(request.user):
                messages.warning(
                    request,
                    _(
                        "Staff accounts must use a second factor. Please set up an "
                        "authenticator app or a passkey first."
                    ),
                )
                return HttpResponseRedirect(reverse("mfa_index"))
            if request.path.startswith(SECOND_FACTOR_SESSION_PATHS) and not (
                session_used_second_factor(request)
            ):
                return HttpResponseRedirect(self._confirm_url(request))
        return self.get_response(request)

    @staticmethod
    def _staff(request: HttpRequest) -> bool:
        """Staff or not: asked afresh on the admin site and back office, elsewhere the answer
        remembered in the session (roles.session_staff_member) saves a query per request."""
        if request.path.startswith(SECOND_FACTOR_SESSION_PATHS):
            return is_staff_member(request.user)
        return session_staff_member(request)

    def _confirm_url(self, request: HttpRequest) -> str:
        has_totp = Authenticator.objects.filter(
            user_id=request.user.pk, type=Authenticator.Type.TOTP
        ).exists()
        name = "mfa_reauthenticate" if has_totp else "mfa_reauthenticate_webauthn"
        return f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}"
