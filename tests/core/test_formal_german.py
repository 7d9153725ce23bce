"""The portal addresses people formally: no catalogue of a third-party app replaces Django's
messages with familiar German ("du")."""

from __future__ import annotations

import gettext
import re
from pathlib import Path

import django
import pytest
import rest_framework
from django import forms
from django.utils import translation

FAMILIAR = re.compile(r"\b(Gib|Lade|Stelle|Wähle|wähle|du|dein|deine|dich|dir)\b")


def _catalogue(package_dir: Path) -> dict[str, str]:
    mo = package_dir / "locale" / "de" / "LC_MESSAGES" / "django.mo"
    with mo.open("rb") as stream:
        catalogue = gettext.GNUTranslations(stream)._catalog  # type: ignore[attr-defined]
    # plain messages only (no context, no plural forms)
    return {k: v for k, v in catalogue.items() if isinstance(k, str) and "\x04" not in k and v}


def test_django_messages_that_drf_translates_familiarly_are_formal() -> None:
    django_own = _catalogue(Path(django.__file__).parent / "conf")
    drf = _catalogue(Path(rest_framework.__file__).parent)
    familiar = {
        msgid: text for msgid, text in drf.items() if msgid in django_own and FAMILIAR.search(text)
    }
    assert familiar, "DRF's catalogue no longer has familiar German: check this test"
    with translation.override("de"):
        shown = {msgid: translation.gettext(msgid) for msgid in familiar}
    assert not {m: t for m, t in shown.items() if FAMILIAR.search(t)}, shown


@pytest.mark.parametrize(
    "field, value, message",
    [
        (forms.EmailField(), "kein-at-zeichen", "Bitte geben Sie eine gültige E-Mail-Adresse ein."),
        (
            forms.URLField(assume_scheme="https"),
            "http://",
            "Bitte geben Sie eine gültige Adresse (URL) ein.",
        ),
    ],
)
def test_a_form_field_says_it_formally(field: forms.Field, value: str, message: str) -> None:
    with translation.override("de"):
        with pytest.raises(forms.ValidationError) as refused:
            field.clean(value)
        assert refused.value.messages == [message]
