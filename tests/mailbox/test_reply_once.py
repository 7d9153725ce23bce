"""One reply per reply form: a double click on "Antwort senden" files one reply in the E-Akte.

The form carries a key made when it is shown (unique per owner); the same form posted again is
answered with the reply it sent the first time. A page without a key still sends its reply.
"""

from __future__ import annotations

import datetime
import re
import threading
import uuid
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client

from rathaus.accounts.models import User
from rathaus.applications.models import Application
from rathaus.applications.services import submit_application
from rathaus.casework import services as casework
from rathaus.casework.models import CaseEvent
from rathaus.core.models import AuditEvent
from rathaus.mailbox import services
from rathaus.mailbox.models import Message
from tests.applications.conftest import (  # noqa: F401
    _forget_form_versions,
    citizen,
    demo,
    meldebescheinigung,
    wuppertal,
)
from tests.applications.meldebescheinigung import answer_all

pytestmark = pytest.mark.django_db

KEY_FIELD = re.compile(r'<input type="hidden" name="idempotency_key" value="([0-9a-f]{32})"')


@pytest.fixture
def logged_in(client: Client, citizen: User) -> Client:  # noqa: F811
    client.force_login(citizen)
    session = client.session
    session["rathaus_trust_level"] = "high"
    session.save()
    return client


@pytest.fixture
def request_message(logged_in: Client, citizen: User, meldebescheinigung: Any) -> Message:  # noqa: F811
    """The clerk's request for documents on a submitted application, in the citizen's Postfach."""
    assert (
        logged_in.post("/antraege/neu/meldebescheinigung/", {"gemeinde": "wuppertal"}).status_code
        == 302
    )
    draft = Application.objects.get()
    answer_all(draft)
    application = submit_application(
        application=Application.objects.get(pk=draft.pk),
        idempotency_key="k",
        confirmed=True,
        actor=citizen,
    )
    casework.request_documents(
        case=application.case,
        description="Nachweis",
        due_on=datetime.date.today() + datetime.timedelta(days=10),
        actor=None,
    )
    return Message.objects.get(owner=citizen, kind="request")


def _form_key(client: Client, message: Message) -> str:
    """The key of the reply form as the message page renders it."""
    page = client.get(f"/postfach/{message.public_id}/").content.decode()
    found = KEY_FIELD.search(page)
    assert found, "the reply form carries no key"
    return found.group(1)


def _post(client: Client, message: Message, body: str, key: str | None) -> Any:
    data = {"body": body} if key is None else {"body": body, "idempotency_key": key}
    return client.post(f"/postfach/{message.public_id}/antworten/", data)


def _filed(message: Message) -> int:
    """Replies filed on the message's case (the E-Akte)."""
    return CaseEvent.objects.filter(
        case__authority=message.authority, case__number=message.case_number, kind="reply_received"
    ).count()


def test_a_double_click_on_send_reply_sends_one_reply(
    logged_in: Client, request_message: Message
) -> None:
    key = _form_key(logged_in, request_message)
    first = _post(logged_in, request_message, "Die Unterlage folgt per Post.", key)
    second = _post(logged_in, request_message, "Die Unterlage folgt per Post.", key)

    [answer] = Message.objects.filter(parent=request_message)
    assert first.status_code == 302
    assert first["Location"] == f"/postfach/{request_message.public_id}/"
    # the repeat is answered with the reply the first click sent, not an error
    assert second.status_code == 302
    assert second["Location"] == f"/postfach/{answer.public_id}/"
    page = logged_in.get(second["Location"]).content.decode()
    assert "Ihre Antwort war bereits gesendet worden" in page
    assert "Die Unterlage folgt per Post." in page
    assert _filed(request_message) == 1
    assert AuditEvent.objects.filter(action="mailbox.reply_received").count() == 1
    assert answer.idempotency_key == key


def test_two_replies_from_two_forms_are_two_replies(
    logged_in: Client, request_message: Message
) -> None:
    first_key = _form_key(logged_in, request_message)
    assert _post(logged_in, request_message, "Erste Antwort.", first_key).status_code == 302
    second_key = _form_key(logged_in, request_message)  # the page shown after the first reply
    assert second_key != first_key
    assert _post(logged_in, request_message, "Zweite Antwort.", second_key).status_code == 302
    bodies = sorted(Message.objects.filter(parent=request_message).values_list("body", flat=True))
    assert bodies == ["Erste Antwort.", "Zweite Antwort."]
    assert _filed(request_message) == 2


def test_a_reply_from_a_page_without_a_key_is_still_sent(
    logged_in: Client, request_message: Message
) -> None:
    """A page rendered before the key existed posts none: its reply goes through, once per
    post, and a reply without a key never blocks another one."""
    assert _post(logged_in, request_message, "Anbei der Nachweis.", None).status_code == 302
    [answer] = Message.objects.filter(parent=request_message)
    assert answer.body == "Anbei der Nachweis." and answer.idempotency_key == ""
    assert _filed(request_message) == 1
    assert _post(logged_in, request_message, "Noch ein Nachweis.", "").status_code == 302
    assert Message.objects.filter(parent=request_message).count() == 2


def test_the_same_form_with_another_text_is_refused_and_keeps_the_text(
    logged_in: Client, request_message: Message
) -> None:
    """A key used for one reply never swallows a different one (a form edited after the back
    button): nothing is stored, the text stays, and the form shown again sends it."""
    key = _form_key(logged_in, request_message)
    assert _post(logged_in, request_message, "Die Unterlage folgt.", key).status_code == 302
    refused = _post(logged_in, request_message, "Doch lieber heute.", key)
    assert refused.status_code == 409
    page = refused.content.decode()
    assert "Mit diesem Formular wurde bereits eine andere Antwort gesendet." in page
    assert "Doch lieber heute." in page
    assert Message.objects.filter(parent=request_message).count() == 1
    [fresh] = KEY_FIELD.findall(page)
    assert fresh != key
    assert _post(logged_in, request_message, "Doch lieber heute.", fresh).status_code == 302
    assert Message.objects.filter(parent=request_message).count() == 2


def test_a_repeat_that_raced_past_the_check_gets_the_first_reply(
    citizen: User,  # noqa: F811
    request_message: Message,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two posts of one form at the same moment both find no reply yet; the unique key lets
    only one be stored and the other is answered with it."""
    first = services.send_reply(
        message=request_message, owner=citizen, body="Folgt per Post.", idempotency_key="a" * 32
    )
    real = services._earlier_reply
    lookups: list[str] = []

    def not_yet_committed(owner: Any, key: str) -> Message | None:
        lookups.append(key)
        return None if len(lookups) == 1 else real(owner, key)

    monkeypatch.setattr(services, "_earlier_reply", not_yet_committed)
    again = services.send_reply(
        message=request_message, owner=citizen, body="Folgt per Post.", idempotency_key="a" * 32
    )
    assert again.repeated and again.message == first.message and not first.repeated
    assert len(lookups) == 2
    assert Message.objects.filter(parent=request_message).count() == 1
    assert _filed(request_message) == 1


@pytest.mark.django_db(transaction=True)
def test_two_posts_of_one_form_at_the_same_moment_send_one_reply(
    citizen: User,  # noqa: F811
    request_message: Message,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent connections and a unique index that waits (PostgreSQL)")
    key = uuid.uuid4().hex
    real = services._earlier_reply
    barrier = threading.Barrier(2)
    seen = threading.local()

    def both_have_looked(owner: Any, idempotency_key: str) -> Message | None:
        found = real(owner, idempotency_key)
        if not getattr(seen, "once", False):  # both find nothing before either stores
            seen.once = True
            barrier.wait(timeout=10)
        return found

    monkeypatch.setattr(services, "_earlier_reply", both_have_looked)
    results: list[services.SentReply] = []
    errors: list[BaseException] = []

    def click() -> None:
        try:
            results.append(
                services.send_reply(
                    message=Message.objects.get(pk=request_message.pk),
                    owner=citizen,
                    body="Folgt per Post.",
                    idempotency_key=key,
                )
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(r.repeated for r in results) == [False, True]
    assert results[0].message == results[1].message
    assert Message.objects.filter(parent=request_message).count() == 1
    assert _filed(request_message) == 1
    assert AuditEvent.objects.filter(action="mailbox.reply_received").count() == 1
