"""Every broken or replayed SAML answer is refused, logged and shown as a clear page (issue 9).

The broken responses are built with the test IdP's own code and keys (tools/idp), for a real
AuthnRequest of ours, so that only the one property under test is wrong.
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from freezegun import freeze_time
from tools.idp import server as idp_server

from rathaus.accounts.models import FederatedIdentity, IdentityProvider, LoginAttempt
from tests.accounts.identity_providers import (
    SamlIdp,
    decoded,
    encoded,
    idp_login,
    post_to_acs,
    request_query,
    start_saml,
)

pytestmark = pytest.mark.django_db
ACS = "/konto/extern/bundid-test/saml/acs/"
REFUSED = "Die Anmeldung konnte nicht abgeschlossen werden"


def crafted(
    client: Client, idp: SamlIdp, provider: IdentityProvider, **changes: Any
) -> dict[str, str]:
    """A response to a fresh AuthnRequest of ours, built by the IdP's code with ``changes``."""
    query = request_query(start_saml(client, provider, "low"))
    server = idp.server()
    request = idp_server.read_authn_request(server, query)
    response = idp_server.build_response(
        server, request, idp_server.CITIZEN_BY_KEY["eid"], **changes
    )
    return {"SAMLResponse": response, "RelayState": query["RelayState"]}


def assert_refused(
    client: Client, response: Any, caplog: pytest.LogCaptureFixture, why: str
) -> None:
    assert response.status_code == 400
    assert REFUSED in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not FederatedIdentity.objects.exists()
    refusals = [r for r in caplog.records if r.getMessage() == "federated login refused"]
    assert refusals, "the refusal is not logged"
    assert why in refusals[-1].reason  # type: ignore[attr-defined]


def test_a_correct_crafted_response_is_accepted(
    client: Client, saml_idp: SamlIdp, saml_provider: IdentityProvider
) -> None:
    """The control: the crafting itself yields a response that we accept."""
    answer = client.post(ACS, crafted(client, saml_idp, saml_provider))
    assert answer.status_code == 303


def test_unsigned_assertion_is_refused(
    client: Client, saml_idp: SamlIdp, saml_provider: IdentityProvider, caplog: Any
) -> None:
    answer = client.post(ACS, crafted(client, saml_idp, saml_provider, sign=False))
    assert_refused(client, answer, caplog, "pysaml2")
    # anyone can post to the ACS: a refused answer does not end the login (it expires)
    assert LoginAttempt.objects.get().status == LoginAttempt.Status.STARTED


def test_assertion_signed_with_a_foreign_key_is_refused(
    client: Client,
    saml_idp: SamlIdp,
    saml_provider: IdentityProvider,
    caplog: Any,
    tmp_path: Path,
) -> None:
    key, cert = idp_server.make_key_pair(tmp_path, "attacker")
    attacker = idp_server.build_server(base_url=saml_idp.base_url, key_file=key, cert_file=cert)
    answer = client.post(ACS, crafted(client, saml_idp, saml_provider, signer=attacker))
    assert_refused(client, answer, caplog, "pysaml2")


def test_assertion_for_another_audience_is_refused(
    client: Client, saml_idp: SamlIdp, saml_provider: IdentityProvider, caplog: Any
) -> None:
    answer = client.post(
        ACS, crafted(client, saml_idp, saml_provider, audience="https://other.example/sp")
    )
    assert_refused(client, answer, caplog, "pysaml2")


def test_response_for_another_recipient_is_refused(
    client: Client, saml_idp: SamlIdp, saml_provider: IdentityProvider, caplog: Any
) -> None:
    answer = client.post(
        ACS,
        crafted(client, saml_idp, saml_provider, destination="https://other.example/acs/"),
    )
    assert_refused(client, answer, caplog, "pysaml2")


def test_expired_assertion_is_refused(
    client: Client, saml_idp: SamlIdp, saml_provider: IdentityProvider, caplog: Any
) -> None:
    query = request_query(start_saml(client, saml_provider, "low"))
    server = saml_idp.server()
    request = idp_server.read_authn_request(server, query)
    with freeze_time(datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)):
        response = idp_server.build_response(server, request, idp_server.CITIZEN_BY_KEY["eid"])
    answer = client.post(ACS, {"SAMLResponse": response, "RelayState": query["RelayState"]})
    assert_refused(client, answer, caplog, "pysaml2")


def test_assertion_for_a_login_before_the_request_is_refused(
    client: Client, saml_idp: SamlIdp, saml_provider: IdentityProvider, caplog: Any
) -> None:
    """We ask for a fresh login (ForceAuthn); an IdP that answers with its earlier single
    sign-on (AuthnInstant before our request, beyond the clock skew) does not count."""
    before = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=10)
    stale = before.strftime("%Y-%m-%dT%H:%M:%SZ")
    answer = client.post(ACS, crafted(client, saml_idp, saml_provider, authn_instant=stale))
    assert_refused(client, answer, caplog, "AuthnInstant")


def test_replayed_response_is_refused(
    client: Client, saml_idp: SamlIdp, saml_provider: IdentityProvider, caplog: Any
) -> None:
    action, fields = idp_login(saml_idp, start_saml(client, saml_provider, "low"), "eid")
    first = post_to_acs(client, action, fields)
    assert first.status_code == 303
    client.get(first["Location"])  # logged in
    client.logout()

    again = post_to_acs(client, action, fields)

    assert again.status_code == 400
    assert "_auth_user_id" not in client.session
    refusal = [r for r in caplog.records if r.getMessage() == "federated login refused"][-1]
    assert "replayed" in refusal.reason  # type: ignore[attr-defined]


def test_unsolicited_response_is_refused(
    client: Client, saml_idp: SamlIdp, saml_provider: IdentityProvider, caplog: Any
) -> None:
    fields = crafted(client, saml_idp, saml_provider)
    answer = client.post(ACS, {"SAMLResponse": fields["SAMLResponse"]})  # IdP-initiated
    assert_refused(client, answer, caplog, "unsolicited")


def test_response_to_another_request_is_refused(
    client: Client, saml_idp: SamlIdp, saml_provider: IdentityProvider, caplog: Any
) -> None:
    first = crafted(client, saml_idp, saml_provider)
    second_query = request_query(start_saml(client, saml_provider, "low"))
    answer = client.post(
        ACS, {"SAMLResponse": first["SAMLResponse"], "RelayState": second_query["RelayState"]}
    )
    assert_refused(client, answer, caplog, "pysaml2")


def test_changed_attribute_breaks_the_signature_and_is_refused(
    client: Client, saml_idp: SamlIdp, saml_provider: IdentityProvider, caplog: Any
) -> None:
    fields = crafted(client, saml_idp, saml_provider)
    xml = decoded(fields["SAMLResponse"])
    assert "Mustermann" in xml
    fields["SAMLResponse"] = encoded(xml.replace("Mustermann", "Musterfrau"))
    answer = client.post(ACS, fields)
    assert_refused(client, answer, caplog, "pysaml2")


def test_raised_trust_level_breaks_the_signature_and_is_refused(
    client: Client, saml_idp: SamlIdp, saml_provider: IdentityProvider, caplog: Any
) -> None:
    query = request_query(start_saml(client, saml_provider, "low"))
    server = saml_idp.server()
    request = idp_server.read_authn_request(server, query)
    response = idp_server.build_response(server, request, idp_server.CITIZEN_BY_KEY["basis"])
    xml = decoded(response).replace("STORK-QAA-Level-1", "STORK-QAA-Level-4")
    answer = client.post(ACS, {"SAMLResponse": encoded(xml), "RelayState": query["RelayState"]})
    assert_refused(client, answer, caplog, "pysaml2")


@pytest.mark.parametrize("garbage", ["", "not base64 at all", encoded("<xml/>"), "PD94"])
def test_garbage_is_refused_without_an_error(
    client: Client, saml_provider: IdentityProvider, garbage: str
) -> None:
    query = request_query(start_saml(client, saml_provider, "low"))
    answer = client.post(ACS, {"SAMLResponse": garbage, "RelayState": query["RelayState"]})
    assert answer.status_code == 400


def test_level_below_the_requested_minimum_is_refused(
    client: Client, saml_idp: SamlIdp, saml_provider: IdentityProvider, caplog: Any
) -> None:
    """An IdP that ignores Comparison="minimum" does not get a "low" login through as "high"."""
    query = request_query(start_saml(client, saml_provider, "high"))
    server = saml_idp.server()
    request = idp_server.read_authn_request(server, query)
    response = idp_server.build_response(server, request, idp_server.CITIZEN_BY_KEY["basis"])
    answer = client.post(ACS, {"SAMLResponse": response, "RelayState": query["RelayState"]})
    assert_refused(client, answer, caplog, "below the requested")


def test_answer_cannot_be_finished_in_another_browser(
    client: Client, saml_idp: SamlIdp, saml_provider: IdentityProvider
) -> None:
    """Login CSRF: a victim's browser cannot be made to finish the attacker's login."""
    action, fields = idp_login(saml_idp, start_saml(client, saml_provider, "low"), "eid")
    victim = Client()
    answer = post_to_acs(victim, action, fields)
    assert answer.status_code == 303
    finished = victim.get(answer["Location"])
    assert finished.status_code == 400
    assert "_auth_user_id" not in victim.session
    # knowing the attempt's address ended nothing: the citizen's own browser finishes it
    assert client.get(answer["Location"]).status_code == 302
    assert "_auth_user_id" in client.session


def test_a_long_assertion_id_still_refuses_its_replay() -> None:
    """An IdP may send assertion IDs of any length; the replay key must fit its column
    (PostgreSQL refuses longer text) and stay the same for the same assertion."""
    from rathaus.accounts.federation import _replay_key
    from rathaus.accounts.models import LoginAttempt

    limit = LoginAttempt._meta.get_field("assertion_id").max_length
    short = _replay_key("https://idp.example", "_abc")
    assert short == "https://idp.example#_abc"
    long = _replay_key("https://idp.example", "_" + "x" * 500)
    assert len(long) <= limit and long.startswith("sha256:")
    assert long == _replay_key("https://idp.example", "_" + "x" * 500)
    assert long != _replay_key("https://idp.example", "_" + "x" * 499)


@pytest.mark.parametrize(
    "saml_response", ["", "not base64 at all", encoded("<xml/>")], ids=["empty", "text", "xml"]
)
def test_a_forged_answer_from_another_browser_does_not_end_the_login(
    client: Client,
    saml_idp: SamlIdp,
    saml_provider: IdentityProvider,
    caplog: Any,
    saml_response: str,
) -> None:
    """The RelayState (the attempt's ID) is no secret worth a login: whoever knows it and posts
    garbage to the ACS is refused, and the citizen's real answer is still accepted."""
    action, fields = idp_login(saml_idp, start_saml(client, saml_provider, "low"), "eid")
    other = Client()

    forged = other.post(ACS, {"SAMLResponse": saml_response, "RelayState": fields["RelayState"]})

    assert_refused(other, forged, caplog, "")
    assert LoginAttempt.objects.get().status == LoginAttempt.Status.STARTED
    answer = post_to_acs(client, action, fields)
    assert answer.status_code == 303
    done = client.get(answer["Location"])
    assert done.status_code == 302
    assert "_auth_user_id" in client.session
    assert LoginAttempt.objects.get().status == LoginAttempt.Status.DONE
