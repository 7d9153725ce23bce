"""A Wohnsitzanmeldung worked from queue to sealed notice, in Chromium, the way people do (issue 4).

The clerk logs in with password and TOTP, finds the submitted application in the work queue,
asks for a document; the citizen uploads it (checked by a real clamd); the clerk drafts the
granting notice and issues it; the citizen sees the new status, opens the notice in the mailbox
and downloads the PDF, whose electronic seal pyHanko validates. axe checks every back-office page.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import Any

import pytest
from django.utils import timezone

from rathaus.accounts.models import User
from rathaus.accounts.roles import CLERK
from rathaus.applications.models import Application
from rathaus.applications.services import save_step, start_application, submit_application
from rathaus.casework.models import Case, Notice
from rathaus.catalog.form_schemas import form_schema
from rathaus.catalog.models import Service
from rathaus.core.models import Municipality
from rathaus.documents.seal import seal_trust_roots, validate_seal
from rathaus.forms.engine import validate_step
from rathaus.mailbox.selectors import delivery
from tests.accounts.factories import PASSWORD, ProfileFactory
from tests.applications.test_browser_wohnsitz import PDF, log_in
from tests.applications.wohnsitz import ADULT, people
from tests.backoffice.conftest import WUPPERTAL, totp_code
from tests.fixtures.clamd import clamd_address  # noqa: F401

#: Issuing renders, seals and logs a PDF; on a busy CI machine that takes a while.
SLOW_MACHINE_MS = 60_000


def _answer(application: Application, step: str, data: dict[str, Any]) -> None:
    schema, _digest = form_schema(application.service)
    result = validate_step(schema, step, data, answers=application.answers)
    assert result.is_valid, result.errors
    save_step(application=application, result=result)


def _submitted_registration(citizen: User) -> Application:
    """The citizen's Wohnsitzanmeldung as submitted (the form flow is tested in applications)."""
    moved_in = timezone.localdate() - datetime.timedelta(days=2)
    application = start_application(
        applicant=citizen,
        service=Service.objects.get(slug="wohnsitz-anmelden"),
        municipality=Municipality.objects.get(ags=WUPPERTAL),
        trust_level="high",
    )
    _answer(
        application,
        "move",
        {
            "move_in_date__day": str(moved_in.day),
            "move_in_date__month": str(moved_in.month),
            "move_in_date__year": str(moved_in.year),
            "new_address__street": "Friedrich-Engels-Allee",
            "new_address__house_number": "12",
            "new_address__postal_code": "42283",
            "new_address__place": "Wuppertal",
            "residence_kind": "main",
        },
    )
    _answer(application, "previous", {"previous_kept": "no"})
    _answer(
        application,
        "people",
        people(ADULT),
    )
    _answer(application, "landlord", {"landlord_way": "landlord_data"})
    _answer(
        application,
        "landlord_details",
        {
            "landlord_name": "Wohnbau Wuppertal eG",
            "landlord_address__street": "Hofaue",
            "landlord_address__house_number": "5",
            "landlord_address__postal_code": "42103",
            "landlord_address__place": "Wuppertal",
            "landlord_email": "vermietung@wohnbau.example.org",
        },
    )
    submitted = submit_application(
        application=application, idempotency_key="browser-casework", confirmed=True, actor=citizen
    )
    submitted.refresh_from_db()
    return submitted


def _clerk_logs_in(page: Any, clerk: User) -> None:
    """Password, then the code of the authenticator app (generated here from its secret)."""
    page.goto("/konto/login/")
    page.fill('[name="login"]', clerk.email)
    page.fill('[name="password"]', PASSWORD)
    page.locator('main form button[type="submit"]').first.click()
    page.wait_for_url("**/konto/2fa/authenticate/")
    for _attempt in range(2):
        # A code typed at the end of its 30 seconds may arrive in the next step: type the new one.
        page.fill('[name="code"]', totp_code(clerk.secret))  # type: ignore[attr-defined]
        with page.expect_navigation():
            page.locator('main form button[type="submit"]').first.click()
        if "/2fa/authenticate/" not in page.url:
            break
    assert "/2fa/authenticate/" not in page.url


@pytest.mark.browser
def test_clerk_requests_a_document_grants_and_the_citizen_gets_the_sealed_notice(
    page: Any,
    browser: Any,
    live_server: Any,
    axe_check: Any,
    demo: None,
    make_staff: Callable[..., User],
    clamd_address: str,  # noqa: F811
    settings: Any,
    tmp_path: Any,
) -> None:
    settings.CLAMD_ADDRESS = clamd_address
    page.set_default_timeout(SLOW_MACHINE_MS)
    citizen = ProfileFactory(given_names="Erika", family_name="Mustermann").user
    application = _submitted_registration(citizen)
    case = application.case
    assert case is not None and case.org_unit is not None
    clerk = make_staff(CLERK, case.org_unit, name="clara")

    # The clerk: second factor, queue, search, case page.
    _clerk_logs_in(page, clerk)
    page.goto("/backoffice/")
    axe_check(page)
    page.fill('[name="q"]', "Mustermann")
    page.get_by_role("button", name="Vorgänge anzeigen").click()
    axe_check(page)
    page.get_by_role("link", name=case.number).click()
    page.wait_for_url(f"**/backoffice/vorgaenge/{case.pk}/")
    axe_check(page)
    assert "Friedrich-Engels-Allee" in page.locator("main").inner_text()
    assert case.file is not None and case.file.reference in page.locator("main").inner_text()

    # Mistake first: a deadline in the past is refused next to the field, the text is kept.
    page.get_by_role("button", name="Vorgang übernehmen").click()
    page.wait_for_url(f"**/backoffice/vorgaenge/{case.pk}/")
    page.fill('[name="request-description"]', "Bitte laden Sie die Wohnungsgeberbestätigung hoch.")
    page.fill('[name="request-due_on"]', "2020-01-01")
    page.get_by_role("button", name="Anforderung senden").click()
    assert "Die Frist muss in der Zukunft liegen." in page.locator("main").inner_text()
    assert page.input_value('[name="request-description"]').startswith("Bitte laden Sie")
    axe_check(page)
    due = (timezone.localdate() + datetime.timedelta(days=14)).isoformat()
    page.fill('[name="request-due_on"]', due)
    page.get_by_role("button", name="Anforderung senden").click()
    page.wait_for_url(f"**/backoffice/vorgaenge/{case.pk}/")
    assert "Die antragstellende Person wurde um die Unterlagen gebeten." in page.inner_text("main")
    axe_check(page)
    case.refresh_from_db()
    assert case.status == Case.Status.WAITING_FOR_CITIZEN

    # The citizen, in a browser of their own, uploads the document.
    context = browser.new_context(
        locale="de-DE",
        base_url=live_server.url,
        extra_http_headers={"Accept-Language": "de-DE,de;q=0.9"},
    )
    context.set_default_timeout(SLOW_MACHINE_MS)
    citizen_page = context.new_page()
    try:
        log_in(citizen_page, citizen)
        citizen_page.goto(f"/antraege/{application.public_id}/")
        assert "Bitte laden Sie die Wohnungsgeberbestätigung hoch." in citizen_page.inner_text(
            "main"
        )
        citizen_page.get_by_role("link", name="Unterlagen hochladen").click()
        upload = tmp_path / "wohnungsgeberbestaetigung.pdf"
        upload.write_bytes(PDF)
        citizen_page.set_input_files('[name="documents"]', str(upload))
        citizen_page.get_by_role("button", name="Unterlagen senden").click()
        citizen_page.wait_for_url(f"**/antraege/{application.public_id}/")
        case.refresh_from_db()
        assert case.status == Case.Status.IN_REVIEW

        # The clerk sees the upload in the file, drafts the granting notice and issues it.
        page.reload()
        assert "wohnungsgeberbestaetigung.pdf" in page.inner_text("main")
        page.select_option('[name="draft-template_key"]', "granted")
        page.get_by_role("button", name="Bescheid entwerfen").click()
        page.wait_for_url(f"**/backoffice/vorgaenge/{case.pk}/")
        axe_check(page)
        page.get_by_role("button", name="Erlassen, siegeln und zustellen").click()
        page.wait_for_url(f"**/backoffice/vorgaenge/{case.pk}/")
        assert "Der Bescheid wurde erlassen, gesiegelt und zugestellt." in page.inner_text("main")
        axe_check(page)
        notice = Notice.objects.get(case=case)
        assert notice.status == Notice.Status.ISSUED
        page.get_by_role("link", name="Prüfprotokoll dieses Vorgangs").click()
        assert "case.notice_issued" in page.inner_text("main")
        axe_check(page)

        # The citizen sees the decision, reads the notice and downloads the sealed PDF.
        citizen_page.goto(f"/antraege/{application.public_id}/")
        case.refresh_from_db()
        assert case.citizen_status_label in citizen_page.inner_text("main")
        citizen_page.locator('main a[href^="/postfach/"]').first.click()
        citizen_page.wait_for_url("**/postfach/*/")
        with citizen_page.expect_download() as download_info:
            citizen_page.locator("main a[download]").first.click()
        pdf = download_info.value.path().read_bytes()

        # The clerk sees when the citizen retrieved the notice, and the announcement date
        # (§ 9 OZG: the first retrieval, being earlier than the third day, counts).
        notice.refresh_from_db()
        assert notice.mailbox_message is not None
        facts = delivery(notice.mailbox_message)
        assert facts.first_retrieved_at is not None
        assert facts.announced_on == timezone.localdate(facts.first_retrieved_at)
        page.goto(f"/backoffice/vorgaenge/{case.pk}/")
        clerk_view = page.inner_text("main")
        assert timezone.localtime(facts.first_retrieved_at).strftime("%d.%m.%Y %H:%M") in clerk_view
        assert facts.announced_on.strftime("%d.%m.%Y") in clerk_view
        axe_check(page)
    finally:
        context.close()
    status = validate_seal(pdf, trust_roots=seal_trust_roots())
    assert status.valid, status


@pytest.mark.browser
def test_team_leads_pages_are_accessible(
    page: Any, axe_check: Any, demo: None, make_staff: Callable[..., User]
) -> None:
    """The queue with the bulk assignment, the statistics, the assignment form on a case."""
    from rathaus.accounts.roles import TEAM_LEAD

    citizen = ProfileFactory(given_names="Erika", family_name="Mustermann").user
    application = _submitted_registration(citizen)
    case = application.case
    assert case is not None and case.org_unit is not None
    lead = make_staff(TEAM_LEAD, case.org_unit, name="theresa")
    make_staff(CLERK, case.org_unit, name="clara")
    page.set_default_timeout(SLOW_MACHINE_MS)
    _clerk_logs_in(page, lead)
    page.goto("/backoffice/")
    assert page.get_by_role("group", name="Ausgewählte Vorgänge zuweisen").is_visible()
    axe_check(page)
    page.get_by_role("button", name="Zuweisen").click()  # nothing selected: message, no 500
    assert "Wählen Sie mindestens einen Vorgang" in page.inner_text("main")
    axe_check(page)
    page.get_by_role("link", name="Statistik der Organisationseinheiten").click()
    assert case.org_unit.code in page.inner_text("main")
    axe_check(page)
    page.goto(f"/backoffice/vorgaenge/{case.pk}/")
    axe_check(page)
