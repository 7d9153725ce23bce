"""A newcomer's first visit in Chromium: sign up, confirm the e-mail, add the Smartphone-Bürger-ID
(a passkey, on Chromium's virtual authenticator), log out, log back in with the passkey alone,
then look for services in the catalog. axe-core checks every page on the way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core import mail

from rathaus.accounts.models import User
from tests.accounts.mail_queue import run_account_mail_jobs

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "Sicheres-Passwort-2026"


@pytest.fixture
def localhost_page(browser: Any, live_server: Any, transactional_db: None) -> Iterator[Any]:
    """A page on http://localhost:<port>: WebAuthn needs a secure context and a host as RP ID."""
    base_url = live_server.url.replace("127.0.0.1", "localhost")
    context = browser.new_context(
        locale="de-DE",
        base_url=base_url,
        extra_http_headers={"Accept-Language": "de-DE,de;q=0.9"},
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    problems: list[str] = []

    def on_console(message: Any) -> None:
        if message.type == "error" and (
            "Content Security Policy" in message.text or "NotAllowedError" in message.text
        ):
            problems.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(str(error)))
    cdp = context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    page.authenticator = (cdp, authenticator["authenticatorId"])
    try:
        yield page
    finally:
        context.close()
    assert not problems, "Browser errors:\n" + "\n".join(problems)


def _confirmation_path() -> str:
    run_account_mail_jobs()  # the worker sends the queued confirmation
    assert mail.outbox, "no confirmation e-mail was sent"
    found = re.search(r"https?://[^/\s]+(/konto/confirm-email/[^\s]+)", str(mail.outbox[-1].body))
    assert found, mail.outbox[-1].body
    return found.group(1)


def test_newcomer_signs_up_adds_passkey_and_logs_in_with_it_alone(
    localhost_page: Any, axe_check: Any
) -> None:
    page = localhost_page
    page.goto("/")
    axe_check(page)

    # Sign up; a wrong entry first: the message sits next to the field, the input stays.
    page.goto("/konto/signup/")
    axe_check(page)
    page.get_by_label("E-Mail-Adresse").fill("erika@example.org")
    page.get_by_label("Passwort", exact=True).fill(PASSWORD)
    page.get_by_label("Passwort (Wiederholung)").fill("etwas anderes")
    page.get_by_role("button", name="Konto anlegen").click()
    page.wait_for_load_state()
    assert page.get_by_label("E-Mail-Adresse").input_value() == "erika@example.org"
    axe_check(page)
    page.get_by_label("Passwort", exact=True).fill(PASSWORD)
    page.get_by_label("Passwort (Wiederholung)").fill(PASSWORD)
    page.get_by_role("button", name="Konto anlegen").click()
    page.wait_for_url("**/konto/confirm-email/")
    axe_check(page)

    # Confirm the e-mail address with the link from the mail.
    page.goto(_confirmation_path())
    axe_check(page)
    page.get_by_role("button", name="Bestätigen").click()
    page.wait_for_url("**/konto/")
    axe_check(page)

    # Add the Smartphone-Bürger-ID. The login by e-mail link proves only the mailbox, so
    # allauth asks for the password before a passkey may be added.
    page.get_by_role("link", name="Passkey hinzufügen").click()
    page.wait_for_url("**/konto/reauthenticate/**")
    axe_check(page)
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_role("button", name="Bestätigen").click()
    page.wait_for_url("**/konto/2fa/webauthn/add/")
    axe_check(page)
    page.get_by_label("Name des Geräts").fill("Mein Smartphone")
    assert page.get_by_label(re.compile("Smartphone-Bürger-ID")).is_checked()
    page.get_by_role("button", name="Passkey hinzufügen").click()
    page.wait_for_url(re.compile(r".*/konto/2fa/(recovery-codes/|webauthn/)?$"))
    axe_check(page)
    user = User.objects.get(email="erika@example.org")
    passkey = user.authenticator_set.get(type="webauthn")
    assert passkey.wrap().is_passwordless is True
    cdp, authenticator_id = page.authenticator
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    assert len(credentials["credentials"]) == 1

    # Log out.
    page.goto("/konto/")
    page.get_by_role("button", name="Abmelden").click()
    page.wait_for_url(re.compile(r".*/$"))
    page.goto("/konto/")
    assert "/konto/login/" in page.url

    # Log back in with the passkey alone.
    page.goto("/konto/login/")
    axe_check(page)
    page.get_by_role("button", name="Mit Smartphone-Bürger-ID anmelden").click()
    page.wait_for_url("**/konto/")
    assert page.get_by_text("erika@example.org").first.is_visible()
    passkey.refresh_from_db()
    assert passkey.last_used_at is not None

    # Logged in, the citizen looks for services: from the start page, then in the catalog.
    page.goto("/")
    page.get_by_label("Welche Leistung suchen Sie?").fill("ummelden")
    page.get_by_role("button", name="Suchen").click()
    page.wait_for_url("**/leistungen/?q=ummelden")
    axe_check(page)
    assert page.get_by_role("link", name=re.compile("ummelden", re.I)).count() >= 1
    for term, expected in (("Parkausweis", "Parkausweis"), ("kindergeld", "Kindergeld")):
        search = page.get_by_role("search")
        search.locator("input[name=q]").fill(term)
        search.locator("button[type=submit]").click()
        page.wait_for_url(f"**/leistungen/?q={term}*")
        axe_check(page)
        assert page.get_by_role("link", name=re.compile(expected, re.I)).count() >= 1
    page.get_by_role("link", name=re.compile("Kindergeld", re.I)).first.click()
    page.wait_for_url("**/leistungen/kindergeld/*")
    assert "Kindergeld" in page.locator("h1").inner_text()
    axe_check(page)
