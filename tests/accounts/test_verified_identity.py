"""``selectors.verified_identity``: the name and date of birth count only as a citizen-account
login at "substantial" or "high" confirmed them — not after a "low" login (self-declared
attributes), not for fields that login did not carry, not after an edit."""

from __future__ import annotations

import datetime
import hashlib
import uuid
from collections.abc import Mapping

import pytest
from django.test import Client

from rathaus.accounts import federation, services
from rathaus.accounts.external_identity import ExternalIdentity
from rathaus.accounts.models import FederatedIdentity, IdentityProvider, LoginAttempt, User
from rathaus.accounts.selectors import CONFIRMED_FIELDS_KEY, verified_identity
from rathaus.core import audit
from rathaus.core.models import AuditEvent
from tests.accounts.conftest import ISSUER
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db

ERIKA = {
    "given_names": "Erika",
    "family_name": "Mustermann",
    "birth_date": "1964-08-12",
}
STRANGER = {
    "given_names": "Max",
    "family_name": "Fremder",
    "birth_date": "1970-01-01",
}


def _answered_as(
    client: Client,
    provider: IdentityProvider,
    *,
    subject: str = "sub-1",
    level: str = "low",
    attributes: dict[str, str] | None = None,
) -> str:
    """An answered login of this browser for ``subject`` whose attributes were asserted at
    ``level``, as the callback leaves it; returns the address that finishes it."""
    session = client.session
    key = session.get(federation.BROWSER_SESSION_KEY) or "browser-key"
    session[federation.BROWSER_SESSION_KEY] = key
    session.save()
    attributes = attributes or {}
    attempt = LoginAttempt.objects.create(
        id=uuid.uuid4(),
        provider=provider,
        status=LoginAttempt.Status.ANSWERED,
        required_level=level,
        browser_key=hashlib.sha256(key.encode()).hexdigest(),
        request_id=uuid.uuid4().hex,
        result=ExternalIdentity(
            issuer=ISSUER,
            subject=subject,
            level=level,
            attributes=attributes,
            attribute_levels=dict.fromkeys(attributes, level),
        ).as_json(),
    )
    return f"/konto/extern/abschluss/{attempt.pk}/"


def _linked_user(provider: IdentityProvider, subject: str = "sub-1") -> User:
    user: User = UserFactory()
    FederatedIdentity.objects.create(
        user=user, provider=provider, issuer=ISSUER, subject=subject, trust_level="high"
    )
    return user


def _log_in_as(provider: IdentityProvider, level: str, attributes: dict[str, str]) -> None:
    client = Client()  # a fresh browser for each login
    response = client.get(_answered_as(client, provider, level=level, attributes=attributes))
    assert response.status_code == 302, response.content.decode()[:500]


def _typed(user: User, values: Mapping[str, str | None]) -> None:
    """The citizen types ``values`` into the profile form."""
    data: dict[str, object] = dict(values)
    if data.get("birth_date"):
        data["birth_date"] = datetime.date.fromisoformat(str(data["birth_date"]))
    services.update_profile(user=user, data=data)


def test_a_low_login_does_not_confirm_names_typed_into_the_profile(
    provider: IdentityProvider,
) -> None:
    user = _linked_user(provider)
    _typed(user, ERIKA)
    assert verified_identity(user) is None  # typed: not confirmed
    _log_in_as(provider, "low", STRANGER)

    assert verified_identity(user) is None
    user.profile.refresh_from_db()
    assert user.profile.given_names == "Erika"  # a low login fills only empty fields


def test_an_id_card_login_confirms_the_name_and_date_of_birth_it_wrote(
    provider: IdentityProvider,
) -> None:
    user = _linked_user(provider)
    _typed(user, STRANGER)
    _log_in_as(provider, "high", ERIKA)

    profile = verified_identity(user)
    assert profile is not None
    assert (profile.given_names, profile.family_name) == ("Erika", "Mustermann")
    assert profile.birth_date == datetime.date(1964, 8, 12)
    event = AuditEvent.objects.filter(action="accounts.federated_login").get()
    assert sorted(event.after[CONFIRMED_FIELDS_KEY]) == ["birth_date", "family_name", "given_names"]


def test_an_id_card_login_confirms_values_the_profile_held_already(
    provider: IdentityProvider,
) -> None:
    user = _linked_user(provider)
    _typed(user, ERIKA)
    _log_in_as(provider, "high", ERIKA)
    assert verified_identity(user) is not None


def test_a_later_low_login_neither_confirms_nor_spoils_the_id_card_login(
    provider: IdentityProvider,
) -> None:
    user = _linked_user(provider)
    _log_in_as(provider, "high", ERIKA)
    _log_in_as(provider, "low", STRANGER)
    profile = verified_identity(user)
    assert profile is not None and profile.family_name == "Mustermann"


def test_a_name_edited_after_the_id_card_login_does_not_count(
    provider: IdentityProvider,
) -> None:
    user = _linked_user(provider)
    _log_in_as(provider, "high", ERIKA)
    _typed(user, {"family_name": "Fremder"})
    assert verified_identity(user) is None
    _log_in_as(provider, "low", ERIKA)  # a low login does not make the edit count
    assert verified_identity(user) is None


def test_a_high_login_without_names_confirms_nothing_it_did_not_carry(
    provider: IdentityProvider,
) -> None:
    user = _linked_user(provider)
    _typed(user, STRANGER)
    _log_in_as(provider, "high", {"place": "Wuppertal"})
    assert verified_identity(user) is None


def test_a_typed_date_of_birth_the_id_card_login_did_not_assert_does_not_count(
    provider: IdentityProvider,
) -> None:
    user = _linked_user(provider)
    _typed(user, STRANGER)
    names = {"given_names": "Erika", "family_name": "Mustermann"}
    _log_in_as(provider, "high", names)
    assert verified_identity(user) is None  # the birth date is still the typed one
    _typed(user, {"birth_date": None})
    profile = verified_identity(user)
    assert profile is not None and profile.birth_date is None


def test_a_low_login_that_fills_in_the_names_confirms_nothing(
    provider: IdentityProvider,
) -> None:
    user = _linked_user(provider)
    _log_in_as(provider, "low", ERIKA)
    user.profile.refresh_from_db()
    assert user.profile.family_name == "Mustermann"
    assert verified_identity(user) is None


def test_login_events_written_before_they_noted_their_fields_keep_the_earlier_rule(
    provider: IdentityProvider,
) -> None:
    """Events of the earlier format (no ``confirmed_fields``) at "substantial"/"high" confirm
    every identity field unless edited later; at "low" they confirm nothing."""
    user = _linked_user(provider)
    _typed(user, ERIKA)
    link = FederatedIdentity.objects.get(user=user)
    audit.record(actor=user, action="accounts.federated_login", obj=link, after={"level": "low"})
    assert verified_identity(user) is None
    audit.record(actor=user, action="accounts.federated_login", obj=link, after={"level": "high"})
    assert verified_identity(user) is not None
    _typed(user, {"given_names": "Max"})
    assert verified_identity(user) is None
