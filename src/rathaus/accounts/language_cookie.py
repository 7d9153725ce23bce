"""The language cookie the account sets (after login, on saving the profile): set exactly as
Django's own language switch (``set_language``) sets it, from the ``LANGUAGE_COOKIE_*``
settings, so it is as protected (HttpOnly, Secure, SameSite) and lasts as long."""

from __future__ import annotations

from typing import Literal, cast

from django.conf import settings
from django.http import HttpResponseBase

SameSite = Literal["Lax", "Strict", "None", False] | None


def set_language_cookie(response: HttpResponseBase, language: str) -> None:
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=settings.LANGUAGE_COOKIE_AGE,
        path=settings.LANGUAGE_COOKIE_PATH,
        domain=settings.LANGUAGE_COOKIE_DOMAIN,
        secure=settings.LANGUAGE_COOKIE_SECURE,
        httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
        samesite=cast(SameSite, settings.LANGUAGE_COOKIE_SAMESITE),
    )
