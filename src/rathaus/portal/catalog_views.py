"""The service catalog: ``/leistungen/`` and ``/leistungen/<slug>/``.

Filters come as GET parameters (``q``, ``lage``, ``gemeinde``), so every result is a bookmarkable
link and works without JavaScript. An invalid value never fails the page: the field shows a
message and the catalog is shown without that filter. The rendered page content is cached per
language and filter (see :mod:`rathaus.catalog.cache`) whenever no free-text query is involved.
A page for an invalid filter is marked private, so the anonymous page cache
(:mod:`rathaus.core.page_cache`) keeps no copy of it: made-up values cannot fill the cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from rathaus.catalog import cache as catalog_cache
from rathaus.catalog import selectors
from rathaus.catalog.form_schemas import has_form
from rathaus.catalog.models import LifeSituation, Service
from rathaus.core.models import Municipality


@dataclass(frozen=True)
class _Choices:
    """Filter choices, cached with the catalog so a cached page needs no database query."""

    municipalities: list[tuple[str, str]]
    life_situations: list[tuple[str, str, str]]

    def life_situation_choices(self) -> list[tuple[str, str]]:
        english = (translation.get_language() or "de").startswith("en")
        return [(slug, en if english else de) for slug, de, en in self.life_situations]


def _choices() -> _Choices:
    key = catalog_cache.key("choices")
    choices = cache.get(key)
    if choices is None:
        choices = _Choices(
            municipalities=[(m.slug, m.name) for m in selectors.municipalities()],
            life_situations=[(s.slug, s.name_de, s.name_en) for s in selectors.life_situations()],
        )
        cache.set(key, choices, catalog_cache.TIMEOUT)
    return choices


class CatalogFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search term"),
        required=False,
        max_length=100,
        help_text=_("For example: change of address, parking permit, child benefit"),
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    lage = forms.ChoiceField(label=_("Life situation"), required=False)
    gemeinde = forms.ChoiceField(
        label=_("Your municipality"),
        required=False,
        help_text=_("Shows who is responsible for your place of residence."),
    )

    def __init__(self, *args: Any, choices: _Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        lage = self.fields["lage"]
        gemeinde = self.fields["gemeinde"]
        assert isinstance(lage, forms.ChoiceField) and isinstance(gemeinde, forms.ChoiceField)
        lage.choices = [("", _("All life situations")), *choices.life_situation_choices()]
        gemeinde.choices = [("", _("All municipalities")), *choices.municipalities]
        self.fields["lage"].error_messages["invalid_choice"] = _(
            "There is no life situation “%(value)s”. All services are shown."
        )
        self.fields["gemeinde"].error_messages["invalid_choice"] = _(
            "The municipality “%(value)s” is not part of this portal. "
            "All services are shown; please choose a municipality from the list."
        )

    def valid_value(self, name: str) -> str:
        """The cleaned value of one field, or empty when that field is invalid."""
        self.is_valid()
        if name in self.errors:
            return ""
        return str(self.cleaned_data.get(name) or "")


class MunicipalityForm(forms.Form):
    gemeinde = forms.ChoiceField(label=_("Your municipality"), required=False)

    def __init__(self, *args: Any, choices: _Choices, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["gemeinde"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("Choose a municipality")), *choices.municipalities]
        field.error_messages["invalid_choice"] = _(
            "The municipality “%(value)s” is not part of this portal. "
            "Please choose a municipality from the list."
        )


def _lookup(model: type[Any], slug: str) -> Any:
    return model.objects.filter(slug=slug).first() if slug else None


def _cached_render(key: str | None, template: str, context: Any) -> str:
    """Render ``template``; with a key, reuse the cached result (``context`` may be callable)."""
    if key is not None:
        html = cache.get(key)
        if html is not None:
            return str(html)
    html = render_to_string(template, context() if callable(context) else context)
    if key is not None:
        cache.set(key, html, catalog_cache.TIMEOUT)
    return html


def catalog(request: HttpRequest) -> HttpResponse:
    choices = _choices()
    form = CatalogFilterForm(request.GET or None, choices=choices)
    query = form.valid_value("q") if form.is_bound else ""
    lage = form.valid_value("lage") if form.is_bound else ""
    gemeinde = form.valid_value("gemeinde") if form.is_bound else ""
    language = translation.get_language() or "de"
    cacheable = not query and (not form.is_bound or form.is_valid())
    key = catalog_cache.key("list", language, lage, gemeinde) if cacheable else None

    def context() -> dict[str, Any]:
        situation = _lookup(LifeSituation, lage)
        municipality = _lookup(Municipality, gemeinde)
        services = selectors.search_services(
            query=query, life_situation=situation, municipality=municipality
        )
        return {
            "form": form,
            "query": query,
            "life_situation": situation,
            "municipality": municipality,
            "services": services,
            "groups": (
                []
                if query
                else selectors.group_by_life_situation(services, selectors.life_situations())
            ),
        }

    content = _cached_render(key, "portal/catalog/_catalog.html", context)
    response = render(
        request,
        "portal/catalog/catalog.html",
        {"content": mark_safe(content)},  # noqa: S308
    )
    return _private_unless(cacheable, response)


def _private_unless(cacheable: bool, response: HttpResponse) -> HttpResponse:
    """Keep a page for an invalid filter out of shared caches and the anonymous page cache."""
    if not cacheable:
        patch_cache_control(response, private=True)
    return response


def _apply_url(service: Service) -> str:
    """The start of the online application, for online services that have a form."""
    if not service.online or service.is_external or not has_form(service):
        return ""
    try:
        return reverse("applications:start", kwargs={"service_slug": service.slug})
    except NoReverseMatch:
        return ""


def service_detail(request: HttpRequest, slug: str) -> HttpResponse:
    choices = _choices()
    form = MunicipalityForm(request.GET or None, choices=choices)
    gemeinde = ""
    if form.is_bound and form.is_valid():
        gemeinde = form.cleaned_data["gemeinde"] or ""
    language = translation.get_language() or "de"
    cacheable = not form.is_bound or form.is_valid()
    key = catalog_cache.key("service", language, slug, gemeinde) if cacheable else None
    cached = cache.get(key) if key else None
    if cached is None:
        service = selectors.service_by_slug(slug)
        if service is None:
            raise Http404("No such service.")
        municipality = _lookup(Municipality, gemeinde)
        responsibility = (
            selectors.responsibility_for(service=service, municipality=municipality)
            if municipality is not None
            else None
        )
        html = render_to_string(
            "portal/catalog/_service.html",
            {
                "service": service,
                "form": form,
                "municipality": municipality,
                "responsibility": responsibility,
                "responsibilities": (
                    selectors.responsibilities_of(service) if municipality is None else []
                ),
                "apply_url": _apply_url(service),
            },
        )
        cached = (service.name, html)
        if key is not None:
            cache.set(key, cached, catalog_cache.TIMEOUT)
    title, html = cached
    response = render(
        request,
        "portal/catalog/service.html",
        {"content": mark_safe(html), "title": title},  # noqa: S308
    )
    return _private_unless(cacheable, response)
