"""Reads about accounts that other modules rely on."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet

from rathaus.accounts import trust
from rathaus.accounts.models import FederatedIdentity, Profile, User
from rathaus.core.models import AuditEvent

#: The profile fields a citizen-account login (eID) confirms.
IDENTITY_FIELDS = ("given_names", "family_name", "birth_date")
#: The levels of a citizen-account login whose asserted identity counts (ELSTER, eID).
CONFIRMING_LEVELS = (trust.Level.SUBSTANTIAL.value, trust.Level.HIGH.value)
#: Key in the ``after`` of an ``accounts.federated_login`` event: the identity fields that login
#: confirmed (empty for a "low" login).
CONFIRMED_FIELDS_KEY = "confirmed_fields"
#: Key in the ``after`` of an ``accounts.federated_login`` event: the profile fields whose value
#: from the provider could not be used (``federation.update_profile``), by name only.
UNUSABLE_FIELDS_KEY = "unusable_fields"
#: Audit actions of a profile an administrator created or changed in the Django admin
#: (``services.record_profile_change_by_staff``); like the citizen's own edits they name the
#: changed fields (``{"fields": [...]}``).
STAFF_PROFILE_CREATED = "admin.accounts.profile.created"
STAFF_PROFILE_CHANGED = "admin.accounts.profile.changed"
#: The audit actions whose changed identity fields no longer count as confirmed.
PROFILE_CHANGE_ACTIONS = ("accounts.profile.updated", STAFF_PROFILE_CREATED, STAFF_PROFILE_CHANGED)


def unconfirmed_signups() -> QuerySet[User]:
    """Accounts made by the sign-up form that never confirmed an address and never logged in.

    Anyone can sign up with anyone's address. Such an account holds nothing but that address
    and a password only its maker knows, so its login address receives a password reset link
    (``adapters.AccountAdapter.send_password_reset_mail``; the link proves the mailbox as a
    confirmation link would) and it is deleted once the confirmation expired
    (``services.delete_unconfirmed_signups``). Accounts an administrator made (no address
    record, or one allauth added), staff and accounts linked to a citizen account are never
    among them."""
    from allauth.account.models import EmailAddress

    confirmed = EmailAddress.objects.filter(user_id=OuterRef("pk"), verified=True)
    # the sign-up's primary address; allauth adds a secondary one to an account that had none
    # when a reset is asked for it (an account an administrator made)
    signed_up = EmailAddress.objects.filter(
        user_id=OuterRef("pk"), email__iexact=OuterRef("email"), verified=False, primary=True
    )
    grouped = User.groups.through.objects.filter(user_id=OuterRef("pk"))
    linked = FederatedIdentity.objects.filter(user_id=OuterRef("pk"))
    return User.objects.filter(
        Exists(signed_up),
        ~Exists(confirmed),
        ~Exists(grouped),
        ~Exists(linked),
        last_login__isnull=True,
        is_staff=False,
        is_superuser=False,
    )


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
    """The applicant's profile if its name (and date of birth, when given) are those a
    citizen-account login at "substantial" or "high" (ELSTER, eID) confirmed, or None.

    Such a login overwrites these fields with the values asserted at that level
    (``accounts.federation.update_profile``) and notes in its audit event which of them it
    confirmed (:data:`CONFIRMED_FIELDS_KEY`). The newest such login decides: a field it did not
    carry is not confirmed, and one changed afterwards — edited by the citizen
    (``accounts.profile.updated``) or by an administrator in the Django admin
    (:data:`PROFILE_CHANGE_ACTIONS`), or filled in by a "low" login — no longer is. A "low" login
    (user name and password at the provider) confirms nothing: its attributes are
    self-declared.
    """
    if getattr(user, "pk", None) is None:
        return None
    profile = Profile.objects.filter(user_id=user.pk).first()
    if profile is None or not (profile.family_name and profile.given_names):
        return None
    needed = {"given_names", "family_name"}
    if profile.birth_date is not None:
        needed.add("birth_date")
    if needed <= _confirmed_identity_fields(user_id=user.pk, profile=profile):
        return profile
    return None


def _confirmed_identity_fields(*, user_id: int, profile: Profile) -> set[str]:
    """The identity fields of ``profile`` that hold what the newest confirming login asserted.

    Audit events written before logins noted their confirmed fields (no
    :data:`CONFIRMED_FIELDS_KEY`) keep the earlier rule: such a login confirms every identity
    field, and a profile without any confirming login counts while none of its identity fields
    was ever changed (by the citizen, an administrator or a login).
    """
    logins = AuditEvent.objects.filter(actor_id=user_id, action="accounts.federated_login")
    newest = (
        logins.filter(after__level__in=CONFIRMING_LEVELS)
        .order_by("-at", "-id")
        .values("id", "at", "after")
        .first()
    )
    since = Q()
    confirmed = set(IDENTITY_FIELDS)
    if newest is not None:
        since = Q(at__gt=newest["at"]) | Q(at=newest["at"], id__gt=newest["id"])
        after = newest["after"] if isinstance(newest["after"], dict) else {}
        if CONFIRMED_FIELDS_KEY in after:
            confirmed &= _named_fields(after, CONFIRMED_FIELDS_KEY)
    edits = AuditEvent.objects.filter(
        since,
        action__in=PROFILE_CHANGE_ACTIONS,
        object_type=Profile._meta.label,
        object_id=str(profile.pk),
    )
    for after in edits.values_list("after", flat=True):
        confirmed -= _named_fields(after, "fields")
    # only "low" logins can follow the newest confirming one: the fields they filled in
    for after in logins.filter(since).values_list("after", flat=True):
        confirmed -= _named_fields(after, "profile_fields")
    return confirmed


def _named_fields(after: Any, key: str) -> set[str]:
    names = after.get(key) if isinstance(after, dict) else None
    return {str(name) for name in names} if isinstance(names, list) else set()


def fields_not_taken_over(*, user_id: int) -> list[str]:
    """The profile fields whose value the newest citizen-account login sent but could not be
    taken over (``federation.update_profile``), less those changed since by the citizen or an
    administrator: the profile page notes them beside the field."""
    newest = (
        AuditEvent.objects.filter(actor_id=user_id, action="accounts.federated_login")
        .order_by("-at", "-id")
        .values("id", "at", "after")
        .first()
    )
    if newest is None:
        return []
    names = _named_fields(newest["after"], UNUSABLE_FIELDS_KEY)
    profile_id = Profile.objects.filter(user_id=user_id).values_list("pk", flat=True).first()
    if not names or profile_id is None:
        return []
    edits = AuditEvent.objects.filter(
        Q(at__gt=newest["at"]) | Q(at=newest["at"], id__gt=newest["id"]),
        action__in=PROFILE_CHANGE_ACTIONS,
        object_type=Profile._meta.label,
        object_id=str(profile_id),
    )
    for after in edits.values_list("after", flat=True):
        names -= _named_fields(after, "fields")
    return sorted(names)
