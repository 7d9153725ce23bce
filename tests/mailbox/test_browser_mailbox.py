"""A citizen finds the unread notice, opens it, downloads the PDF, replies; axe on every page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rathaus.accounts.models import User
from rathaus.mailbox.models import Message, RetrievalLog
from tests.applications.test_browser_wohnsitz import log_in


@pytest.mark.browser
def test_citizen_opens_the_unread_notice_and_downloads_the_pdf(
    page: Any, axe_check: Any, citizen: User, deliver_notice: Any, notice_pdf: bytes
) -> None:
    message = deliver_notice()
    deliver_notice(kind="information", subject="Hinweis zur Briefwahl", attachments=[])
    log_in(page, citizen)

    page.get_by_role("link", name="Postfach").click()
    page.wait_for_url("**/postfach/")
    assert page.locator("#unread-count").inner_text() == "Sie haben 2 ungelesene Nachrichten."
    row = page.locator("tr", has_text="Bescheid über Ihre Meldebescheinigung")
    assert "Neu" in row.inner_text()
    axe_check(page)

    row.get_by_role("link", name="Bescheid über Ihre Meldebescheinigung").click()
    page.wait_for_url(f"**/postfach/{message.public_id}/")
    page.get_by_role("heading", name="Bescheid über Ihre Meldebescheinigung").wait_for()
    assert page.locator("#announced-on").inner_text()  # shown once opened: the day of opening
    axe_check(page)

    with page.expect_download() as info:
        page.get_by_role("link", name="Bescheid.pdf herunterladen").click()
    download = info.value
    assert download.suggested_filename == "Bescheid.pdf"
    assert Path(download.path()).read_bytes() == notice_pdf

    message.refresh_from_db()
    assert message.first_retrieved_at is not None
    assert list(RetrievalLog.objects.filter(message=message).values_list("action", flat=True)) == [
        "opened",
        "downloaded",
    ]

    # A reply without text or file is refused next to the field; the page stays accessible.
    page.get_by_role("button", name="Antwort senden").click()
    page.get_by_text(
        "Bitte schreiben Sie einen Text oder hängen Sie eine Datei an."
    ).first.wait_for()
    axe_check(page)
    page.get_by_label("Ihre Antwort").fill("Vielen Dank, ich habe den Bescheid erhalten.")
    page.get_by_role("button", name="Antwort senden").click()
    page.get_by_text("Ihre Antwort wurde gesendet.").wait_for()
    assert Message.objects.filter(from_citizen=True, parent=message).count() == 1
    page.get_by_role("link", name="Antwort vom").click()
    page.get_by_role("heading", name="Re: Bescheid über Ihre Meldebescheinigung").wait_for()
    axe_check(page)
    page.go_back()

    page.get_by_role("button", name="Ins Archiv verschieben").click()
    page.wait_for_url("**/postfach/")
    assert page.locator("#unread-count").inner_text() == "Sie haben 1 ungelesene Nachricht."
    page.get_by_role("link", name="Archiv", exact=True).click()
    page.wait_for_url("**/postfach/archiv/")
    page.locator("tr", has_text="Bescheid über Ihre Meldebescheinigung").wait_for()
    axe_check(page)

    page.goto("/postfach/?q=Briefwahl")
    page.get_by_label("Im Postfach suchen").wait_for()
    assert page.get_by_role("link", name="Hinweis zur Briefwahl").count() == 1
    axe_check(page)
