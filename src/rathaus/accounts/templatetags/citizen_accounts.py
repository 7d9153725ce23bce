"""``{% citizen_account_logins %}``: login page buttons for the configured citizen accounts."""

from __future__ import annotations

from django import template

from rathaus.accounts import trust
from rathaus.accounts.federation import allows
from rathaus.accounts.federation_views import start_url
from rathaus.accounts.models import FederatedIdentity, IdentityProvider

register = template.Library()


@register.simple_tag(takes_context=True)
def citizen_account_logins(context: template.Context) -> list[tuple[IdentityProvider, str]]:
    request = context.get("request")
    next_url = request.GET.get("next", "") if request is not None else ""
    choices = []
    for provider in IdentityProvider.objects.filter(enabled=True).select_related("municipality"):
        level = next((lv for lv in trust.ORDER if allows(provider, lv)), None)
        if level is not None:
            choices.append((provider, start_url(provider, level=level, next_url=next_url)))
    return choices


@register.simple_tag(takes_context=True)
def linked_citizen_accounts(context: template.Context) -> list[FederatedIdentity]:
    request = context.get("request")
    if request is None or not request.user.is_authenticated:
        return []
    return list(
        FederatedIdentity.objects.filter(user_id=request.user.pk)
        .select_related("provider")
        .order_by("linked_at")
    )


@register.simple_tag
def citizen_account_link_choices(
    linked: list[FederatedIdentity], next_url: str
) -> list[tuple[IdentityProvider, str]]:
    """Providers this account is not linked with yet, each with its login (and link) address."""
    taken = {identity.provider_id for identity in linked}
    choices = []
    for provider in IdentityProvider.objects.filter(enabled=True).exclude(pk__in=taken):
        level = next((lv for lv in trust.ORDER if allows(provider, lv)), None)
        if level is not None:
            choices.append((provider, start_url(provider, level=level, next_url=next_url)))
    return choices


@register.simple_tag(takes_context=True)
def session_trust_label(context: template.Context) -> str:
    request = context.get("request")
    if request is None:
        return str(trust.Level.LOW.label)
    return str(trust.Level(trust.session_level(request)).label)
