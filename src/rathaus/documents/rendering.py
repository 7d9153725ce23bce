"""Rendering Django templates to tagged PDF/A-3a with WeasyPrint.

Templates are rendered by a dedicated template engine that refuses missing variables (a document
is never issued half-filled) and escapes every value. WeasyPrint may only read the configured
fonts and ``data:`` URIs: a document never triggers a network request.
Fonts and the letter stylesheet are parsed once per thread and reused for every document.
PDF/A-3a is PDF/A-3u plus a logical structure (tagged PDF): headings, paragraphs, lists, tables
and the QR code's alternative text reach screen readers (BITV 2.0, EN 301 549 clause 10);
:mod:`rathaus.documents.tagging` completes WeasyPrint's structure tree.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import Context, Engine, TemplateDoesNotExist, TemplateSyntaxError
from django.template.backends.django import get_installed_libraries
from django.utils import timezone, translation
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from rathaus.documents.tagging import finish_structure

APP_DIR = Path(__file__).resolve().parent
STYLES_DIR = APP_DIR / "styles"
PDF_VARIANT = "pdf/a-3a"

# Liberation Sans: metric-compatible with Arial, the usual typeface of German authorities' letters.
FONT_FILES = {
    ("normal", "normal"): "LiberationSans-Regular.ttf",
    ("bold", "normal"): "LiberationSans-Bold.ttf",
    ("normal", "italic"): "LiberationSans-Italic.ttf",
    ("bold", "italic"): "LiberationSans-BoldItalic.ttf",
}
MONO_FONT_FILE = "LiberationMono-Regular.ttf"


class DocumentError(Exception):
    """A document could not be rendered; the message says why, for the developer or operator."""


class MissingVariableError(DocumentError):
    """The template uses a variable that the context does not provide."""


class ForbiddenResourceError(FatalURLFetchingError):
    """A template tried to load a resource from outside the allowed local directories.

    WeasyPrint lets only ``FatalURLFetchingError`` (a ``BaseException``) stop a rendering.
    """


class _MissingVariable(str):
    """``string_if_invalid`` that raises instead of rendering an empty string.

    Django formats ``string_if_invalid % variable_name`` when the value contains ``%s``;
    ``{% if %}`` and ``{% for %}`` still treat a missing variable as false/empty, so optional
    parts of a letter are written as ``{% if contact %}…{% endif %}``.
    """

    def __mod__(self, name: object) -> str:
        raise MissingVariableError(str(name))


@dataclass(frozen=True)
class DocumentInfo:
    """Metadata of the PDF, available to templates as ``document``."""

    title: str
    author: str
    language: str
    subject: str
    created: datetime

    @property
    def created_iso(self) -> str:
        return self.created.isoformat(timespec="seconds")


@cache
def template_engine() -> Engine:
    """The strict engine for documents: app templates plus ``DOCUMENTS_TEMPLATE_DIRS``."""
    return Engine(
        dirs=[str(d) for d in getattr(settings, "DOCUMENTS_TEMPLATE_DIRS", [])],
        app_dirs=True,
        string_if_invalid=_MissingVariable("%s"),
        autoescape=True,
        libraries=get_installed_libraries(),
        builtins=["django.templatetags.i18n", "django.templatetags.l10n"],
    )


def font_dir() -> Path:
    path = Path(settings.DOCUMENTS_FONT_DIR)
    missing = [
        name for name in [*FONT_FILES.values(), MONO_FONT_FILE] if not (path / name).is_file()
    ]
    if missing:
        raise ImproperlyConfigured(
            f"DOCUMENTS_FONT_DIR={path} lacks {', '.join(missing)}; install the Debian package "
            "fonts-liberation2 or point DOCUMENTS_FONT_DIR at a folder with these files."
        )
    return path


class LocalOnlyURLFetcher(URLFetcher):
    """Serves ``data:`` URIs and files below the allowed directories; refuses everything else."""

    def __init__(self, allowed_roots: list[Path]) -> None:
        super().__init__(fail_on_errors=True)
        self.allowed_roots = [Path(os.path.normpath(root)) for root in allowed_roots]

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        scheme = urlsplit(url).scheme.lower()
        if scheme == "data":
            return super().fetch(url, headers)
        if scheme == "file":
            # normpath removes "../" lexically; symlinks inside an allowed folder are the
            # operator's choice (Debian links some font files)
            path = Path(os.path.normpath(unquote(urlsplit(url).path)))
            if any(path.is_relative_to(root) for root in self.allowed_roots):
                if not path.is_file():
                    raise ForbiddenResourceError(f"The local file {path} does not exist.")
                return URLFetcherResponse(url, path.read_bytes())
        shown = url if len(url) <= 120 else url[:117] + "..."
        raise ForbiddenResourceError(
            f"Documents load only embedded data and local files; refused to fetch {shown}"
        )


class _Toolkit(threading.local):
    """Per-thread WeasyPrint state that is expensive to build: fonts and parsed stylesheets."""

    key: tuple[str, ...] | None = None
    font_config: FontConfiguration
    stylesheets: list[CSS]
    fetcher: LocalOnlyURLFetcher


_toolkit = _Toolkit()


def _font_faces(fonts: Path) -> str:
    faces = [
        f'@font-face {{ font-family: "Rathaus Sans"; font-weight: {weight}; '
        f'font-style: {style}; src: url("{(fonts / name).as_uri()}"); }}'
        for (weight, style), name in FONT_FILES.items()
    ]
    faces.append(
        f'@font-face {{ font-family: "Rathaus Mono"; '
        f'src: url("{(fonts / MONO_FONT_FILE).as_uri()}"); }}'
    )
    return "\n".join(faces)


def _toolkit_for_thread() -> _Toolkit:
    fonts = font_dir()
    key = (str(fonts),)
    if _toolkit.key != key:
        fetcher = LocalOnlyURLFetcher([fonts])
        font_config = FontConfiguration()
        _toolkit.stylesheets = [
            CSS(string=_font_faces(fonts), font_config=font_config, url_fetcher=fetcher),
            CSS(
                filename=str(STYLES_DIR / "letter.css"),
                font_config=font_config,
                url_fetcher=fetcher,
            ),
        ]
        _toolkit.font_config = font_config
        _toolkit.fetcher = fetcher
        _toolkit.key = key
    return _toolkit


@receiver(setting_changed)
def _reset_caches(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("DOCUMENTS_"):
        template_engine.cache_clear()
        _toolkit.key = None


def render_html(
    *,
    template: str,
    context: dict[str, Any],
    language: str,
    title: str,
    author: str,
    subject: str = "",
    created: datetime | None = None,
) -> str:
    """The HTML of a document; :func:`render_pdf` turns it into PDF/A."""
    if "document" in context:
        raise DocumentError("The context key 'document' is reserved for the document's metadata.")
    info = DocumentInfo(
        title=title,
        author=author,
        language=language,
        subject=subject,
        created=timezone.localtime(created or timezone.now()),
    )
    try:
        compiled = template_engine().get_template(template)
    except TemplateDoesNotExist as exc:
        raise DocumentError(f"The document template {template} does not exist.") from exc
    except TemplateSyntaxError as exc:
        raise DocumentError(f"The document template {template} is invalid: {exc}") from exc
    with translation.override(language):
        try:
            return compiled.render(Context({**context, "document": info}, autoescape=True))
        except MissingVariableError as exc:
            raise MissingVariableError(
                f"The document template {template} uses the variable '{exc}', which the "
                f"context does not provide (given: {', '.join(sorted(context)) or 'nothing'})."
            ) from None


def render_pdf(
    *,
    template: str,
    context: dict[str, Any],
    language: str,
    title: str,
    author: str,
    subject: str = "",
    created: datetime | None = None,
) -> bytes:
    """Render ``template`` with ``context`` to a tagged PDF/A-3a document.

    ``title``, ``author`` (the issuing authority), ``subject``, ``language`` and ``created`` go
    into the PDF's metadata (document information and XMP); ``language`` is also the document's
    ``/Lang`` and ``title`` the one a viewer shows (``DisplayDocTitle``). Templates usually extend
    ``documents/letter_base.html``. Raises :class:`DocumentError` with a clear message when the
    template is missing or invalid, a variable is missing, or a resource is not local.
    """
    html = render_html(
        template=template,
        context=context,
        language=language,
        title=title,
        author=author,
        subject=subject,
        created=created,
    )
    try:
        toolkit = _toolkit_for_thread()
        pdf = HTML(string=html, url_fetcher=toolkit.fetcher).write_pdf(
            stylesheets=toolkit.stylesheets,
            font_config=toolkit.font_config,
            pdf_variant=PDF_VARIANT,
            finisher=finish_structure,
        )
    except ForbiddenResourceError as exc:
        raise DocumentError(f"{template}: {exc}") from None
    except FatalURLFetchingError as exc:
        cause = exc.__cause__ or exc
        raise DocumentError(f"{template}: {cause}") from None
    assert isinstance(pdf, bytes)
    return pdf
