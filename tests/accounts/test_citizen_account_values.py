"""Values a citizen-account login writes into the profile are cleaned at the federation
boundary (``accounts.asserted_values``): the invisible characters the forms refuse go, a zero
width (non-)joiner between letters stays, whitespace is collapsed, the text is NFC; a value that
is still unusable (a control character, too long, not a date, empty) is not taken over, the
login goes through, a warning is logged without the value, the audit event names the field and
the profile page says so beside it. Identifiers (``sub``, bPK2) that no column can hold are
refused with the error page, never a 500.

The answers come from the test providers of ``tests/accounts/identity_providers.py``: SAML
responses built and signed by the test IdP's code (tools/idp) for a real AuthnRequest of ours,
and the OIDC provider's real ID token with claims added after its signature was checked.
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Mapping
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from tools.idp import server as idp_server

from rathaus.accounts import oidc
from rathaus.accounts.models import FederatedIdentity, IdentityProvider, Profile, User
from rathaus.accounts.selectors import verified_identity
from rathaus.core.models import AuditEvent
from tests.accounts.identity_providers import (
    SamlIdp,
    oidc_authorize,
    request_query,
    start_saml,
)
from tests.accounts.test_oidc_login import REFUSED, authorize
from tests.accounts.test_profile_invisible_characters import NIKNAM, field_errors

pytestmark = pytest.mark.django_db

ACS = "/konto/extern/bundid-test/saml/acs/"
EID = idp_server.CITIZEN_BY_KEY["eid"]
ERIKA_EMAIL = "erika.mustermann@example.org"
NOTE_DE = (
    "Der Wert, den Ihr Bürgerkonto für diese Angabe übermittelt hat, konnte nicht übernommen "
    "werden. Bitte prüfen Sie die Angabe und tragen Sie sie bei Bedarf selbst ein."
)
NOTE_EN = (
    "The value your citizen account sent for this entry could not be taken over. Please check "
    "the entry and fill it in yourself if needed."
)
WARNING_DE = (
    "Einige Angaben aus Ihrem Bürgerkonto konnten nicht in Ihr Profil übernommen werden. Bitte "
    "prüfen Sie Ihr Profil."
)


def saml_login(client: Client, idp: SamlIdp, provider: IdentityProvider, **attributes: str) -> Any:
    """Log in at "high" with the eID test citizen whose attributes (tools/idp names) are
    changed by ``attributes``; the answer of the page that finishes the login."""
    query = request_query(start_saml(client, provider, "high"))
    server = idp.server()
    request = idp_server.read_authn_request(server, query)
    citizen = dataclasses.replace(EID, attributes={**EID.attributes, **attributes})
    response = idp_server.build_response(server, request, citizen)
    answer = client.post(ACS, {"SAMLResponse": response, "RelayState": query["RelayState"]})
    assert answer.status_code == 303, answer.content.decode()[:1000]
    return client.get(answer["Location"])


def with_claims(monkeypatch: pytest.MonkeyPatch, claims: Mapping[str, Any]) -> None:
    """The OIDC provider's ID token, its signature checked, carries ``claims`` as well."""
    real = oidc.jwt.decode

    def decode(*args: Any, **kwargs: Any) -> Any:
        token = real(*args, **kwargs)
        token.claims.update(claims)
        return token

    monkeypatch.setattr(oidc, "jwt", type("jwt", (), {"decode": staticmethod(decode)}))


def oidc_login(
    client: Client,
    provider: IdentityProvider,
    monkeypatch: pytest.MonkeyPatch,
    claims: Mapping[str, Any],
) -> Any:
    """Log in at "high" as the OIDC eID test citizen with ``claims`` added; the answer of the
    callback (400: refused) or of the page that finishes the login."""
    callback_url = oidc_authorize(authorize(client, provider, "high"), "oidc-eid-0003")
    with_claims(monkeypatch, claims)
    callback = client.get(callback_url)
    if callback.status_code != 302:
        return callback
    return client.get(callback["Location"])


def page_values(text: str) -> dict[str, str]:
    """The values the profile page shows in its inputs, as the browser would send them back."""
    values = {
        html.unescape(name): html.unescape(value)
        for name, value in re.findall(r'<input[^>]*?name="([^"]+)"[^>]*?value="([^"]*)"', text)
    }
    values.pop("csrfmiddlewaretoken", None)
    return {**values, "preferred_language": "de"}


def notes(text: str, field: str) -> str:
    """The hint beside ``field`` on the profile page."""
    found = re.search(rf'<div class="kern-hint" id="id_{field}_helptext">(.*?)</div>', text, re.S)
    return " ".join(found[1].split()) if found else ""


def erika() -> Profile:
    return Profile.objects.get(user__email=ERIKA_EMAIL)


# --- proof: what a federation login wrote, and what the profile page then did with it ---------


@pytest.mark.parametrize(
    ("attribute", "sent", "field", "kept"),
    [
        ("givenName", "Eri\u200bka", "given_names", "Erika"),  # zero-width space
        ("surname", "Muster\u00admann", "family_name", "Mustermann"),  # soft hyphen
        ("surname", "\ufeffMustermann", "family_name", "Mustermann"),  # byte order mark
        ("givenName", "\u202eakirE", "given_names", "akirE"),  # right-to-left override
        ("givenName", "Erika\u2067 \u2069Maria", "given_names", "Erika Maria"),  # isolates
        ("locality", "Wuppertal\u200d\u200e", "place", "Wuppertal"),  # stray joiner, LTR mark
        ("postalAddress", "Friedrich-Engels-\u00adAllee\n12", "street", "Friedrich-Engels-Allee"),
        ("givenName", "Erika  \t Maria", "given_names", "Erika Maria"),  # whitespace collapsed
        ("givenName", "Erika\u00a0Maria", "given_names", "Erika Maria"),  # no-break space
        ("surname", "Mu\u0308ller", "family_name", "M\u00fcller"),  # NFC
        ("surname", NIKNAM, "family_name", NIKNAM),  # a ZWNJ between letters stays
    ],
)
def test_a_saml_value_is_cleaned_and_the_profile_page_saves_it_as_shown(
    client: Client,
    saml_idp: SamlIdp,
    saml_provider: IdentityProvider,
    attribute: str,
    sent: str,
    field: str,
    kept: str,
) -> None:
    assert saml_login(client, saml_idp, saml_provider, **{attribute: sent}).status_code == 302

    page = client.get("/konto/profil/").content.decode()
    saved = client.post("/konto/profil/", page_values(page))

    # what the login wrote, saved as the page shows it: before the fix the raw value was
    # stored and the page refused it beside the field with a message the citizen cannot act on
    assert field_errors(saved.content.decode(), field) == []
    assert saved.status_code == 302
    assert getattr(erika(), field) == kept


@pytest.mark.parametrize(
    ("attribute", "sent", "field"),
    [
        ("givenName", "Eri\x9bka", "given_names"),  # a C1 control (XML 1.0 carries it)
        ("surname", "M" * 121, "family_name"),
        ("birthdate", "1964-00-00", "birth_date"),  # day and month unknown on the card
        ("postalAddress", "\u200b\u202e", "street"),
    ],
)
def test_an_unusable_saml_value_leaves_the_field_empty_and_is_noted(
    client: Client,
    saml_idp: SamlIdp,
    saml_provider: IdentityProvider,
    attribute: str,
    sent: str,
    field: str,
) -> None:
    assert saml_login(client, saml_idp, saml_provider, **{attribute: sent}).status_code == 302
    assert getattr(erika(), field) in ("", None)
    assert erika().place == "Wuppertal"
    assert notes(client.get("/konto/profil/").content.decode(), field) == NOTE_DE


UNUSABLE = [
    pytest.param({"given_name": "Erika\x00"}, "given_names", id="nul"),
    pytest.param({"given_name": "Eri\x1bka"}, "given_names", id="escape"),
    pytest.param({"family_name": "Muster\x7fmann"}, "family_name", id="delete"),
    pytest.param({"given_name": "\ud800Erika"}, "given_names", id="lone-surrogate"),
    pytest.param({"given_name": "Erika" * 60_000}, "given_names", id="300-kilobytes"),
    pytest.param({"given_name": "E" * 121}, "given_names", id="longer-than-the-field"),
    pytest.param({"given_name": "\u200b\u00ad \u202e"}, "given_names", id="empty-when-cleaned"),
    pytest.param({"birthdate": "1964-00-00"}, "birth_date", id="day-unknown"),
    pytest.param({"birthdate": "12.08.1964 "}, "birth_date", id="not-iso"),
    pytest.param({"birthdate": "2999-01-01"}, "birth_date", id="future"),
    pytest.param({"birthdate": "1850-08-12"}, "birth_date", id="before-1900"),
    pytest.param(
        {
            "address": {
                "street_address": "Neumarkt 10",
                "postal_code": "42103",
                "locality": "W" * 51,
            }
        },
        "place",
        id="place-too-long",
    ),
]


def logged_texts(record: Any) -> list[str]:
    """The message and every text in the record's extras (lists and dicts opened)."""
    texts, pending = [record.getMessage()], list(vars(record).values())
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            texts.append(value)
        elif isinstance(value, list | tuple | set):
            pending.extend(value)
        elif isinstance(value, dict):
            pending.extend([*value.keys(), *value.values()])
    return texts


@pytest.mark.parametrize(("claims", "field"), UNUSABLE)
def test_an_unusable_value_is_not_taken_over_and_the_login_goes_through(
    client: Client,
    oidc_provider: IdentityProvider,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    claims: dict[str, Any],
    field: str,
) -> None:
    response = oidc_login(client, oidc_provider, monkeypatch, claims)

    assert response.status_code == 302 and response["Location"] == "/antraege/"
    profile = erika()
    assert getattr(profile, field) in ("", None)  # a new account: left empty
    others = {"given_names": "Erika", "family_name": "Mustermann", "place": "Wuppertal"}
    for name, value in others.items():
        if name != field:
            assert getattr(profile, name) == value
    # a warning names the field, never the value
    warnings = [
        r for r in caplog.records if r.getMessage() == "federated login: values not taken over"
    ]
    assert warnings and field in warnings[-1].fields  # type: ignore[attr-defined]
    sent = next(iter(claims.values()))
    sent_text = sent["locality"] if isinstance(sent, dict) else sent
    assert not [t for r in caplog.records for t in logged_texts(r) if sent_text.strip() in t]
    # the audit event names it, without the value
    event = AuditEvent.objects.get(action="accounts.federated_login")
    assert field in event.after["unusable_fields"]
    assert sent_text.strip() not in repr(event.after)
    # the citizen is told after the login and beside the field
    assert WARNING_DE in client.get("/konto/").content.decode()
    page = client.get("/konto/profil/").content.decode()
    assert notes(page, field) == NOTE_DE
    assert all(notes(page, name) == "" for name in others if name != field)


def test_an_unusable_value_leaves_the_field_as_it_was(
    client: Client, oidc_provider: IdentityProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second login at "high" whose name cannot be used keeps the name of the first."""
    callback = oidc_authorize(authorize(client, oidc_provider, "high"), "oidc-eid-0003")
    client.get(client.get(callback)["Location"])
    client.logout()

    response = oidc_login(client, oidc_provider, monkeypatch, {"given_name": "Eri\x00ka"})

    assert response.status_code == 302
    assert erika().given_names == "Erika"
    assert FederatedIdentity.objects.count() == 1
    # the newest eID login did not carry a usable given name: it confirms none
    event = AuditEvent.objects.filter(action="accounts.federated_login").latest("id")
    assert event.after["confirmed_fields"] == ["family_name", "birth_date"]
    assert verified_identity(erika().user) is None
    assert notes(client.get("/konto/profil/").content.decode(), "given_names") == NOTE_DE


def test_the_note_is_in_english_for_an_english_page_and_goes_once_the_field_is_filled_in(
    client: Client, oidc_provider: IdentityProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    oidc_login(client, oidc_provider, monkeypatch, {"birthdate": "1964-00-00"})
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get("/konto/profil/").content.decode()
    assert notes(page, "birth_date") == NOTE_EN
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"

    values = {**page_values(page), "birth_date": "1964-08-12"}
    assert client.post("/konto/profil/", values).status_code == 302

    assert notes(client.get("/konto/profil/").content.decode(), "birth_date") == ""


def test_a_later_login_whose_values_are_fine_ends_the_note(
    client: Client, oidc_provider: IdentityProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    oidc_login(client, oidc_provider, monkeypatch, {"birthdate": "1964-00-00"})
    assert notes(client.get("/konto/profil/").content.decode(), "birth_date") == NOTE_DE
    client.logout()
    monkeypatch.undo()
    callback = oidc_authorize(authorize(client, oidc_provider, "high"), "oidc-eid-0003")
    assert client.get(client.get(callback)["Location"]).status_code == 302

    assert str(erika().birth_date) == "1964-08-12"
    assert notes(client.get("/konto/profil/").content.decode(), "birth_date") == ""
    assert WARNING_DE not in client.get("/konto/").content.decode()


@pytest.mark.parametrize(
    "subject",
    ["oidc-eid-0003\x00", "oidc-eid-\ud8000003", "oidc-eid-0003\x1b[2J", "oidc-eid\n0003"],
    ids=["nul", "lone-surrogate", "escape", "line-break"],
)
def test_a_subject_with_a_control_character_is_refused_with_the_error_page(
    client: Client,
    oidc_provider: IdentityProvider,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    subject: str,
) -> None:
    client.raise_request_exception = False
    response = oidc_login(client, oidc_provider, monkeypatch, {"sub": subject})

    assert response.status_code == 400
    assert REFUSED in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not FederatedIdentity.objects.exists() and not User.objects.exists()
    refusal = [r for r in caplog.records if r.getMessage() == "federated login refused"][-1]
    assert "subject" in refusal.reason  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "email",
    ["erika.mustermann@example.org\x00", "erika.\ud800@example.org", "\u202egro.elpmaxe@akire"],
    ids=["nul", "lone-surrogate", "right-to-left-override"],
)
def test_an_email_address_with_a_control_character_is_not_taken_the_citizen_is_asked(
    client: Client, oidc_provider: IdentityProvider, monkeypatch: pytest.MonkeyPatch, email: str
) -> None:
    client.raise_request_exception = False
    response = oidc_login(client, oidc_provider, monkeypatch, {"email": email})

    assert response.status_code == 200
    assert 'name="email"' in response.content.decode()  # the page that asks for an address
    assert not User.objects.exists()
