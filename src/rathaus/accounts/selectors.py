"""Reads about accounts that other modules rely on."""

from __future__ import annotations

from rathaus.accounts.models import User


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
