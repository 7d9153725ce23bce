"""``{% citizen_account_logins %}``: login page buttons for the configured citizen accounts."""

from __future__ import annotations

from django import template

from rathaus.accounts import trust
from rathaus.accounts.federation import allows
from rathaus.accounts.federation_views import start_url
from rathaus.accounts.models import IdentityProvider

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
