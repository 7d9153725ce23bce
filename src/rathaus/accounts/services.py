"""Writes on accounts: the citizen profile, the data export and deleting an account."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import ProtectedError, Q, RestrictedError
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from rathaus.accounts import personal_data, roles
from rathaus.accounts.models import FederatedIdentity, LoginAttempt, Profile, User
from rathaus.accounts.selectors import (
    STAFF_PROFILE_CHANGED,
    STAFF_PROFILE_CREATED,
    unconfirmed_signups,
)
from rathaus.core import audit

logger = logging.getLogger(__name__)

#: Profile fields a citizen may change (the form and the export use the same list).
PROFILE_FIELDS: tuple[str, ...] = (
    "given_names",
    "family_name",
    "birth_date",
    "street",
    "house_number",
    "postal_code",
    "place",
    "phone",
    "preferred_language",
)


def profile_for(user: User) -> Profile:
    """The user's profile; an unsaved empty one if they never filled it in."""
    try:
        return user.profile
    except Profile.DoesNotExist:
        return Profile(user=user)


def _profile_values(profile: Profile) -> dict[str, Any]:
    values = {name: getattr(profile, name) for name in PROFILE_FIELDS}
    if isinstance(values["birth_date"], date):
        values["birth_date"] = values["birth_date"].isoformat()
    return values


@transaction.atomic
def update_profile(*, user: User, data: dict[str, Any]) -> Profile:
    """Save the validated profile ``data`` (keys from :data:`PROFILE_FIELDS`) and audit it.

    The audit event names the changed fields only: the trail outlives the account (Art. 17 (3)
    b GDPR), the profile's values must not.
    """
    profile = Profile.objects.select_for_update().filter(user=user).first() or Profile(user=user)
    before = _profile_values(profile) if profile.pk else dict.fromkeys(PROFILE_FIELDS)
    for name in PROFILE_FIELDS:
        if name in data:
            setattr(profile, name, data[name] if data[name] is not None else _empty(name))
    profile.full_clean()
    profile.save()
    after = _profile_values(profile)
    changed = [name for name in PROFILE_FIELDS if (before[name] or "") != (after[name] or "")]
    audit.record(
        actor=user,
        action="accounts.profile.updated",
        obj=profile,
        after={"fields": changed},
    )
    return profile


def record_profile_change_by_staff(
    *, actor: AbstractBaseUser | AnonymousUser, profile: Profile, before: Profile | None
) -> None:
    """Audit what an administrator changed in ``profile`` in the Django admin (``before``: the
    stored profile, None for a new one): the changed fields by name only, as
    ``accounts.profile.updated`` does, and nothing if none changed. A changed name or date of
    birth thereby stops counting as confirmed by a citizen-account login
    (``selectors.verified_identity``) until the next login at "substantial" or "high".

    Call it in the transaction that saved ``profile``.
    """
    # a new profile: the fields that differ from an empty one (the language has a default)
    old = _profile_values(before if before is not None else Profile())
    new = _profile_values(profile)
    changed = [name for name in PROFILE_FIELDS if (old[name] or "") != (new[name] or "")]
    if not changed:
        return
    audit.record(
        actor=actor,
        action=STAFF_PROFILE_CHANGED if before is not None else STAFF_PROFILE_CREATED,
        obj=profile,
        after={"fields": changed},
    )


@transaction.atomic
def drop_unconfirmed_claims(*, email: str, owner: User) -> int:
    """``owner`` confirmed ``email`` (link or provider): other accounts' unconfirmed claims on
    the address go, so they neither block it nor receive anything for it. Each is audited by
    account number, without the address. Returns how many were dropped."""
    claims = (
        EmailAddress.objects.filter(email__iexact=email, verified=False)
        .exclude(user_id=owner.pk)
        .exclude(user__email__iexact=email)  # another account's login address stays
    )
    dropped = 0
    for claim in claims.select_related("user"):
        audit.record(
            actor=None,
            action="accounts.email.unconfirmed_claim_dropped",
            obj=claim.user,
            after={"reason": "confirmed by another account"},
        )
        claim.delete()
        dropped += 1
    return dropped


def _empty(name: str) -> Any:
    return None if name == "birth_date" else ""


def export_personal_data(*, user: User) -> dict[str, Any]:
    """The JSON document of Art. 15 and 20 GDPR; the export itself is audited."""
    document = personal_data.collect_personal_data(user)
    audit.record(
        actor=user,
        action="accounts.personal_data.exported",
        obj=user,
        after={"sections": personal_data.export_sections()},
    )
    return document


class _FormerUser(AnonymousUser):
    """The actor of the deletion event: named by number only, the address is gone (Art. 17)."""

    def __init__(self, pk: int) -> None:
        self._pk = pk

    def __str__(self) -> str:
        return f"deleted user #{self._pk}"


@transaction.atomic
def delete_account(*, user: User, actor: User | None = None) -> None:
    """Erase the account and all personal data kept with it (Art. 17 GDPR).

    ``actor``: the administrator deleting the account in the Django admin; None when the
    citizen deletes their own. The same rules hold for both: other modules' erasure handlers
    run first; one of them may refuse with
    :class:`~rathaus.accounts.personal_data.ErasureBlocked`, which rolls everything back.
    Only an administrator closes a staff account. The audit event keeps only the account
    number, not the e-mail address.
    """
    locked = User.objects.select_for_update().get(pk=user.pk)
    # Read from the locked row, not a cached answer: clerks and team leads are staff by their
    # groups alone, and their names stay on the cases and files they worked on.
    if actor is None and roles.is_staff_member(locked):
        raise personal_data.ErasureBlocked(
            _("Staff accounts are closed by an administrator, not by self-service.")
        )
    _erase(
        locked,
        actor=actor if actor is not None else _FormerUser(locked.pk),
        action="accounts.user.deleted",
    )


def _erase(locked: User, *, actor: Any, action: str) -> None:
    personal_data.run_erasure_handlers(locked)
    # Logins through a citizen account that were never finished keep the answer's attributes
    # (name, date of birth, address) without a user; they go with the linked identities.
    subjects = list(FederatedIdentity.objects.filter(user=locked).values_list("subject", flat=True))
    LoginAttempt.objects.filter(
        Q(user=locked) | Q(user__isnull=True, result__subject__in=subjects)
    ).delete()
    audit.record(
        actor=actor,
        action=action,
        obj=locked,
        after={"sections": personal_data.export_sections()},
    )
    _forget_in_admin_log(locked)
    try:
        locked.delete()
    except (ProtectedError, RestrictedError) as protected:
        # Another module keeps records it must retain (e.g. a case file) and protects the user.
        raise personal_data.ErasureBlocked(
            _(
                "Your account is linked to records the authority must keep, for example a "
                "submitted application. Please contact the authority to close your account."
            )
        ) from protected


def _forget_in_admin_log(user: User) -> None:
    """The Django admin's history names what it changed by its ``str()``: the account by its
    e-mail address, the profile by the person's name, their identities by subject. Those
    entries (the deletion's own included: the admin writes it before deleting) keep only the
    row's number; who changed what, and when, stays."""
    rows: list[tuple[type[Any], list[Any]]] = [
        (User, [user.pk]),
        (Profile, list(Profile.objects.filter(user=user).values_list("pk", flat=True))),
        (EmailAddress, list(EmailAddress.objects.filter(user=user).values_list("pk", flat=True))),
        (
            FederatedIdentity,
            list(FederatedIdentity.objects.filter(user=user).values_list("pk", flat=True)),
        ),
    ]
    types = ContentType.objects.get_for_models(*(model for model, _pks in rows))
    for model, pks in rows:
        for pk in pks:
            LogEntry.objects.filter(content_type=types[model], object_id=str(pk)).update(
                object_repr=f"#{pk}"
            )


def delete_unconfirmed_signups() -> int:
    """Delete the sign-ups (``selectors.unconfirmed_signups``) whose confirmation has expired
    (``ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS`` after the sign-up): an address someone else
    signed up with is free again for its owner. Each is audited by account number, without
    the address, as ``accounts.user.unconfirmed_signup_deleted``. Returns how many went."""
    cutoff = timezone.now() - timedelta(days=settings.ACCOUNT_EMAIL_CONFIRMATION_EXPIRE_DAYS)
    deleted = 0
    for pk in unconfirmed_signups().filter(date_joined__lt=cutoff).values_list("pk", flat=True):
        try:
            with transaction.atomic():
                # checked again under the lock: confirmed or logged in meanwhile, it stays
                locked = (
                    unconfirmed_signups()
                    .select_for_update()
                    .filter(pk=pk, date_joined__lt=cutoff)
                    .first()
                )
                if locked is None:
                    continue
                _erase(locked, actor=None, action="accounts.user.unconfirmed_signup_deleted")
        except personal_data.ErasureBlocked:
            logger.warning("unconfirmed sign-up kept: erasure refused", extra={"user": pk})
            continue
        deleted += 1
    return deleted


@transaction.atomic
def confirm_login_address_after_reset(*, request: HttpRequest | None, user: User) -> None:
    """The password of an unconfirmed sign-up was reset: the link went to its login address
    alone (``adapters.AccountAdapter.send_password_reset_mail``), so the address is confirmed,
    as by a confirmation link (audited, and other accounts' claims on it dropped by
    ``security_trail``)."""
    from allauth.account import signals

    if not unconfirmed_signups().filter(pk=user.pk).exists():
        return
    address = EmailAddress.objects.filter(user_id=user.pk, email__iexact=user.email).first()
    if address is None:
        return
    address.verified = True
    address.save(update_fields=["verified"])
    signals.email_confirmed.send(sender=EmailAddress, request=request, email_address=address)


# --- accounts' own sections of the export -------------------------------------------------


def _account_section(user: AbstractBaseUser) -> dict[str, Any]:
    assert isinstance(user, User)
    return {
        "email": user.email,
        "date_joined": user.date_joined.isoformat(),
        "last_login": user.last_login.isoformat() if user.last_login else None,
        "is_staff": user.is_staff,
        "groups": sorted(user.groups.values_list("name", flat=True)),
    }


def _email_section(user: AbstractBaseUser) -> list[dict[str, Any]]:
    return [
        {"email": address.email, "verified": address.verified, "primary": address.primary}
        for address in EmailAddress.objects.filter(user_id=user.pk).order_by("email")
    ]


def _profile_section(user: AbstractBaseUser) -> dict[str, Any] | None:
    profile = Profile.objects.filter(user_id=user.pk).first()
    if profile is None:
        return None
    return {**_profile_values(profile), "updated_at": profile.updated_at.isoformat()}


def _citizen_account_section(user: AbstractBaseUser) -> list[dict[str, Any]]:
    """Linked citizen accounts (BundID, OIDC): the stable identifier (bPK2, ``sub``) is personal
    data too."""
    return [
        {
            "provider": identity.provider.name,
            "issuer": identity.issuer,
            "subject": identity.subject,
            "trust_level": identity.trust_level,
            "linked_at": identity.linked_at.isoformat(),
            "last_login_at": (
                identity.last_login_at.isoformat() if identity.last_login_at else None
            ),
        }
        for identity in FederatedIdentity.objects.filter(user_id=user.pk)
        .select_related("provider")
        .order_by("linked_at")
    ]


def _authenticator_section(user: AbstractBaseUser) -> list[dict[str, Any]]:
    """Which second factors exist and when they were used, never their secrets or keys."""
    entries = []
    for authenticator in Authenticator.objects.filter(user_id=user.pk).order_by("created_at"):
        entry: dict[str, Any] = {
            "type": authenticator.type,
            "created_at": authenticator.created_at.isoformat(),
            "last_used_at": (
                authenticator.last_used_at.isoformat() if authenticator.last_used_at else None
            ),
        }
        if authenticator.type == Authenticator.Type.WEBAUTHN:
            wrapped = authenticator.wrap()
            entry["name"] = wrapped.name
            entry["passkey"] = wrapped.is_passwordless
        entries.append(entry)
    return entries


def register_own_export_sections() -> None:
    personal_data.register_export_section("account", _account_section)
    personal_data.register_export_section("email_addresses", _email_section)
    personal_data.register_export_section("profile", _profile_section)
    personal_data.register_export_section("authenticators", _authenticator_section)
    personal_data.register_export_section("citizen_accounts", _citizen_account_section)
