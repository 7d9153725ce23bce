"""Deleting users in the Django admin follows the erasure rules of the citizen's own deletion
(``services.delete_account``): refused while the authority keeps applications, drafts deleted with
their files, accessibility feedback anonymised, login answers removed; an application never goes
with its applicant (``on_delete=PROTECT``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.messages import get_messages
from django.db.models import ProtectedError
from django.test import Client

from rathaus.accounts.models import IdentityProvider, LoginAttempt, User
from rathaus.applications.models import Application
from rathaus.applications.services import submit_application
from rathaus.catalog.models import Service
from rathaus.core.models import AuditEvent, Municipality
from rathaus.portal.models import AccessibilityFeedback
from tests.accounts.factories import PASSWORD, ProfileFactory, StaffFactory
from tests.accounts.test_mfa import totp_code
from tests.applications.conftest import (  # noqa: F401
    _forget_form_versions,
    citizen,
    clamd_address,
    demo,
    meldebescheinigung,
    wuppertal,
)
from tests.applications.meldebescheinigung import answer_all
from tests.applications.test_services import _start

pytestmark = pytest.mark.django_db


@pytest.fixture
def administrator() -> User:
    user: User = StaffFactory(email="admin@stadt.example.org", is_superuser=True)
    return user


@pytest.fixture
def admin_client(administrator: User) -> Client:
    secret = generate_totp_secret()
    TOTP.activate(administrator, secret)
    client = Client()
    client.post("/konto/login/", {"login": administrator.email, "password": PASSWORD})
    client.post("/konto/2fa/authenticate/", {"code": totp_code(secret)})
    assert client.get("/admin/accounts/user/").status_code == 200
    return client


@dataclass(frozen=True)
class Scene:
    citizen: User
    service: Service
    municipality: Municipality


@pytest.fixture
def scene(
    citizen: User,  # noqa: F811
    meldebescheinigung: Service,  # noqa: F811
    wuppertal: Municipality,  # noqa: F811
) -> Scene:
    """A citizen with a profile and the demo's Meldebescheinigung in Wuppertal."""
    return Scene(citizen, meldebescheinigung, wuppertal)


def _draft(scene: Scene) -> Application:
    return _start(scene.citizen, scene.service, scene.municipality)


def _submitted(scene: Scene) -> Application:
    application = _draft(scene)
    answer_all(application)
    submit_application(
        application=application,
        idempotency_key=str(uuid.uuid4()),
        confirmed=True,
        actor=scene.citizen,
    )
    application.refresh_from_db()
    assert application.status == Application.Status.SUBMITTED
    return application


def _login_attempt(user: User, municipality: Municipality) -> LoginAttempt:
    provider = IdentityProvider.objects.create(
        municipality=municipality,
        slug="stadtkonto",
        name="Stadtkonto",
        protocol=IdentityProvider.Protocol.OIDC,
        allowed_levels=["low"],
        issuer="https://id.example.org",
        client_id="rathaus",
    )
    return LoginAttempt.objects.create(
        id=uuid.uuid4(),
        provider=provider,
        required_level="low",
        user=user,
        browser_key="b",
        request_id=str(uuid.uuid4()),
    )


def _messages(response: object) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]  # type: ignore[attr-defined]


def test_admin_deletion_is_refused_while_the_authority_keeps_applications(
    admin_client: Client, scene: Scene
) -> None:
    person = scene.citizen
    application = _submitted(scene)
    feedback = AccessibilityFeedback.objects.create(
        name="Erika Mustermann", email="erika@example.org", message="Kontrast", user=person
    )

    page = admin_client.get(f"/admin/accounts/user/{person.pk}/delete/")
    assert page.status_code == 200
    response = admin_client.post(f"/admin/accounts/user/{person.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert response["Location"] == f"/admin/accounts/user/{person.pk}/change/"
    assert any("nicht gelöscht" in m for m in _messages(response))
    assert User.objects.filter(pk=person.pk).exists()
    assert Application.objects.filter(pk=application.pk).exists()
    feedback.refresh_from_db()
    assert (feedback.name, feedback.email) == ("Erika Mustermann", "erika@example.org")
    assert not AuditEvent.objects.filter(action__endswith="accounts.user.deleted").exists()


def test_admin_deletion_erases_like_the_citizens_own(
    admin_client: Client, administrator: User, scene: Scene
) -> None:
    person = scene.citizen
    draft = _draft(scene)
    feedback = AccessibilityFeedback.objects.create(
        name="Erika Mustermann", email="erika@example.org", message="Kontrast", user=person
    )
    _login_attempt(person, scene.municipality)

    response = admin_client.post(f"/admin/accounts/user/{person.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not User.objects.filter(pk=person.pk).exists()
    assert not Application.objects.filter(pk=draft.pk).exists()
    assert AuditEvent.objects.filter(action="application.draft_deleted").exists()
    feedback.refresh_from_db()
    assert (feedback.name, feedback.email, feedback.user) == ("", "", None)
    assert not LoginAttempt.objects.exists()
    event = AuditEvent.objects.get(action="accounts.user.deleted")
    assert event.actor == administrator
    assert AuditEvent.objects.filter(action="admin.accounts.user.deleted").exists()


def test_bulk_deletion_deletes_the_others_and_names_the_refused(
    admin_client: Client, scene: Scene
) -> None:
    person = scene.citizen
    _submitted(scene)
    other = ProfileFactory(user__email="max@example.org").user

    response = admin_client.post(
        "/admin/accounts/user/",
        {"action": "delete_selected", "_selected_action": [person.pk, other.pk], "post": "yes"},
    )

    assert response.status_code == 302
    assert User.objects.filter(pk=person.pk).exists()
    assert not User.objects.filter(pk=other.pk).exists()
    texts = _messages(response)
    assert any(person.email in m for m in texts), texts
    assert not any(other.email in m for m in texts), texts
    assert AuditEvent.objects.filter(action="accounts.user.deleted").count() == 1


def test_an_application_never_goes_with_its_applicant(scene: Scene) -> None:
    _submitted(scene)
    with pytest.raises(ProtectedError):
        scene.citizen.delete()
