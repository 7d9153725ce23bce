"""Reads about accounts that other modules rely on."""

from __future__ import annotations

from typing import Any

from rathaus.accounts.models import Profile, User
from rathaus.core.models import AuditEvent

#: The profile fields a citizen-account login (eID) confirms.
IDENTITY_FIELDS = ("given_names", "family_name", "birth_date")


def notification_address(*, user: User) -> str:
    """Where to send ``user`` notices (e.g. "a message is waiting in your mailbox"): the login
    address once its owner confirmed it by mail, "" while it is unconfirmed.

    An address typed after a citizen-account login may be a typo; its owner must learn nothing
    about the account (allauth's ``EmailAddress.verified``, set by the confirmation link).
    """
    from allauth.account.models import EmailAddress

    if not user.email:
        return ""
    confirmed = EmailAddress.objects.filter(user=user, email__iexact=user.email, verified=True)
    return user.email if confirmed.exists() else ""


def verified_identity(user: Any) -> Profile | None:
    """The applicant's profile if its name and date of birth are those the last citizen-account
    login (eID) wrote into it, or None.

    The login overwrites these profile fields with the values asserted at "substantial" or
    "high" (``accounts.federation.update_profile``), but the citizen may edit the profile
    afterwards (``accounts.services.update_profile``); both are audited. The profile counts
    only while no edit of these fields is newer than the last citizen-account login.
    """
    if getattr(user, "pk", None) is None:
        return None
    profile = Profile.objects.filter(user_id=user.pk).first()
    if profile is None or not (profile.family_name and profile.given_names):
        return None
    last_login = (
        AuditEvent.objects.filter(actor_id=user.pk, action="accounts.federated_login")
        .order_by("-at", "-id")
        .values_list("at", flat=True)
        .first()
    )
    edits = AuditEvent.objects.filter(
        action="accounts.profile.updated",
        object_type=Profile._meta.label,
        object_id=str(profile.pk),
    )
    if last_login is not None:
        edits = edits.filter(at__gt=last_login)
    for changed in edits.values_list("after", flat=True):
        fields = (changed or {}).get("fields") or [] if isinstance(changed, dict) else []
        if any(name in fields for name in IDENTITY_FIELDS):
            return None
    return profile
