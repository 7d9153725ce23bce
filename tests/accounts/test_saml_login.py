"""Login through a BundID-style SAML IdP (tools/idp, pysaml2) running on 127.0.0.1 (issue 9)."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.test import Client
from lxml import etree

from rathaus.accounts.models import FederatedIdentity, IdentityProvider, LoginAttempt, User
from tests.accounts.conftest import log_in
from tests.accounts.factories import ProfileFactory
from tests.accounts.identity_providers import (
    SamlIdp,
    decoded,
    idp_login,
    post_to_acs,
    request_query,
    start_saml,
)

pytestmark = pytest.mark.django_db

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
AKDB = "https://www.akdb.de/request/2018/09"


def saml_login(
    client: Client, provider: IdentityProvider, idp: SamlIdp, citizen: str, level: str = "low"
) -> Any:
    request_url = start_saml(client, provider, level, next_url="/antraege/")
    action, fields = idp_login(idp, request_url, citizen)
    answer = post_to_acs(client, action, fields)
    assert answer.status_code == 303, answer.content.decode()[:1000]
    return client.get(answer["Location"])


@pytest.mark.parametrize(
    ("citizen", "level"),
    [("basis", "low"), ("elster", "substantial"), ("eid", "high")],
)
def test_citizen_logs_in_with_bundid_and_session_carries_the_level(
    client: Client, saml_provider: IdentityProvider, saml_idp: SamlIdp, citizen: str, level: str
) -> None:
    response = saml_login(client, saml_provider, saml_idp, citizen)

    assert response.status_code == 302
    assert response["Location"] == "/antraege/"
    assert client.session["rathaus_trust_level"] == level
    link = FederatedIdentity.objects.get()
    assert link.subject.startswith("bpk2-test-")
    assert link.trust_level == level
    assert int(client.session["_auth_user_id"]) == link.user_id


def test_authn_request_is_signed_and_carries_the_bundid_profile(
    client: Client, saml_provider: IdentityProvider
) -> None:
    import base64
    import zlib

    query = request_query(start_saml(client, saml_provider, "high"))
    xml = zlib.decompress(base64.b64decode(query["SAMLRequest"]), -15).decode()

    assert query["SigAlg"].endswith("rsa-sha256") and query["Signature"]
    root = etree.fromstring(xml.encode())
    context = root.find(f"{{{SAMLP}}}RequestedAuthnContext")
    assert context is not None and context.get("Comparison") == "minimum"
    assert context.findtext(f"{{{SAML}}}AuthnContextClassRef") == "STORK-QAA-Level-4"
    request = root.find(f"{{{SAMLP}}}Extensions/{{{AKDB}}}AuthenticationRequest")
    assert request is not None and request.get("Version") == "2"
    enabled = {
        etree.QName(m).localname: m.findtext(f"{{{AKDB}}}Enabled")
        for m in request.iterfind(f"{{{AKDB}}}AuthnMethods/*")
    }
    assert enabled == {"Benutzername": "false", "Elster": "false", "eID": "true"}
    required = {
        a.get("Name"): a.get("RequiredAttribute")
        for a in request.iterfind(f"{{{AKDB}}}RequestedAttributes/{{{AKDB}}}RequestedAttribute")
    }
    assert required["urn:oid:1.3.6.1.4.1.25484.494450.3"] == "true"  # bPK2
    assert required["urn:oid:2.5.4.4"] == "false"


def test_high_level_request_offers_only_the_id_card(
    client: Client, saml_provider: IdentityProvider, saml_idp: SamlIdp
) -> None:
    request_url = start_saml(client, saml_provider, "high")
    with pytest.raises(AssertionError, match="basis not offered"):
        idp_login(saml_idp, request_url, "basis")


def test_attributes_prefill_the_profile_with_their_trust_level(
    client: Client, saml_provider: IdentityProvider, saml_idp: SamlIdp
) -> None:
    saml_login(client, saml_provider, saml_idp, "eid", "high")

    user = User.objects.get(email="erika.mustermann@example.org")
    profile = user.profile
    assert (profile.given_names, profile.family_name) == ("Erika", "Mustermann")
    assert profile.birth_date == datetime.date(1964, 8, 12)
    assert (profile.street, profile.house_number) == ("Friedrich-Engels-Allee", "12")
    assert (profile.postal_code, profile.place) == ("42283", "Wuppertal")


def test_response_carries_per_attribute_trust_levels(
    client: Client, saml_provider: IdentityProvider, saml_idp: SamlIdp
) -> None:
    request_url = start_saml(client, saml_provider, "substantial")
    _action, fields = idp_login(saml_idp, request_url, "elster")
    assert 'TrustLevel="SUBSTANTIELL"' in decoded(fields["SAMLResponse"])
    attempt = LoginAttempt.objects.get()
    post_to_acs(client, _action, fields)
    attempt.refresh_from_db()
    assert attempt.result["attribute_levels"]["family_name"] == "substantial"


def test_logged_in_citizen_links_the_citizen_account_only_after_confirming(
    client: Client, saml_provider: IdentityProvider, saml_idp: SamlIdp
) -> None:
    profile = ProfileFactory(given_names="Erika", family_name="Musterfrau")
    log_in(client, profile.user)  # linking needs a recent login of the account's own

    page = saml_login(client, saml_provider, saml_idp, "eid", "high")

    assert page.status_code == 200
    assert "Bürgerkonto verknüpfen" in page.content.decode()
    assert not FederatedIdentity.objects.exists()
    assert client.session.get("rathaus_trust_level", "low") == "low"

    done = client.post(page.wsgi_request.path, {"action": "link"})

    assert done.status_code == 302
    link = FederatedIdentity.objects.get()
    assert link.user == profile.user
    assert client.session["rathaus_trust_level"] == "high"
    profile.refresh_from_db()
    assert profile.family_name == "Mustermann"  # read from the ID card


@pytest.mark.parametrize("winner", ["same account", "another account"])
def test_a_link_made_meanwhile_in_another_tab_is_no_500(
    client: Client,
    saml_provider: IdentityProvider,
    saml_idp: SamlIdp,
    winner: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two tabs (or a double click) confirm the link: the other request links the citizen
    account right after this one checked; this one then finds that link (its own account:
    logged in) instead of failing on the unique constraint (another account: refused)."""
    from rathaus.accounts import federation

    profile = ProfileFactory(given_names="Erika", family_name="Musterfrau")
    log_in(client, profile.user)  # linking needs a recent login of the account's own
    page = saml_login(client, saml_provider, saml_idp, "eid", "high")
    owner = profile.user if winner == "same account" else ProfileFactory().user
    checked = federation.finish

    def finish_then_the_other_tab_links(request: Any, attempt: LoginAttempt) -> Any:
        outcome = checked(request, attempt)
        FederatedIdentity.objects.create(
            user=owner,
            provider=saml_provider,
            issuer=attempt.result["issuer"],
            subject=attempt.result["subject"],
            trust_level="high",
        )
        return outcome

    monkeypatch.setattr(federation, "finish", finish_then_the_other_tab_links)
    done = client.post(page.wsgi_request.path, {"action": "link"})

    assert FederatedIdentity.objects.count() == 1
    if winner == "same account":
        assert done.status_code == 302
        assert client.session["rathaus_trust_level"] == "high"
    else:
        assert done.status_code == 400
        assert client.session.get("rathaus_trust_level", "low") == "low"


def test_existing_account_with_same_email_is_not_linked_silently(
    client: Client, saml_provider: IdentityProvider, saml_idp: SamlIdp
) -> None:
    User.objects.create_user(email="erika.mustermann@example.org", password="x")

    page = saml_login(client, saml_provider, saml_idp, "eid", "high")

    assert page.status_code == 200
    assert "Sie haben bereits ein Konto" in page.content.decode()
    assert not FederatedIdentity.objects.exists()
    assert "_auth_user_id" not in client.session


def test_second_login_finds_the_linked_account(
    client: Client, saml_provider: IdentityProvider, saml_idp: SamlIdp
) -> None:
    saml_login(client, saml_provider, saml_idp, "elster", "substantial")
    client.logout()

    saml_login(client, saml_provider, saml_idp, "elster", "low")

    assert User.objects.count() == 1
    assert client.session["rathaus_trust_level"] == "substantial"


def test_sp_metadata_names_acs_and_signing_key(
    client: Client, saml_provider: IdentityProvider
) -> None:
    response = client.get("/konto/extern/bundid-test/saml/metadata/")
    body = response.content.decode()
    assert response.status_code == 200
    assert "http://testserver/konto/extern/bundid-test/saml/acs/" in body
    assert 'AuthnRequestsSigned="true"' in body
    assert "X509Certificate" in body


def test_account_page_offers_linking_and_shows_the_link(
    client: Client, saml_provider: IdentityProvider, saml_idp: SamlIdp
) -> None:
    import html
    import re

    profile = ProfileFactory()
    log_in(client, profile.user)  # linking needs a recent login of the account's own
    overview = client.get("/konto/").content.decode()
    assert "Bürgerkonto (BundID)" in overview
    href = html.unescape(
        re.search(r'href="([^"]+)"><span class="kern-label">Mit BundID', overview)[1]
    )  # type: ignore[index]

    start = client.get(href)
    action, fields = idp_login(saml_idp, str(start["Location"]), "elster")
    confirm = client.get(post_to_acs(client, action, fields)["Location"])
    done = client.post(confirm.wsgi_request.path, {"action": "link"})

    assert done["Location"] == "/konto/"
    page = client.get("/konto/").content.decode()
    assert "Verknüpft mit BundID (Test)" in page
    assert "Vertrauensniveau dieser Anmeldung: substanziell" in page


def test_a_next_address_too_long_to_keep_is_dropped(
    client: Client, saml_provider: IdentityProvider
) -> None:
    """PostgreSQL refused the attempt's row with a 500; the login now ends on /konto/."""
    start_saml(client, saml_provider, "low", next_url="/antraege/?" + "x" * 1200)

    assert LoginAttempt.objects.get().next_url == ""


def test_an_address_another_account_uses_is_not_given_a_second_account(
    client: Client, saml_provider: IdentityProvider, saml_idp: SamlIdp
) -> None:
    """The citizen account's e-mail address is another account's further address (allauth)."""
    from allauth.account.models import EmailAddress

    from tests.accounts.factories import UserFactory

    other = UserFactory()
    EmailAddress.objects.create(user=other, email="erika.mustermann@example.org", verified=True)

    page = saml_login(client, saml_provider, saml_idp, "eid", "high")

    assert page.status_code == 200
    assert "Sie haben bereits ein Konto" in page.content.decode()
    assert list(User.objects.all()) == [other]
    assert not FederatedIdentity.objects.exists()


def test_a_deactivated_account_cannot_log_in_with_its_citizen_account(
    client: Client, saml_provider: IdentityProvider, saml_idp: SamlIdp
) -> None:
    saml_login(client, saml_provider, saml_idp, "eid", "high")
    client.logout()
    User.objects.update(is_active=False)

    page = saml_login(client, saml_provider, saml_idp, "eid", "high")

    assert page.status_code == 400
    assert "_auth_user_id" not in client.session
    assert "rathaus_trust_level" not in client.session


def test_a_finished_login_keeps_no_attributes(
    client: Client, saml_provider: IdentityProvider, saml_idp: SamlIdp
) -> None:
    """The answer's name, date of birth and address are in the profile; the attempt keeps
    only what guards against replays, and belongs to the account (deleted with it)."""
    saml_login(client, saml_provider, saml_idp, "eid", "high")

    attempt = LoginAttempt.objects.get()
    assert attempt.status == LoginAttempt.Status.DONE
    assert attempt.result == {}
    assert attempt.assertion_id
    assert attempt.user == User.objects.get()
