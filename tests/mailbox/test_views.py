"""/postfach/: the owner reads, downloads, replies and archives; everyone else gets a 404."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from rathaus.accounts.models import User
from rathaus.mailbox.models import Message, RetrievalLog
from tests.fixtures.clamd import EICAR


def _client(user: User | None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _urls(message: Message) -> dict[str, str]:
    attachment = message.attachments.get()
    base = f"/postfach/{message.public_id}/"
    return {
        "detail": base,
        "download": f"{base}dateien/{attachment.public_id}/",
    }


@pytest.mark.django_db
def test_inbox_lists_own_messages_with_unread_count(
    citizen: User, other_citizen: User, deliver_notice: Any
) -> None:
    deliver_notice(subject="Bescheid Wohngeld")
    deliver_notice(owner=other_citizen, subject="Fremder Bescheid")
    response = _client(citizen).get("/postfach/")
    content = response.content.decode()
    assert response.status_code == 200
    assert "Bescheid Wohngeld" in content
    assert "Fremder Bescheid" not in content
    assert "Sie haben 1 ungelesene Nachricht." in content
    assert "Neu" in content
    # The navigation shows the count on every page.
    start = _client(citizen).get("/").content.decode()
    assert 'Postfach (1<span class="kern-sr-only"> ungelesene Nachricht</span>)' in start


@pytest.mark.django_db
def test_search_finds_only_matching_messages(citizen: User, deliver_notice: Any) -> None:
    deliver_notice(subject="Bescheid Wohngeld")
    deliver_notice(kind="information", subject="Hinweis Briefwahl")
    content = _client(citizen).get("/postfach/?q=briefwahl").content.decode()
    assert "Hinweis Briefwahl" in content
    assert "Bescheid Wohngeld" not in content
    empty = _client(citizen).get("/postfach/?q=xyz").content.decode()
    assert "Keine Nachrichten passen zu „xyz“." in empty


@pytest.mark.django_db
def test_opening_a_notice_is_logged_and_shows_the_announcement_date(
    citizen: User, deliver_notice: Any
) -> None:
    message = deliver_notice()
    response = _client(citizen).get(f"/postfach/{message.public_id}/")
    assert response.status_code == 200
    content = response.content.decode()
    assert "Datum der Bekanntgabe" in content
    message.refresh_from_db()
    assert message.first_retrieved_at is not None
    assert message.read_at is not None
    assert RetrievalLog.objects.filter(message=message, action="opened").count() == 1
    assert (
        "Sie haben 0 ungelesene Nachrichten." in _client(citizen).get("/postfach/").content.decode()
    )


@pytest.mark.django_db
def test_download_returns_the_pdf_and_is_logged(
    citizen: User, deliver_notice: Any, notice_pdf: bytes
) -> None:
    message = deliver_notice()
    response = _client(citizen).get(_urls(message)["download"])
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == notice_pdf  # type: ignore[attr-defined]
    assert response["Content-Type"] == "application/pdf"
    assert 'attachment; filename="Bescheid.pdf"' in response["Content-Disposition"]
    [entry] = RetrievalLog.objects.filter(message=message)
    assert entry.action == "downloaded"
    assert entry.sha256 == message.attachments.get().sha256


@pytest.mark.django_db
def test_a_file_missing_from_storage_is_no_500_and_no_proof_of_retrieval(
    citizen: User, deliver_notice: Any
) -> None:
    message = deliver_notice()
    attachment = message.attachments.get()
    attachment.file.storage.delete(attachment.file.name)  # lost from the storage
    response = _client(citizen).get(_urls(message)["download"])
    assert response.status_code == 404
    assert not RetrievalLog.objects.filter(message=message).exists()
    message.refresh_from_db()
    assert message.first_retrieved_at is None


@pytest.mark.django_db
def test_a_file_changed_in_storage_is_not_handed_out_as_the_delivered_notice(
    citizen: User, deliver_notice: Any
) -> None:
    """The retrieval log proves that the citizen received the delivered document (its
    SHA-256): other bytes in its place are neither served nor logged."""
    message = deliver_notice()
    attachment = message.attachments.get()
    with attachment.file.storage.open(attachment.file.name, "wb") as stored:
        stored.write(b"%PDF-1.7 something else")
    response = _client(citizen).get(_urls(message)["download"])
    assert response.status_code == 404
    assert not RetrievalLog.objects.filter(message=message).exists()


@pytest.mark.django_db
def test_another_citizen_gets_404_for_everything_and_leaves_no_trace(
    citizen: User, other_citizen: User, deliver_notice: Any
) -> None:
    message = deliver_notice(subject="Geheimer Bescheid")
    urls = _urls(message)
    intruder = _client(other_citizen)
    for url in urls.values():
        assert intruder.get(url).status_code == 404
    for action in ("antworten", "archivieren", "zurueck"):
        response = intruder.post(f"/postfach/{message.public_id}/{action}/", {"body": "x"})
        assert response.status_code == 404
    assert "Geheimer Bescheid" not in intruder.get("/postfach/").content.decode()
    assert "Geheimer Bescheid" not in intruder.get("/postfach/?q=Geheim").content.decode()
    assert "Geheimer Bescheid" not in intruder.get("/postfach/archiv/").content.decode()
    message.refresh_from_db()
    assert message.first_retrieved_at is None
    assert message.archived_at is None
    assert not RetrievalLog.objects.exists()
    assert not Message.objects.filter(from_citizen=True).exists()


@pytest.mark.django_db
def test_guessed_ids_and_a_file_of_another_message_are_404(
    citizen: User, other_citizen: User, deliver_notice: Any
) -> None:
    mine = deliver_notice()
    theirs = deliver_notice(owner=other_citizen)
    client = _client(citizen)
    # The other person's file under my message's address, and numeric or malformed ids.
    their_file = theirs.attachments.get()
    assert (
        client.get(f"/postfach/{mine.public_id}/dateien/{their_file.public_id}/").status_code == 404
    )
    assert client.get(f"/postfach/{uuid.uuid4()}/").status_code == 404
    assert client.get(f"/postfach/{mine.pk}/").status_code == 404
    assert client.get(f"/postfach/{theirs.pk}/").status_code == 404
    assert client.get("/postfach/1/dateien/1/").status_code == 404


@pytest.mark.django_db
def test_anonymous_visitors_are_sent_to_the_login(citizen: User, deliver_notice: Any) -> None:
    message = deliver_notice()
    anonymous = _client(None)
    for url in ["/postfach/", "/postfach/archiv/", *_urls(message).values()]:
        response = anonymous.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/konto/login/")
    response = anonymous.post(f"/postfach/{message.public_id}/antworten/", {"body": "x"})
    assert response.status_code == 302
    assert not RetrievalLog.objects.exists()


@pytest.mark.django_db
def test_reply_with_a_refused_file_keeps_the_text_and_names_the_problem(
    citizen: User, deliver_notice: Any, clamd_address: str, settings: Any
) -> None:
    settings.CLAMD_ADDRESS = clamd_address
    message = deliver_notice(kind="request")
    response = _client(citizen).post(
        f"/postfach/{message.public_id}/antworten/",
        {
            "body": "Hier mein Nachweis.",
            "attachments": [
                SimpleUploadedFile("nachweis.pdf", b"%PDF-1.4\n" + EICAR, "application/pdf")
            ],
        },
    )
    assert response.status_code == 400
    content = response.content.decode()
    assert "Hier mein Nachweis." in content
    assert "nachweis.pdf" in content and "Schadsoftware" in content
    assert not Message.objects.filter(from_citizen=True).exists()
    # shown at the reply's POST-only address: the language switch returns to the message
    switcher = content.split('class="rathaus-language"', 1)[1].split("</form>", 1)[0]
    assert f'name="next" value="/postfach/{message.public_id}/"' in switcher


@pytest.mark.django_db
def test_reply_is_stored_and_shown_under_the_message(
    citizen: User, deliver_notice: Any, clamd_address: str, settings: Any
) -> None:
    settings.CLAMD_ADDRESS = clamd_address
    message = deliver_notice(kind="request")
    client = _client(citizen)
    response = client.post(
        f"/postfach/{message.public_id}/antworten/",
        {
            "body": "Hier mein Nachweis.",
            "attachments": [
                SimpleUploadedFile(
                    "nachweis.pdf", b"%PDF-1.4\ntrailer<<>>\n%%EOF\n", "application/pdf"
                )
            ],
        },
    )
    assert response.status_code == 302
    answer = Message.objects.get(from_citizen=True)
    assert answer.attachments.get().name == "nachweis.pdf"
    page = client.get(response["Location"]).content.decode()
    assert "Ihre Antworten" in page


@pytest.mark.django_db
def test_archive_and_back(citizen: User, deliver_notice: Any) -> None:
    message = deliver_notice(subject="Alter Bescheid")
    client = _client(citizen)
    assert client.post(f"/postfach/{message.public_id}/archivieren/").status_code == 302
    assert "Alter Bescheid" not in client.get("/postfach/").content.decode()
    assert "Alter Bescheid" in client.get("/postfach/archiv/").content.decode()
    assert client.post(f"/postfach/{message.public_id}/zurueck/").status_code == 302
    assert "Alter Bescheid" in client.get("/postfach/").content.decode()
    assert client.get(f"/postfach/{message.public_id}/archivieren/").status_code == 405


@pytest.mark.django_db
def test_reply_with_a_file_over_the_limit_is_refused_before_it_is_read(
    citizen: User, deliver_notice: Any, settings: Any
) -> None:
    settings.VIRUS_SCANNER = "tests.mailbox.test_views.UnreachableScanner"
    message = deliver_notice(kind="request")
    big = SimpleUploadedFile(
        "scan.pdf", b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024), "application/pdf"
    )
    response = _client(citizen).post(
        f"/postfach/{message.public_id}/antworten/", {"body": "Anbei.", "attachments": [big]}
    )
    assert response.status_code == 400
    assert "scan.pdf: Die Datei ist größer als 10 MB." in response.content.decode()


class UnreachableScanner:
    def scan(self, data: bytes) -> Any:
        raise AssertionError("too large files must not reach the scanner")
