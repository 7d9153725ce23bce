"""Template helpers for fees and payments."""

from django import template

from rathaus.payments.fees import format_cents

register = template.Library()


@register.filter
def euro(cents: int | None) -> str:
    """``3060|euro`` → ``30,60 €``."""
    return "" if cents is None else format_cents(int(cents))
