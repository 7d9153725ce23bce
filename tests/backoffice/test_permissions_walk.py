"""Nothing leaks: every URL of the installation, tried by every role on someone else's objects.

The test walks the whole URL resolver (back office, portal, account, API; the Django admin has its
own staff check and is left out), fills each path parameter with the ids of objects that belong
to someone else (a case of another municipality, a case of another org unit, another citizen's
application, mailbox message and file), and requests it as anonymous visitor, citizen, applicant,
clerk, team lead, administrator, planner and a clerk of another municipality. Every answer must be
a refusal (403/404/405, a redirect to the login) or a page without the other's data; every POST
must leave the other's case exactly as it was. A new URL with a path parameter the walker does not
know fails the test until the walker learns how to fill it.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from rathaus.accounts.models import User
from rathaus.accounts.roles import ADMINISTRATOR, CLERK, PLANNER, TEAM_LEAD
from rathaus.applications.models import Application
from rathaus.backoffice.case_page import ACTIONS
from rathaus.casework import services as casework
from rathaus.casework.models import Case, CaseEvent, CaseNote, DocumentRequest, Notice
from rathaus.casework.notice_templates import templates_for
from rathaus.core.models import AuditEvent, Authority, OrgUnit
from rathaus.mailbox.models import Message, MessageAttachment
from rathaus.records.models import DocumentVersion
from tests.accounts.factories import PASSWORD, ProfileFactory
from tests.backoffice.conftest import staff_login, wohnsitz_particulars

pytestmark = pytest.mark.django_db

#: Path prefixes whose object pages must refuse (not just hide data) someone else's ids.
OBJECT_PAGES = ("backoffice/", "antraege/", "postfach/", "zahlung/", "wohnungsgeberbestaetigung/")
SKIPPED_PREFIXES = ("admin/",)
#: POSTs that would end the walker's own session or account, not someone else's data.
NO_POST = ("konto/logout/", "konto/loeschen/", "i18n/setlang/")
OK_STATUSES = {200, 204, 301, 302, 303, 400, 403, 404, 405, 409, 410}


@dataclass
class Secret:
    """Someone else's case with everything hanging off it, and the strings that betray it."""

    label: str
    case: Case
    application: Application
    notice: Notice
    markers: list[str]
    request: DocumentRequest | None = None
    version: DocumentVersion | None = None
    messages: list[Message] = field(default_factory=list)
    attachments: list[MessageAttachment] = field(default_factory=list)

    def ints(self, name: str) -> list[int]:
        if name == "pk":
            return [self.case.pk]
        if name == "notice_pk":
            return [self.notice.pk]
        if name == "version_pk":
            return [self.version.pk] if self.version else [self.case.pk]
        if name == "target":
            return [self.notice.pk] + ([self.request.pk] if self.request else [])
        return [self.case.pk, self.notice.pk]

    def uuids(self, name: str) -> list[uuid.UUID]:
        if name == "attachment_id":
            return [a.public_id for a in self.attachments] or [uuid.uuid4()]
        if name == "request_id" and self.request is not None:
            return [self.request.public_id, self.notice.public_id]
        found = [self.application.public_id, self.case.public_id]
        found += [m.public_id for m in self.messages[:1]]
        if self.request is not None:
            found.append(self.request.public_id)
        return found


STRINGS: dict[str, list[str]] = {
    "action": sorted(ACTIONS),
    "slug": ["wohnsitz-anmelden"],
    "service_slug": ["wohnsitz-anmelden"],
    "step_id": ["move", "landlord_upload"],
    "code": ["ABCD2345"],
    "key": ["invalid-key"],
    "uidb36": ["1"],
}


def _routes() -> Iterator[tuple[str, str, dict[str, str]]]:
    """(namespaced name, route text, {param: converter}) for every named URL."""

    def walk(patterns: list[Any], prefix: str, namespace: str, converters: dict[str, Any]) -> Any:
        for entry in patterns:
            route = prefix + str(entry.pattern)
            found = {**converters, **getattr(entry.pattern, "converters", {})}
            if isinstance(entry, URLResolver):
                space = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                yield from walk(entry.url_patterns, route, space, found)
            elif isinstance(entry, URLPattern) and entry.name:
                yield namespace + entry.name, route, found, entry.pattern.regex.groupindex

    for name, route, converters, groups in walk(get_resolver().url_patterns, "", "", {}):
        if route.startswith(SKIPPED_PREFIXES):
            continue
        params = {p: type(c).__name__ for p, c in converters.items()}
        for group in groups:
            params.setdefault(group, "StringConverter")
        yield name, route, params


def _values(param: str, converter: str, secret: Secret) -> list[Any]:
    if converter == "IntConverter":
        return secret.ints(param)  # type: ignore[return-value]
    if converter == "UUIDConverter":
        return secret.uuids(param)  # type: ignore[return-value]
    if param in STRINGS:
        return STRINGS[param]  # type: ignore[return-value]
    pytest.fail(f"The walker does not know how to fill the path parameter {param!r}.")


def _urls(secret: Secret) -> Iterator[tuple[str, str, bool]]:
    """(route, url, has object id) for every route filled with ``secret``'s ids."""
    for name, route, params in _routes():
        names = sorted(params)
        choices = [_values(p, params[p], secret) for p in names]
        # Each candidate once in each position (not the full product: that only repeats 404s).
        rounds = max((len(c) for c in choices), default=1)
        for i in range(rounds):
            kwargs = {p: c[i % len(c)] for p, c in zip(names, choices, strict=True)}
            yield (
                route,
                reverse(name, kwargs={k: str(v) for k, v in kwargs.items()} or None),
                any(params[p] in ("IntConverter", "UUIDConverter") for p in names),
            )


def _body(response: Any) -> str:
    if getattr(response, "streaming", False):
        content = b"".join(response.streaming_content)
    else:
        content = response.content
    return content.decode("utf-8", errors="replace") + response.get("Location", "")


def _state(secret: Secret) -> tuple[Any, ...]:
    case = Case.objects.get(pk=secret.case.pk)
    return (
        case.status,
        case.assigned_to_id,
        case.org_unit_id,
        case.outcome,
        CaseEvent.objects.filter(case=case).count(),
        CaseNote.objects.filter(case=case).count(),
        DocumentRequest.objects.filter(case=case).count(),
        list(Notice.objects.filter(case=case).values_list("pk", "status", "approved_by_id")),
        AuditEvent.objects.filter(object_type="casework.Case", object_id=str(case.pk)).count(),
        Message.objects.filter(case_number=case.number, authority=case.authority).count(),
    )


def _post_data(user: User | None, secret: Secret) -> dict[str, Any]:
    """Valid-looking input for every form of the case page, aimed at the secret case."""
    tomorrow = (timezone.localdate() + datetime.timedelta(days=14)).isoformat()
    me = user.pk if user is not None else ""
    notice = f"notice{secret.notice.pk}"
    return {
        "assign-assignee": me,
        "assign-org_unit": secret.case.org_unit_id or "",
        "in_review-note": "walker",
        "closed-note": "walker",
        "request-description": "walker",
        "request-due_on": tomorrow,
        "note-text": "walker",
        "draft-template_key": "granted",
        f"{notice}-title": "walker",
        f"{notice}-outcome": "granted",
        f"{notice}-body": "walker",
        f"{notice}-legal_basis": "walker",
        f"{notice}-remedy": "walker",
        f"revoke{secret.notice.pk}-reason": "walker",
        f"revoke{secret.notice.pk}-kind": "withdrawn",
        f"revoke{secret.notice.pk}-legal_basis": "walker",
        "bulk-cases": [secret.case.pk],
        "bulk-assignee": me,
        "next": "/backoffice/",
    }


# --- the world ----------------------------------------------------------------------------------


def _secret(
    label: str,
    *,
    authority: Authority,
    unit: OrgUnit,
    worker: User,
    issue: bool,
    owner: User | None = None,
) -> Secret:
    family = f"Geheim{label.title()}"
    applicant = owner or ProfileFactory(family_name=family).user
    if owner is None:
        applicant.email = f"{family.lower()}@example.org"
        applicant.save(update_fields=["email"])
    particulars = wohnsitz_particulars(family)
    case = casework.open_case(
        service=_service(),
        authority=authority,
        org_unit=unit,
        applicant=applicant,
        title=f"Anmeldung {family}",
        actor=applicant,
        particulars=particulars,
    )
    application = Application.objects.create(
        applicant=applicant,
        service=case.service,
        municipality=authority.municipality,
        authority=authority,
        status=Application.Status.SUBMITTED,
        answers=particulars,
        submitted_data=particulars,
        reference=f"W-{label.upper()}-{case.pk}",
        submitted_at=timezone.now(),
        case=case,
    )
    casework.add_note(case=case, text=f"Notiz {family}-INTERN", actor=worker)
    granted = next(k for k, t in templates_for(case.service.slug).items() if t.outcome == "granted")
    notice = casework.draft_notice(case=case, template_key=granted, actor=worker)
    request = None
    if issue:
        notice = casework.issue_notice(notice=notice, actor=worker)
    else:
        request = casework.request_documents(
            case=case,
            description=f"Unterlage {family}-NACHWEIS",
            due_on=timezone.localdate() + datetime.timedelta(days=10),
            actor=worker,
        )
    case.refresh_from_db()
    version = DocumentVersion.objects.filter(document__file=case.file).order_by("pk").first()
    messages = list(Message.objects.filter(owner=applicant, case_number=case.number))
    markers = [family, f"{family}-INTERN", case.file.reference]
    if owner is None:
        markers.append(applicant.email)
    if request is not None:
        markers.append(f"{family}-NACHWEIS")
    return Secret(
        label=label,
        case=case,
        application=application,
        notice=notice,
        markers=markers,
        request=request,
        version=version,
        messages=messages,
        attachments=list(MessageAttachment.objects.filter(message__in=messages)),
    )


def _service() -> Any:
    from rathaus.catalog.models import Service

    return Service.objects.get(slug="wohnsitz-anmelden")


@dataclass
class World:
    users: dict[str, User | None]
    secrets: dict[str, Secret]
    #: who must not see which secret
    forbidden: dict[str, list[str]]
    #: who must see which secret on its case page (positive controls)
    allowed: dict[str, str]


@pytest.fixture
def world(
    make_staff: Callable[..., User],
    citizens_office: Authority,
    foreign_office: Authority,
    unit: OrgUnit,
    other_unit: OrgUnit,
) -> World:
    foreign_unit = foreign_office.units.order_by("code").first()
    assert foreign_unit is not None
    clerk = make_staff(CLERK, unit, name="clara")
    neighbour = make_staff(CLERK, other_unit, name="nina")
    lead = make_staff(TEAM_LEAD, unit, name="theresa")
    admin = make_staff(ADMINISTRATOR, unit, name="anton")
    planner = make_staff(PLANNER, name="paula")
    stranger = make_staff(CLERK, foreign_unit, name="sven")
    applicant = ProfileFactory(family_name="Eigenantrag").user
    citizen = ProfileFactory(family_name="Unbeteiligt").user
    secrets = {
        "own": _secret(
            "own", authority=citizens_office, unit=unit, worker=clerk, issue=False, owner=applicant
        ),
        "neighbour": _secret(
            "neighbour", authority=citizens_office, unit=other_unit, worker=neighbour, issue=False
        ),
        "foreign": _secret(
            "foreign", authority=foreign_office, unit=foreign_unit, worker=stranger, issue=True
        ),
    }
    return World(
        users={
            "anonymous": None,
            "citizen": citizen,
            "applicant": applicant,
            "clerk": clerk,
            "team_lead": lead,
            "administrator": admin,
            "planner": planner,
            "other_municipality": stranger,
        },
        secrets=secrets,
        forbidden={
            # Refused before any object is looked at: one secret shows it.
            "anonymous": ["own"],
            "planner": ["own"],
            "citizen": ["own", "foreign"],
            "applicant": ["neighbour", "foreign"],
            "clerk": ["neighbour", "foreign"],
            "team_lead": ["neighbour", "foreign"],
            "administrator": ["foreign"],
            "other_municipality": ["own", "neighbour"],
        },
        allowed={"clerk": "own", "administrator": "neighbour", "other_municipality": "foreign"},
    )


def _client(user: User | None) -> Client:
    client = Client()
    if user is None:
        return client
    if hasattr(user, "secret"):
        return staff_login(client, user)
    response = client.post("/konto/login/", {"login": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


# --- the walk -----------------------------------------------------------------------------------


@pytest.fixture
def _plain_template_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test client copies every template context it renders; thousands of pages later that
    is most of this test's time. Render as in production instead (nothing here reads contexts)."""
    from django.template.base import Template

    monkeypatch.setattr(Template, "_render", lambda self, context: self.nodelist.render(context))


def _check(
    client: Client, method: str, url: str, data: Any, secrets: list[Secret], where: str
) -> int:
    response = getattr(client, method)(url, data if method == "post" else None)
    assert response.status_code in OK_STATUSES, f"{where}: {response.status_code}"
    body = _body(response)
    for secret in secrets:
        for marker in secret.markers:
            assert marker not in body, f"{where} shows {marker!r} of {secret.label}"
    return int(response.status_code)


@pytest.mark.usefixtures("_plain_template_rendering")
def test_no_url_leaks_anything_to_anyone(world: World) -> None:
    routes = list(_routes())
    assert any(route.startswith("backoffice/vorgaenge/") for _n, route, _p in routes)
    assert any(route.startswith("postfach/") for _n, route, _p in routes)
    assert any(route.startswith("api/") for _n, route, _p in routes)
    checked = 0
    for role, user in world.users.items():
        client = _client(user)
        secrets = [world.secrets[label] for label in world.forbidden[role]]
        before = {secret.label: _state(secret) for secret in secrets}
        # Pages without an object in the path: once per person, none may show a secret.
        for name, route, params in routes:
            if params:
                continue
            url = reverse(name)
            for method in ("get", "post") if route.startswith("backoffice/") else ("get",):
                data = _post_data(user, secrets[0])
                _check(client, method, url, data, secrets, f"{role} {method.upper()} {url}")
                checked += 1
        # Pages of an object: filled with each secret's ids in turn.
        for secret in secrets:
            data = _post_data(user, secret)
            for route, url, has_object in _urls(secret):
                if not has_object and not route.startswith("backoffice/"):
                    continue
                methods = ["get"] if route.startswith(NO_POST) else ["get", "post"]
                for method in methods:
                    where = f"{role} {method.upper()} {url} ({secret.label})"
                    status = _check(client, method, url, data, [secret], where)
                    if has_object and route.startswith(OBJECT_PAGES) and method == "get":
                        assert status != 200, f"{where} answered 200"
                    checked += 1
        for secret in secrets:
            assert _state(secret) == before[secret.label], f"{role} changed {secret.label}"
        if user is not None:
            # Still logged in: the walk was not reduced to anonymous requests half-way.
            assert client.get("/konto/").status_code == 200, role
    assert checked > 500


def test_the_walkers_secrets_are_visible_to_those_allowed(world: World) -> None:
    """Positive control: the same pages do show the data to the right people."""
    for role, label in world.allowed.items():
        secret = world.secrets[label]
        client = _client(world.users[role])
        page = client.get(f"/backoffice/vorgaenge/{secret.case.pk}/")
        assert page.status_code == 200, role
        for marker in secret.markers:
            assert marker in page.content.decode(), f"{role} misses {marker!r}"
    owner = _client(world.users["applicant"])
    own = world.secrets["own"]
    detail = owner.get(f"/antraege/{own.application.public_id}/")
    assert detail.status_code == 200
    assert "GeheimOwn" in detail.content.decode() or "Eigenantrag" in detail.content.decode()
    for message in own.messages:
        assert owner.get(f"/postfach/{message.public_id}/").status_code == 200
