"""Documents and legal basis edited in the admin follow the rules of the definition files, and
items stored before the admin checked them cannot break the service page or the API."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
from django.contrib.admin.sites import site
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.db import SessionStore
from django.core.cache import cache
from django.test import RequestFactory

from rathaus.catalog.models import Service

PAGE = "/leistungen/meldebescheinigung/"
API = "/api/v1/services/meldebescheinigung/"


@pytest.fixture
def superuser(demo: None, django_user_model: Any) -> Any:
    return django_user_model.objects.create_superuser(email="admin@example.org", password="x" * 12)


def _admin_form(superuser: Any, **changes: str) -> Any:
    """The service's change form in the admin, bound to what it shows with ``changes`` typed."""
    service = Service.objects.get(slug="meldebescheinigung")
    request = RequestFactory().get("/admin/")
    request.user = superuser
    request.session = SessionStore()
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
    form_class = site._registry[Service].get_form(request, service, change=True)
    form = form_class(instance=service)
    data = {
        name: field.prepare_value(form.initial.get(name))
        for name, field in form.fields.items()
        if form.initial.get(name) is not None
    }
    data["life_situations"] = [ls.pk for ls in service.life_situations.all()]
    data.update(changes)
    return form_class(data, instance=service)


@pytest.mark.parametrize(
    ("field", "typed", "problem"),
    [
        ("documents", '["Personalausweis"]', "must be a list of tables"),
        ("documents", '[{"de": "Personalausweis"}]', "documents[0].en: is required"),
        ("documents", '[{"de": "Ausweis", "en": "ID", "fr": "x"}]', "is not a known field"),
        ("documents", '{"de": "Ausweis", "en": "ID"}', "must be a list of tables"),
        ("legal_basis", '["§ 18 BMG"]', "must be a list of tables"),
        ("legal_basis", '[{"url": "https://www.gesetze-im-internet.de/"}]', "title: is required"),
        ("legal_basis", '[{"title": "BMG", "url": "javascript:alert(1)"}]', "https:// address"),
        ("legal_basis", '[{"title": "BMG", "url": "http://example.org"}]', "https:// address"),
        ("legal_basis", '[{"title": "BMG", "url": 5}]', "url: must be text"),
    ],
)
def test_the_admin_refuses_documents_and_legal_basis_the_definition_files_could_not_hold(
    superuser: Any, field: str, typed: str, problem: str
) -> None:
    form = _admin_form(superuser, **{field: typed})
    assert not form.is_valid()
    assert list(form.errors) == [field]  # beside the field
    assert problem in form.errors[field][0]
    assert form.data[field] == typed  # what was typed is kept


def test_the_admin_takes_documents_and_legal_basis_as_the_files_have_them(
    superuser: Any, client: Any
) -> None:
    form = _admin_form(
        superuser,
        documents='[{"de": " Personalausweis ", "en": "Identity card"}]',
        legal_basis='[{"title": "§ 18 BMG", "url": ""}, {"title": "BMG", '
        '"url": "https://www.gesetze-im-internet.de/bmg/"}]',
    )
    assert form.is_valid(), form.errors
    service = form.save()
    assert service.documents == [{"de": "Personalausweis", "en": "Identity card"}]
    assert service.legal_basis[0] == {"title": "§ 18 BMG", "url": ""}
    cache.clear()
    page = client.get(PAGE)
    assert b"Personalausweis" in page.content
    assert b'href="https://www.gesetze-im-internet.de/bmg/"' in page.content


GOOD_DOCUMENT = {"de": "Meldeschein", "en": "Registration form"}
GOOD_LAW = {"title": "§ 18 BMG", "url": "https://www.gesetze-im-internet.de/bmg/__18.html"}


@pytest.mark.parametrize(
    ("field", "stored", "shown"),
    [
        ("documents", ["Personalausweis", GOOD_DOCUMENT], ["Meldeschein"]),
        ("documents", [{"en": "ID card"}, 7, None, GOOD_DOCUMENT], ["Meldeschein"]),
        ("documents", {"de": "Ausweis"}, []),
        ("legal_basis", ["§ 18 BMG", GOOD_LAW], [GOOD_LAW]),
        ("legal_basis", [{"title": "BMG", "url": None}, [], GOOD_LAW], [GOOD_LAW]),
        ("legal_basis", "BMG", []),
    ],
)
def test_items_stored_before_the_admin_checked_them_are_left_out_of_page_and_api(
    demo: None, client: Any, caplog: Any, field: str, stored: Any, shown: Any
) -> None:
    service = Service.objects.get(slug="meldebescheinigung")
    setattr(service, field, stored)
    service.save()  # as an admin could before Service.clean checked these fields
    cache.clear()
    client.raise_request_exception = False
    with caplog.at_level(logging.WARNING, logger="rathaus.catalog.models"):
        page = client.get(PAGE)
        api = client.get(API, HTTP_ACCEPT="application/json")
    assert (page.status_code, api.status_code) == (200, 200)
    assert json.loads(api.content)[field] == shown
    assert f"meldebescheinigung: {field}[" in caplog.text and "left out" in caplog.text


def test_a_legal_basis_stored_without_an_address_is_shown_without_a_link(
    demo: None, client: Any
) -> None:
    service = Service.objects.get(slug="meldebescheinigung")
    service.legal_basis = [{"title": "§ 18 BMG"}]  # the loader's rules: the url may be left out
    service.save()
    cache.clear()
    client.raise_request_exception = False
    api = client.get(API, HTTP_ACCEPT="application/json")
    assert api.status_code == 200
    assert json.loads(api.content)["legal_basis"] == [{"title": "§ 18 BMG", "url": ""}]
    assert "§ 18 BMG" in client.get(PAGE).content.decode()


def test_a_javascript_link_stored_before_the_check_is_never_rendered_as_a_link(
    demo: None, client: Any
) -> None:
    service = Service.objects.get(slug="meldebescheinigung")
    service.legal_basis = [{"title": "BMG", "url": "javascript:alert(document.cookie)"}]
    service.save()
    cache.clear()
    page = client.get(PAGE)
    api = json.loads(client.get(API, HTTP_ACCEPT="application/json").content)
    assert b"javascript:" not in page.content
    assert api["legal_basis"] == []
