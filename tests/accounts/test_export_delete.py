"""Data export (Art. 15, 20 GDPR) and account deletion (Art. 17 GDPR)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.models import Group
from django.test import Client

from rathaus.accounts import personal_data, services
from rathaus.accounts.models import Profile, User
from rathaus.accounts.roles import ADMINISTRATOR, CLERK, PLANNER, TEAM_LEAD
from rathaus.core.models import AuditEvent
from tests.accounts.conftest import log_in
from tests.accounts.factories import PASSWORD, ProfileFactory, UserFactory

pytestmark = pytest.mark.django_db


def _download(client: Client) -> dict[str, Any]:
    response = client.post("/konto/daten-export/herunterladen/")
    assert response.status_code == 200, response.get("Location")
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    return json.loads(response.content)


def test_export_contains_the_citizens_data_without_secrets(client: Client) -> None:
    profile = ProfileFactory()
    secret = generate_totp_secret()
    TOTP.activate(profile.user, secret)
    client.force_login(profile.user)  # no login record: re-authentication is asked first
    response = client.post("/konto/daten-export/herunterladen/")
    assert response.status_code == 302
    client.logout()
    client.post("/konto/login/", {"login": profile.user.email, "password": PASSWORD})
    from tests.accounts.test_mfa import totp_code

    client.post("/konto/2fa/authenticate/", {"code": totp_code(secret)})

    document = _download(client)
    assert document["format"] == personal_data.EXPORT_FORMAT
    assert document["account"]["email"] == profile.user.email
    assert document["email_addresses"] == [
        {"email": profile.user.email, "verified": True, "primary": True}
    ]
    assert document["profile"]["family_name"] == "Mustermann"
    assert document["profile"]["postal_code"] == "42103"
    assert document["authenticators"][0]["type"] == "totp"
    assert secret not in json.dumps(document)
    assert AuditEvent.objects.filter(action="accounts.personal_data.exported").exists()


def test_export_holds_only_the_logged_in_citizens_data(
    citizen_client: Client, citizen: User
) -> None:
    other = ProfileFactory(family_name="Andere")
    response = citizen_client.post(
        f"/konto/daten-export/herunterladen/?user={other.user.pk}", {"user": other.user.pk}
    )
    text = response.content.decode()
    assert citizen.email in text
    assert other.user.email not in text
    assert "Andere" not in text


@pytest.fixture
def extra_section() -> Iterator[None]:
    personal_data.register_export_section("example_module", lambda user: [{"id": user.pk}])
    yield
    personal_data._export_sections.pop("example_module")


def test_higher_modules_contribute_sections_to_the_export(
    citizen_client: Client, citizen: User, extra_section: None
) -> None:
    assert _download(citizen_client)["example_module"] == [{"id": citizen.pk}]


def test_export_needs_a_login_and_a_post(client: Client, citizen: User) -> None:
    assert client.post("/konto/daten-export/herunterladen/").status_code == 302
    log_in(client, citizen)
    assert client.get("/konto/daten-export/herunterladen/").status_code == 405


def test_deleting_the_account_removes_personal_data(citizen_client: Client, citizen: User) -> None:
    ProfileFactory(user=citizen)
    TOTP.activate(citizen, generate_totp_secret())
    pk, email = citizen.pk, citizen.email
    response = citizen_client.post("/konto/loeschen/", {"password": PASSWORD, "confirm": "on"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=pk).exists()
    assert not Profile.objects.filter(user_id=pk).exists()
    assert not EmailAddress.objects.filter(email=email).exists()
    assert not Authenticator.objects.filter(user_id=pk).exists()
    event = AuditEvent.objects.get(action="accounts.user.deleted")
    assert event.object_id == str(pk)
    assert email not in event.actor_label
    assert citizen_client.get("/konto/").status_code == 302  # logged out


def test_deletion_with_a_wrong_password_keeps_the_account(
    citizen_client: Client, citizen: User
) -> None:
    response = citizen_client.post("/konto/loeschen/", {"password": "falsch", "confirm": "on"})
    assert response.status_code == 200
    assert 'id="id_password_error"' in response.content.decode()
    assert User.objects.filter(pk=citizen.pk).exists()


def test_deletion_needs_the_confirmation_box(citizen_client: Client, citizen: User) -> None:
    response = citizen_client.post("/konto/loeschen/", {"password": PASSWORD})
    assert 'id="id_confirm_error"' in response.content.decode()
    assert User.objects.filter(pk=citizen.pk).exists()


def test_an_erasure_handler_can_block_the_deletion(citizen_client: Client, citizen: User) -> None:
    def block(user: Any) -> None:
        raise personal_data.ErasureBlocked("Ein Vorgang wird noch bearbeitet.")

    personal_data.register_erasure_handler("cases", block)
    try:
        response = citizen_client.post("/konto/loeschen/", {"password": PASSWORD, "confirm": "on"})
    finally:
        personal_data._erasure_handlers.pop("cases")
    assert "Ein Vorgang wird noch bearbeitet." in response.content.decode()
    assert User.objects.filter(pk=citizen.pk).exists()
    assert not AuditEvent.objects.filter(action="accounts.user.deleted").exists()


def test_guessing_the_password_on_the_deletion_page_is_throttled(
    citizen_client: Client, citizen: User
) -> None:
    for _attempt in range(10):
        citizen_client.post("/konto/loeschen/", {"password": "falsch", "confirm": "on"})
    response = citizen_client.post("/konto/loeschen/", {"password": PASSWORD, "confirm": "on"})
    assert "Zu viele Versuche" in response.content.decode()
    assert User.objects.filter(pk=citizen.pk).exists()


@pytest.mark.parametrize("role", [CLERK, TEAM_LEAD, ADMINISTRATOR, PLANNER])
def test_staff_by_role_alone_cannot_delete_their_own_account(citizen: User, role: str) -> None:
    """Clerks and team leads are staff by their group, not by ``is_staff``."""
    citizen.groups.add(Group.objects.get_or_create(name=role)[0])
    assert not citizen.is_staff and not citizen.is_superuser
    with pytest.raises(
        personal_data.ErasureBlocked, match="Konten von Beschäftigten schließt die Administration"
    ):
        services.delete_account(user=citizen)
    assert User.objects.filter(pk=citizen.pk).exists()
    assert not AuditEvent.objects.filter(action="accounts.user.deleted").exists()


def test_other_modules_users_are_untouched_by_a_deletion(citizen_client: Client) -> None:
    other = UserFactory()
    citizen_client.post("/konto/loeschen/", {"password": PASSWORD, "confirm": "on"})
    assert User.objects.filter(pk=other.pk).exists()


def test_records_protected_by_another_module_block_the_deletion_cleanly(
    citizen_client: Client, citizen: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.db.models import ProtectedError

    def protected(self: User, *args: Any, **kwargs: Any) -> None:
        raise ProtectedError("case file", set())

    monkeypatch.setattr(User, "delete", protected)
    response = citizen_client.post("/konto/loeschen/", {"password": PASSWORD, "confirm": "on"})
    assert response.status_code == 200
    assert "aufbewahren muss" in response.content.decode()
    assert User.objects.filter(pk=citizen.pk).exists()
    assert not AuditEvent.objects.filter(action="accounts.user.deleted").exists()


# --- accounts made by a citizen-account login (no password, no second factor) --------------


def _citizen_account_login(client: Client, saml_provider: Any, saml_idp: Any) -> User:
    from tests.accounts.test_saml_login import saml_login

    saml_login(client, saml_provider, saml_idp, "eid", "high")
    return User.objects.get()


def test_citizen_account_login_counts_as_recent_for_the_export(
    client: Client, saml_provider: Any, saml_idp: Any
) -> None:
    """Such an account has nothing allauth could ask for: it was sent to the login page and
    straight back, and could neither export its data nor delete itself."""
    user = _citizen_account_login(client, saml_provider, saml_idp)
    assert not user.has_usable_password()

    document = _download(client)

    assert document["citizen_accounts"] == [
        {
            "provider": "BundID (Test)",
            "issuer": saml_idp.base_url + "/metadata",
            "subject": "bpk2-test-eid-0003",
            "trust_level": "high",
            "linked_at": user.federated_identities.get().linked_at.isoformat(),
            "last_login_at": user.federated_identities.get().last_login_at.isoformat(),
        }
    ]


def test_a_later_confirmation_goes_through_the_citizen_account(
    client: Client, saml_provider: Any, saml_idp: Any
) -> None:
    from allauth.account.authentication import AUTHENTICATION_METHODS_SESSION_KEY

    from tests.accounts.identity_providers import idp_login, post_to_acs

    _citizen_account_login(client, saml_provider, saml_idp)
    session = client.session
    session[AUTHENTICATION_METHODS_SESSION_KEY] = [
        {**record, "at": record["at"] - 3600}
        for record in session[AUTHENTICATION_METHODS_SESSION_KEY]
    ]
    session.save()

    asked = client.post(
        "/konto/daten-export/herunterladen/", HTTP_REFERER="http://testserver/konto/daten-export/"
    )
    assert asked.status_code == 302
    assert asked["Location"].startswith("/konto/extern/bestaetigen/")
    to_idp = client.get(asked["Location"], HTTP_REFERER="http://testserver/konto/daten-export/")
    assert to_idp["Location"].startswith("/konto/extern/bundid-test/anmelden/")
    action, fields = idp_login(saml_idp, client.get(to_idp["Location"])["Location"], "eid")
    back = client.get(post_to_acs(client, action, fields)["Location"])

    assert back["Location"] == "http://testserver/konto/daten-export/"
    assert _download(client)["citizen_accounts"][0]["subject"] == "bpk2-test-eid-0003"


def test_deleting_a_citizen_account_user_removes_the_login_answers(
    client: Client, saml_provider: Any, saml_idp: Any
) -> None:
    from rathaus.accounts.models import FederatedIdentity, LoginAttempt
    from tests.accounts.identity_providers import idp_login, post_to_acs, start_saml

    user = _citizen_account_login(client, saml_provider, saml_idp)
    # a second login, answered but never finished: the answer holds name, birth date, address
    post_to_acs(Client(), *idp_login(saml_idp, start_saml(Client(), saml_provider), "eid"))
    assert LoginAttempt.objects.filter(user=None, status="answered").exists()

    response = client.post("/konto/loeschen/", {"confirm": "on"})

    assert response.status_code == 302
    assert not User.objects.filter(pk=user.pk).exists()
    assert not FederatedIdentity.objects.exists()
    assert not LoginAttempt.objects.exists()


@pytest.mark.parametrize("answered", [True, False])
def test_accessibility_feedback_is_anonymised_with_the_account(
    citizen: User, answered: bool
) -> None:
    from django.utils import timezone

    from rathaus.portal.models import AccessibilityFeedback
    from rathaus.portal.services import submit_accessibility_feedback

    submit_accessibility_feedback(
        actor=citizen,
        name="Kim Muster",
        email="kim@example.de",
        message="Ich bin blind",
        page_url="/",
        language="de",
    )
    if answered:
        AccessibilityFeedback.objects.update(answered_at=timezone.now())
    services.delete_account(user=citizen)
    feedback = AccessibilityFeedback.objects.get()
    assert (feedback.name, feedback.email, feedback.user_id) == ("", "", None)
    assert feedback.message == "Ich bin blind"  # the barrier can still be removed
    assert AuditEvent.objects.filter(
        action="accessibility_feedback.anonymised", object_id=str(feedback.pk)
    ).exists()


def test_accessibility_feedback_of_others_is_kept_as_it_is(citizen: User) -> None:
    from rathaus.portal.models import AccessibilityFeedback
    from rathaus.portal.services import submit_accessibility_feedback

    other = UserFactory()
    submit_accessibility_feedback(
        actor=other,
        name="Ada Anders",
        email="ada@example.de",
        message="Kontrast zu schwach",
        page_url="/",
        language="de",
    )
    services.delete_account(user=citizen)
    kept = AccessibilityFeedback.objects.get()
    assert (kept.name, kept.email, kept.user_id) == ("Ada Anders", "ada@example.de", other.pk)


def test_the_deletion_page_says_what_happens_to_accessibility_feedback(
    citizen_client: Client,
) -> None:
    content = citizen_client.get("/konto/loeschen/").content.decode()
    assert "ohne Ihren Namen und Ihre E-Mail-Adresse" in content
