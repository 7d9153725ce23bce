"""Hostile input everywhere: every form of every page, filled with values nobody should send.

The permission walk (``test_permissions_walk``) proves that nobody reaches someone else's data.
This walk proves the other half of "a 500 is a bug": each person opens every page they may see
(citizen, applicant, clerk, team lead, administrator, planner; the citizen also every step of a
draft of each online service), reads every form on it from the
HTML the way a browser would (fields, hidden values, options, the form's action and method), and
sends it back with each field replaced in turn by hostile values: a NUL character, text far over
any limit, numbers out of every range, an impossible date, markup, a list where one value belongs,
a missing field. Query strings of the pages' GET forms and of the list pages get the same.
Every answer must be a page or a refusal, never a server error; each finding names the role, the
form and the field.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rathaus.applications.services import start_application
from rathaus.catalog.form_schemas import form_schema, has_form
from rathaus.catalog.models import Service
from rathaus.core.models import Municipality
from rathaus.registers.models import Election
from tests.backoffice import test_permissions_walk as walk
from tests.backoffice.test_permissions_walk import NO_POST, World, _client, _routes, _urls

# The permission walk's people, cases and fast rendering, shared as fixtures.
world = walk.world
_plain_template_rendering = walk._plain_template_rendering

pytestmark = pytest.mark.django_db

#: One field at a time gets each of these; the rest of the form keeps what the page offered.
HOSTILE: list[Any] = [
    "\x00",
    "a" * 20_000,
    "-1",
    "99999999999999999999999",
    "NaN",
    "2026-02-30",
    "<script>alert(1)</script>",
    ["1", "2"],
]
#: Forms whose submission ends the walker's session or account, or the language it reads.
SKIP_ACTIONS = (*NO_POST, "konto/login/", "konto/passwort/")
#: Forms that delete what the walk still has to visit (a draft).
SKIP_ENDINGS = ("/loeschen/",)


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, list[str]] = field(default_factory=dict)


class _Forms(HTMLParser):
    """The forms of a page as a browser would submit them untouched (checked boxes and radios,
    the selected option or else the first, text and hidden values)."""

    def __init__(self, page_url: str) -> None:
        super().__init__()
        self.page_url = page_url
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: str | None = None
        self._select_first: str | None = None
        self._select_chosen = False
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            action = urljoin(self.page_url, a.get("action") or self.page_url)
            self._form = Form(action=action, method=(a.get("method") or "get").lower())
            self.forms.append(self._form)
            return
        form = self._form
        if form is None or "name" not in a or "disabled" in a:
            return
        name = a["name"]
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "image", "reset"):
                form.fields.setdefault(name, [])
                if a.get("value") and not form.fields[name]:
                    form.fields[name] = [a["value"]]
            elif kind in ("checkbox", "radio"):
                if "checked" in a:
                    form.fields.setdefault(name, []).append(a.get("value") or "on")
                else:
                    form.fields.setdefault(name, [])
            elif kind == "file":
                form.fields.setdefault(name, [])
            else:
                form.fields.setdefault(name, []).append(a.get("value", ""))
        elif tag == "select":
            self._select, self._select_first, self._select_chosen = name, None, False
            form.fields.setdefault(name, [])
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in a:
                form.fields[self._select].append(value)
                self._select_chosen = True
        elif tag == "textarea":
            self._textarea = name
            form.fields.setdefault(name, []).append("")

    def handle_data(self, data: str) -> None:
        if self._textarea is not None and self._form is not None:
            self._form.fields[self._textarea][-1] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select" and self._form is not None and self._select is not None:
            if not self._select_chosen and self._select_first is not None:
                self._form.fields[self._select].append(self._select_first)
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _forms(page_url: str, html: str) -> list[Form]:
    parser = _Forms(page_url)
    parser.feed(html)
    return parser.forms


def _variants(form: Form) -> Iterator[tuple[str, dict[str, Any]]]:
    """(what was changed, data) for each field x each hostile value, and each field left out."""
    base = {k: v for k, v in form.fields.items() if v}
    for name in form.fields:
        if name in ("csrfmiddlewaretoken",):
            continue
        rest = {k: v for k, v in base.items() if k != name}
        yield f"{name} missing", rest
        for value in HOSTILE:
            yield f"{name}={value!r:.30}", {**rest, name: value}


@pytest.fixture
def drafts(world: World) -> list[str]:
    """The citizen's drafts, one of every service with an online form: each step's page."""
    wuppertal = Municipality.objects.get(ags="05124000")
    now = timezone.now()
    day = timezone.localdate(now) + datetime.timedelta(days=40)
    Election.objects.create(
        municipality=wuppertal,
        name="Walker-Wahl",
        election_day=day + datetime.timedelta(days=6 - day.weekday()),  # a Sunday
        postal_vote_from=now - datetime.timedelta(days=1),
        postal_vote_deadline=now + datetime.timedelta(days=30),
    )
    citizen = world.users["citizen"]
    assert citizen is not None
    pages = []
    services = [s for s in Service.objects.filter(online=True).order_by("slug") if has_form(s)]
    assert len(services) >= 4
    for service in services:
        draft = start_application(
            applicant=citizen, service=service, municipality=wuppertal, trust_level="high"
        )
        schema, _digest = form_schema(service)
        pages += [f"/antraege/{draft.public_id}/schritt/{step.id}/" for step in schema.steps]
    return pages


def _pages(world: World, role: str, drafts: list[str]) -> Iterator[str]:
    """Every page ``role`` may open: the plain ones, the object pages of its own secret, and
    for the citizen every step of a draft of each service."""
    if role == "citizen":
        yield from drafts
    own = world.allowed.get(role) or ("own" if role == "applicant" else None)
    for name, route, params in _routes():
        if route.startswith(NO_POST):
            continue
        if not params:
            yield reverse(name)
    if own is not None:
        for route, url, has_object in _urls(world.secrets[own]):
            if has_object and not route.startswith(NO_POST):
                yield url


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _send(client: Client, method: str, url: str, data: dict[str, Any]) -> int:
    response = getattr(client, method)(_path(url), data)
    walk._body(response)  # a streamed answer fails only while it is read
    return int(response.status_code)


ROLES = ["citizen", "applicant", "clerk", "team_lead", "administrator", "planner"]


@pytest.mark.usefixtures("_plain_template_rendering")
@pytest.mark.parametrize("role", ROLES)
def test_no_form_answers_hostile_input_with_a_server_error(
    world: World, drafts: list[str], role: str
) -> None:
    client = _client(world.users[role])
    client.raise_request_exception = False
    if role == "citizen":
        # As after a login with the online ID card: every service's draft may be worked on.
        session = client.session
        session["rathaus_trust_level"] = "high"
        session.save()
    failures: list[str] = []
    forms_seen: set[tuple[str, str, tuple[str, ...]]] = set()
    sent = 0
    for page in _pages(world, role, drafts):
        response = client.get(page)
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        for form in _forms(f"http://testserver{page}", response.content.decode()):
            key = (form.method, urlsplit(form.action).path, tuple(sorted(form.fields)))
            if key in forms_seen or form.method not in ("get", "post"):
                continue
            forms_seen.add(key)
            path = urlsplit(form.action).path
            if path.lstrip("/").startswith(SKIP_ACTIONS) or path.endswith(SKIP_ENDINGS):
                continue
            for what, data in _variants(form):
                status = _send(client, form.method, form.action, data)
                sent += 1
                if status >= 500:
                    where = f"{form.method.upper()} {form.action} [{what}]"
                    failures.append(f"{role} {where}: {status}")
        for value in HOSTILE[:4]:
            status = _send(client, "get", page, {"page": value, "q": value, "sort": value})
            sent += 1
            if status >= 500:
                failures.append(f"{role} GET {page}?page/q/sort={value!r:.30}: {status}")
    assert sent > 100, sent
    assert not failures, "\n".join(sorted(set(failures))[:60])


#: The admin's forms are long; these values cover lengths, number ranges, dates and lists.
ADMIN_HOSTILE: list[Any] = [
    "\x00",
    "a" * 20_000,
    "99999999999999999999999",
    "2026-02-30",
    ["1", "2"],
]


@pytest.mark.usefixtures("_plain_template_rendering")
def test_the_admin_answers_hostile_input_without_a_server_error(
    world: World, admin_client: Client
) -> None:
    """Every model in the admin: its list searched, sorted and paged with nonsense, its add
    form and the change form of its first object sent back with every field made hostile."""
    admin_client.raise_request_exception = False
    failures: list[str] = []
    sent = posted = 0
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        changelist = f"/admin/{meta.app_label}/{meta.model_name}/"
        for query in ({"q": "\x00"}, {"q": "a" * 5000}, {"o": "99.x"}, {"p": "-1"}, {"all": "x"}):
            sent += 1
            if (status := _send(admin_client, "get", changelist, query)) >= 500:
                failures.append(f"GET {changelist} {query!r:.40}: {status}")
        pages = [f"{changelist}add/"]
        first = model_admin.get_queryset(None).order_by("pk").first()  # type: ignore[arg-type]
        if first is not None:
            pages.append(f"{changelist}{first.pk}/change/")
        for page in pages:
            response = admin_client.get(page)
            if response.status_code >= 500:
                failures.append(f"GET {page}: {response.status_code}")
            if response.status_code != 200:
                continue
            for form in _forms(f"http://testserver{page}", response.content.decode()):
                if form.method != "post" or urlsplit(form.action).path.endswith("/logout/"):
                    continue
                # Every field at once: one request per value (a failure names form and value).
                for value in ADMIN_HOSTILE:
                    data = {k: v for k, v in form.fields.items() if v}
                    data |= {k: value for k in form.fields if k != "csrfmiddlewaretoken"}
                    posted += 1
                    if (status := _send(admin_client, "post", form.action, data)) >= 500:
                        failures.append(f"POST {page} [every field={value!r:.30}]: {status}")
    assert sent > 100, sent
    assert posted > 100, posted  # the forms were reached, not a login or second-factor page
    assert not failures, "\n".join(failures[:60])
