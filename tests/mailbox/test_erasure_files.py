"""Account deletion (Art. 17 GDPR) takes the Postfach with it: the messages, and their stored
files (notice PDFs, the citizen's evidence sent with replies) once the deletion commits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.files.storage import InMemoryStorage

from rathaus.accounts import personal_data
from rathaus.accounts.models import User
from rathaus.accounts.personal_data import ErasureBlocked
from rathaus.accounts.services import delete_account
from rathaus.mailbox.models import Message, MessageAttachment
from rathaus.mailbox.services import send_reply
from rathaus.mailbox.tasks import queue_stranded_notifications
from tests.mailbox.test_services import PNG

pytestmark = pytest.mark.django_db


def _stored(message: Message) -> list[str]:
    return [a.file.name for a in MessageAttachment.objects.filter(message=message)]


def _storage() -> Any:
    return MessageAttachment._meta.get_field("file").storage


def _pending() -> Any:
    from rathaus.mailbox.models import PendingFileDeletion  # new with the deletion of files

    return PendingFileDeletion.objects.all()


def test_account_deletion_deletes_the_mailbox_files_once_it_commits(
    citizen: User,
    other_citizen: User,
    deliver_notice: Any,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    notice = deliver_notice()
    information = deliver_notice(kind="information", subject="Hinweis")
    others = deliver_notice(owner=other_citizen)
    names, kept = _stored(notice) + _stored(information), _stored(others)
    assert len(names) == 2 and all(_storage().exists(n) for n in names + kept)

    with django_capture_on_commit_callbacks(execute=True):
        delete_account(user=citizen)
        # nothing is deleted from the storage before the deletion has committed
        assert all(_storage().exists(n) for n in names)

    assert not User.objects.filter(pk=citizen.pk).exists()
    assert not Message.objects.filter(owner_id=citizen.pk).exists()
    assert not any(_storage().exists(n) for n in names)
    assert not _pending().exists()
    assert all(_storage().exists(n) for n in kept)  # another account's Postfach stays


def test_a_citizen_who_replied_with_files_can_delete_the_account_and_the_files_go(
    citizen: User,
    deliver_notice: Any,
    clamd_address: str,
    settings: Any,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    """A reply points to the message it answers (``Message.parent``, protected): it goes first,
    so the reply does not block the erasure as "records the authority must keep"."""
    settings.CLAMD_ADDRESS = clamd_address
    request = deliver_notice(kind="request")
    reply = send_reply(
        message=request,
        owner=citizen,
        body="Anbei mein Nachweis.",
        attachments=[("nachweis.png", "image/png", PNG)],
    ).message
    names = _stored(request) + _stored(reply)
    assert len(names) == 2

    with django_capture_on_commit_callbacks(execute=True):
        delete_account(user=citizen)

    assert not User.objects.filter(pk=citizen.pk).exists()
    assert not Message.objects.filter(owner_id=citizen.pk).exists()
    assert not any(_storage().exists(n) for n in names)


@pytest.fixture
def refusing_module() -> Iterator[None]:
    def refuse(user: Any) -> None:
        raise ErasureBlocked("A case is still being processed.")

    personal_data.register_erasure_handler("zz_refusing_module", refuse)
    yield
    personal_data._erasure_handlers.pop("zz_refusing_module")


def test_a_refused_deletion_keeps_the_messages_and_their_files(
    citizen: User,
    deliver_notice: Any,
    refusing_module: None,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    notice = deliver_notice()
    names = _stored(notice)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ErasureBlocked):
        delete_account(user=citizen)

    assert Message.objects.filter(pk=notice.pk).exists()
    assert _stored(notice) == names and all(_storage().exists(n) for n in names)
    assert not _pending().exists()


def test_a_file_the_storage_refuses_to_delete_is_retried_by_the_periodic_job(
    citizen: User,
    deliver_notice: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    [name] = _stored(deliver_notice())
    original = InMemoryStorage.delete

    def refuse(self: InMemoryStorage, stored: str) -> None:
        raise OSError("storage not reachable")

    monkeypatch.setattr(InMemoryStorage, "delete", refuse)
    with django_capture_on_commit_callbacks(execute=True):
        delete_account(user=citizen)  # committed all the same

    assert not User.objects.filter(pk=citizen.pk).exists()
    assert _storage().exists(name)
    pending = _pending().get()
    assert (pending.storage_name, pending.attempts) == (name, 1)
    [logged] = [r for r in caplog.records if r.getMessage().startswith("stored file not deleted")]
    assert logged.levelname == "ERROR"

    monkeypatch.setattr(InMemoryStorage, "delete", original)
    queue_stranded_notifications.call()  # the next periodic run of the mailbox
    assert not _storage().exists(name)
    assert not _pending().exists()
