"""Marking texts written in another language than the page (WCAG 3.1.2 Language of Parts)."""

from __future__ import annotations

from django import template
from django.utils import translation
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def lang_if_other(language: str | None) -> SafeString | str:
    """`` lang="de"`` for an element whose text is in ``language`` where the page is in another
    one, so that a screen reader reads it with the right voice; nothing where the language is
    the page's or not known (empty)."""
    page = (translation.get_language() or "")[:2]
    if not language or language == page:
        return ""
    return format_html(' lang="{}"', language)
