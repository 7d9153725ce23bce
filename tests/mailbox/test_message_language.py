"""A message knows the language it is written in: pages in another language mark its subject
and text with it (WCAG 3.1.2), and the e-mail about it follows the citizen's language."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from django.utils import timezone

from rathaus.accounts.models import User
from rathaus.mailbox.models import Message
from rathaus.mailbox.notifications import recipient_language
from rathaus.mailbox.services import deliver

pytestmark = pytest.mark.django_db

MIGRATION: Any = importlib.import_module("rathaus.mailbox.migrations.0003_message_language")
SUBJECT = "Bescheid über Ihre Meldebescheinigung"


def _reader(user: User, language: str) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = language
    return client


def test_english_pages_mark_a_german_message(citizen: User, deliver_notice: Any) -> None:
    message = deliver_notice(language="de")
    client = _reader(citizen, "en")
    detail = client.get(f"/postfach/{message.public_id}/").content.decode()
    assert f'<h1 class="kern-heading-large" lang="de">{SUBJECT}</h1>' in detail
    assert '<div class="kern-body rathaus-message-body" lang="de">' in detail
    inbox = client.get("/postfach/").content.decode()
    assert f'lang="de">{SUBJECT}</a>' in inbox


def test_german_pages_leave_a_german_message_unmarked(citizen: User, deliver_notice: Any) -> None:
    message = deliver_notice(language="de")
    client = _reader(citizen, "de")
    detail = client.get(f"/postfach/{message.public_id}/").content.decode()
    assert f'<h1 class="kern-heading-large">{SUBJECT}</h1>' in detail
    assert '<div class="kern-body rathaus-message-body">' in detail


def test_german_pages_mark_an_english_message(citizen: User, deliver_notice: Any) -> None:
    message = deliver_notice(kind="receipt", subject="Receipt: Registration", language="en")
    detail = _reader(citizen, "de").get(f"/postfach/{message.public_id}/").content.decode()
    assert '<h1 class="kern-heading-large" lang="en">Receipt: Registration</h1>' in detail


def test_a_message_of_unknown_language_is_not_marked(citizen: User, deliver_notice: Any) -> None:
    message = deliver_notice()
    assert message.language == ""
    detail = _reader(citizen, "en").get(f"/postfach/{message.public_id}/").content.decode()
    assert f'<h1 class="kern-heading-large">{SUBJECT}</h1>' in detail


def test_a_reply_names_the_message_it_answers_in_that_language(
    citizen: User, deliver_notice: Any
) -> None:
    message = deliver_notice(kind="request", subject="Unterlagen benötigt", language="de")
    reply = Message.objects.create(
        owner=citizen,
        kind=Message.Kind.REPLY,
        subject="Re: Unterlagen benötigt",
        parent=message,
        from_citizen=True,
        provided_at=timezone.now(),
    )
    detail = _reader(citizen, "en").get(f"/postfach/{reply.public_id}/").content.decode()
    assert 'lang="de">Unterlagen benötigt</a>' in detail
    assert '<h1 class="kern-heading-large">Re: Unterlagen benötigt</h1>' in detail


def test_a_language_the_site_does_not_have_is_refused(citizen: User) -> None:
    with pytest.raises(ValueError, match="fr"):
        deliver(owner=citizen, kind="information", subject="Info", body="", language="fr")


def test_the_email_follows_the_chosen_language(citizen: User, deliver_notice: Any) -> None:
    citizen.profile.preferred_language = "en"
    citizen.profile.save()
    assert recipient_language(deliver_notice(language="de")) == "en"


def test_without_a_choice_the_email_follows_the_language_the_citizen_applied_in(
    citizen: User, deliver_notice: Any
) -> None:
    """The receipt of the case is in the language the application was sent in."""
    assert citizen.profile.preferred_language == ""
    deliver_notice(kind="receipt", subject="Receipt: Registration", language="en")
    notice = deliver_notice(language="de")
    assert recipient_language(notice) == "en"
    other_case = deliver_notice(language="de", case_number="2026-000999")
    assert recipient_language(other_case) == "de"  # its own language, no receipt of that case


def test_without_a_choice_or_a_known_language_the_email_is_german(
    citizen: User, deliver_notice: Any
) -> None:
    assert recipient_language(deliver_notice()) == "de"


def test_the_migration_gives_messages_the_language_they_were_written_in(
    citizen: User, deliver_notice: Any
) -> None:
    notice = deliver_notice()
    request = deliver_notice(kind="request", subject="Unterlagen benötigt")
    german_receipt = deliver_notice(
        kind="receipt",
        subject="Eingangsbestätigung: Meldebescheinigung",
        body="Wir haben Ihren Antrag A-2026-000001 erhalten. Die Eingangsbestätigung …",
    )
    english_receipt = deliver_notice(
        kind="receipt",
        subject="Receipt: Registration certificate",
        body="We have received your application A-2026-000002. The receipt …",
    )
    odd_receipt = deliver_notice(kind="receipt", subject="Receipt: x", body="Anbei.")
    reply = Message.objects.create(
        owner=citizen,
        kind=Message.Kind.REPLY,
        subject="Re: Bescheid",
        body="Thank you",
        parent=notice,
        from_citizen=True,
        provided_at=timezone.now(),
    )

    MIGRATION.languages_written_in(apps, None)

    def language(message: Message) -> str:
        return Message.objects.get(pk=message.pk).language

    assert language(notice) == "de"
    assert language(request) == "de"
    assert language(german_receipt) == "de"
    assert language(english_receipt) == "en"
    assert language(odd_receipt) == ""
    assert language(reply) == ""
