"""Who may use the back office, and in which role.

Roles are Django groups (``accounts.roles``). Which cases a person sees is decided in one place,
``casework.selectors.cases_visible_to``; the views here only ask for a role where an action is
reserved to one (a team lead assigns to others and sees unit statistics).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from allauth.mfa.models import Authenticator
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.http import urlencode

from rathaus.accounts.middleware import has_second_factor, session_used_second_factor
from rathaus.accounts.models import User
from rathaus.accounts.roles import (
    ADMINISTRATOR,
    CLERK,
    PLANNER,
    TEAM_LEAD,
    is_staff_member,
    staff_groups,
)
from rathaus.casework.permissions import staff_scope

#: The groups that work cases in the back office (the planner only sees /rettungsdienst/).
CASEWORK_ROLES: tuple[str, ...] = (CLERK, TEAM_LEAD, ADMINISTRATOR)

View = TypeVar("View", bound=Callable[..., HttpResponseBase])


def roles_of(user: Any) -> frozenset[str]:
    """The back-office roles of an active, logged-in user (casework's cached staff scope)."""
    return staff_scope(user).roles


def works_cases(user: Any) -> bool:
    return bool(roles_of(user))


def plans_rescue(user: Any) -> bool:
    """Superusers, and active staff in the "planner" group: the preRESC planner page."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
        return False
    return bool(user.is_superuser or PLANNER in staff_groups(user))


@dataclass(frozen=True)
class StaffPages:
    """The staff pages the main navigation offers a person: exactly those they may open."""

    queue: bool = False  # /backoffice/: a case-working role (casework_staff_required)
    rescue: bool = False  # /backoffice/rettungsdienst/: planners and superusers
    admin: bool = False  # /admin/: Django's is_staff (AdminSite.has_permission)


def staff_pages(user: Any) -> StaffPages:
    """Which staff pages ``user`` may open (and the navigation links to)."""
    if not is_staff_member(user):  # remembered in the session: no query for a citizen's page
        return StaffPages()
    return StaffPages(
        queue=works_cases(user),
        rescue=plans_rescue(user),
        admin=bool(user.is_active and user.is_staff),
    )


def is_team_lead(user: Any) -> bool:
    """Team leads and administrators assign cases to others and see unit statistics."""
    return bool(roles_of(user) & {TEAM_LEAD, ADMINISTRATOR})


def assigns_cases(user: Any) -> bool:
    """Team leads assign cases to clerks and units (also several at once from the queue)."""
    return staff_scope(user).is_team_lead


def staff_user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def casework_staff_required(view: View) -> View:
    """Logged in (else to the login page) and in a case-working role (else 403).

    The second factor is enforced before any view runs by
    ``accounts.middleware.StaffSecondFactorMiddleware`` for every path under /backoffice/, and
    again here (:func:`second_factor_required`).
    """

    guarded = second_factor_required(view)

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not works_cases(request.user):
            raise PermissionDenied
        return guarded(request, *args, **kwargs)

    return login_required(wrapper)  # type: ignore[return-value]


def second_factor_required(view: View) -> View:
    """The view opens only in a session that used a second factor (else to confirm one).

    Defence in depth: the middleware may still think a freshly appointed clerk is a citizen
    (it remembers that in the session for a while); no back-office page opens without a second
    factor in this session.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not session_used_second_factor(request):
            return _second_factor_redirect(request)
        return view(request, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _second_factor_redirect(request: HttpRequest) -> HttpResponseRedirect:
    if not has_second_factor(request.user):
        return HttpResponseRedirect(reverse("mfa_index"))
    has_totp = Authenticator.objects.filter(
        user_id=request.user.pk, type=Authenticator.Type.TOTP
    ).exists()
    name = "mfa_reauthenticate" if has_totp else "mfa_reauthenticate_webauthn"
    return HttpResponseRedirect(f"{reverse(name)}?{urlencode({'next': request.get_full_path()})}")


def team_lead_required(view: View) -> View:
    """Team leads and administrators (unit statistics); assigning is checked per case."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not is_team_lead(request.user):
            raise PermissionDenied
        return view(request, *args, **kwargs)

    return casework_staff_required(wrapper)  # type: ignore[return-value]
