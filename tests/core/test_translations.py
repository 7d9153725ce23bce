"""German first: every text of every module has its German translation, compiled.

Django falls back to the English source text where a translation is missing, so a forgotten
string shows up as English in the German interface without any error. This test extracts each
module's strings afresh (``makemessages``, as ``make messages`` does, into a copy of the module)
and fails on any text without a German translation or with a fuzzy one; and it checks that the
compiled catalogue (``django.mo``) that ships is the one its ``django.po`` compiles to.
"""

from __future__ import annotations

import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
MODULES = sorted(p.parent.name for p in (SRC / "rathaus").glob("*/locale"))

pytestmark = pytest.mark.skipif(
    shutil.which("xgettext") is None or shutil.which("msgattrib") is None,
    reason="gettext tools (Debian package gettext) are not installed",
)


def _entries(po: Path, *flags: str) -> list[str]:
    """The msgids ``msgattrib`` selects with ``flags``, without the header."""
    out = subprocess.run(
        ["msgattrib", *flags, "--no-obsolete", "--no-wrap", str(po)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return [line[len("msgid ") :] for line in out.splitlines() if line.startswith("msgid ")][1:]


#: Run in one process for all modules: Django's start-up is most of makemessages' time.
_EXTRACT = """
import os, sys
import django
django.setup()
from django.core.management import call_command
for folder in sys.argv[1:]:
    os.chdir(folder)
    call_command("makemessages", locale=["de"], no_obsolete=True, verbosity=0)
"""


def _extract(tmp_path: Path) -> dict[str, Path]:
    """Each module copied to ``tmp_path`` with its German catalogue freshly extracted."""
    copies = {}
    for module in MODULES:
        copies[module] = tmp_path / module
        shutil.copytree(
            SRC / "rathaus" / module, copies[module], ignore=shutil.ignore_patterns("__pycache__")
        )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings"}
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), str(SRC.parent)])
    subprocess.run(
        [sys.executable, "-P", "-c", _EXTRACT, *map(str, copies.values())],
        env=env,
        check=True,
        capture_output=True,
    )
    return {m: c / "locale" / "de" / "LC_MESSAGES" / "django.po" for m, c in copies.items()}


def test_every_module_is_translated() -> None:
    assert {"portal", "backoffice", "applications", "casework"} <= set(MODULES)


def test_every_text_has_a_german_translation(tmp_path: Path) -> None:
    problems = []
    for module, po in _extract(tmp_path).items():
        if missing := _entries(po, "--untranslated"):
            problems.append(f"{module}: no German for {missing} (make messages APP={module})")
        if fuzzy := _entries(po, "--only-fuzzy"):
            problems.append(f"{module}: fuzzy German for {fuzzy} (check and clear the flag)")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("module", MODULES)
def test_the_shipped_catalogue_is_compiled_from_its_po_file(module: str, tmp_path: Path) -> None:
    folder = SRC / "rathaus" / module / "locale" / "de" / "LC_MESSAGES"
    compiled = tmp_path / "django.mo"
    subprocess.run(
        ["msgfmt", "--check-format", "-o", str(compiled), str(folder / "django.po")], check=True
    )
    with (folder / "django.mo").open("rb") as shipped, compiled.open("rb") as fresh:
        shipped_texts = gettext.GNUTranslations(shipped)._catalog  # type: ignore[attr-defined]
        fresh_texts = gettext.GNUTranslations(fresh)._catalog  # type: ignore[attr-defined]
    stale = sorted(str(k) for k in set(fresh_texts.items()) ^ set(shipped_texts.items()))
    assert not stale, f"{module}: django.mo is not compiled from django.po: {stale[:5]}"


def test_every_name_in_the_admin_is_translatable() -> None:
    """A model field without a ``gettext_lazy`` name shows its English attribute name in the
    German admin ("provider", "region")."""
    from django.contrib import admin
    from django.utils.functional import Promise

    untranslatable = []
    for model in admin.site._registry:
        if not model.__module__.startswith("rathaus."):
            continue
        names = {"Meta.verbose_name": model._meta.verbose_name}
        names |= {
            f.name: f.verbose_name
            for f in model._meta.get_fields()
            if getattr(f, "concrete", False) and not f.auto_created
        }
        untranslatable += [
            f"{model._meta.label}.{n}" for n, v in names.items() if not isinstance(v, Promise)
        ]
    assert not untranslatable, untranslatable


def test_every_module_has_a_translatable_name_in_the_admin() -> None:
    """The admin's sections are the modules' names: without a ``gettext_lazy`` name the German
    admin shows "Casework", the English one a hard-coded "Postfach"."""
    from django.apps import apps
    from django.utils import translation
    from django.utils.functional import Promise

    unnamed = [
        config.label
        for config in apps.get_app_configs()
        if config.name.startswith("rathaus.") and not isinstance(config.verbose_name, Promise)
    ]
    assert not unnamed, unnamed
    with translation.override("de"):
        names = {config.label: str(config.verbose_name) for config in apps.get_app_configs()}
    assert names["casework"] == "Vorgangsbearbeitung"
    assert names["mailbox"] == "Postfach"
    with translation.override("en"):
        assert str(apps.get_app_config("mailbox").verbose_name) == "Mailbox"


#: Texts two modules translate differently with the same meaning ("Suche"/"Suchen", "Anlage"/
#: "Anhang"): harmless, whichever wins. A new entry needs the same care as below.
SAME_MEANING = {
    "slug",
    "user",
    "attachment",
    "notice by retrieval from the mailbox",
    "responsible authority",
    "size in bytes",
    "withdrawn",
    "80 percent interval",
    "95 percent interval",
    "Ambulances per hour",
    "Choose a clerk or an org unit.",
    "Download staffing (CSV)",
    "Emergency service planning",
    "Positions incl. shrinkage",
    "Search",
    "Share of incidents reached within the response-time target",
    "Show plan",
    "Staffing for %(day)s, planned for: %(basis)s",
    "from the citizen",
    "actor",
    "author",
    "mailbox message",
    "org unit",
    "time",
    "updated",
    "Reply",
    "created by",
}


def test_no_text_means_two_things_in_german() -> None:
    """Django merges every module's catalogue into one, and the module listed first in
    ``INSTALLED_APPS`` wins: were "opened" a message's "geöffnet" in one module and a file's
    "angelegt" in another, one of them would show the other's word. Such texts need a context
    (``pgettext``) or their own wording."""
    german: dict[Any, dict[str, str]] = {}
    for module in MODULES:
        mo = SRC / "rathaus" / module / "locale" / "de" / "LC_MESSAGES" / "django.mo"
        with mo.open("rb") as catalogue:
            texts = gettext.GNUTranslations(catalogue)._catalog  # type: ignore[attr-defined]
        for msgid, msgstr in texts.items():
            if msgid:
                german.setdefault(msgid, {})[module] = msgstr
    clashes = {
        msgid: found
        for msgid, found in german.items()
        if len(set(found.values())) > 1 and msgid not in SAME_MEANING
    }
    assert not clashes, clashes
