"""Files written in a transaction are deleted when it does not commit and kept when it does
(``rathaus.core.stored_files``), whatever commit hooks the caller registered before."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from rathaus.core.stored_files import delete_unless_committed, note_commit
from rathaus.mailbox.models import Message
from rathaus.mailbox.services import deliver
from tests.accounts.factories import ProfileFactory


class CallersHookFailed(Exception):
    pass


def _fail() -> None:
    raise CallersHookFailed


def _write(name: str, written: list[str]) -> str:
    stored = default_storage.save(name, ContentFile(b"%PDF-1.7 test"))
    written.append(stored)
    return stored


@pytest.mark.django_db(transaction=True)
def test_a_committed_delivery_keeps_its_file_when_an_earlier_hook_of_the_caller_raises() -> None:
    """The caller registered a commit hook that raises before it delivered: Django skips the
    later hooks, yet the delivery committed, so its notice's PDF must stay."""
    citizen = ProfileFactory().user
    with pytest.raises(CallersHookFailed), transaction.atomic():
        transaction.on_commit(_fail)
        message = deliver(
            owner=citizen,
            kind="notice",
            subject="Bescheid",
            body="Ihrem Antrag wird stattgegeben.",
            attachments=[("Bescheid.pdf", "application/pdf", b"%PDF-1.7 Bescheid")],
        )
        name = message.attachments.get().file.name

    assert Message.objects.filter(pk=message.pk).exists()  # committed
    assert default_storage.exists(name)
    with message.attachments.get().file.open("rb") as stored:
        assert stored.read() == b"%PDF-1.7 Bescheid"


@pytest.mark.django_db(transaction=True)
def test_files_of_a_commit_stay_and_of_a_rollback_go_whatever_hooks_came_before() -> None:
    kept: list[str] = []
    with pytest.raises(CallersHookFailed), transaction.atomic():
        transaction.on_commit(_fail)
        delete_unless_committed(kept, storage=default_storage, what="test")
        _write("stored-files/kept.pdf", kept)
    assert all(default_storage.exists(name) for name in kept)

    dropped: list[str] = []
    with pytest.raises(CallersHookFailed), transaction.atomic():
        transaction.on_commit(_fail)
        delete_unless_committed(dropped, storage=default_storage, what="test")
        _write("stored-files/dropped.pdf", dropped)
        raise CallersHookFailed  # rolled back
    assert dropped and not any(default_storage.exists(name) for name in dropped)

    inner: list[str] = []
    with transaction.atomic():
        transaction.on_commit(lambda: None)
        with pytest.raises(CallersHookFailed), transaction.atomic():
            delete_unless_committed(inner, storage=default_storage, what="test")
            _write("stored-files/savepoint.pdf", inner)
            raise CallersHookFailed  # rolled back to the savepoint
    assert inner and not any(default_storage.exists(name) for name in inner)


@pytest.mark.django_db(transaction=True)
def test_the_commit_is_noted_even_when_an_earlier_hook_raises() -> None:
    committed: list[bool] = []
    with pytest.raises(CallersHookFailed), transaction.atomic():
        transaction.on_commit(_fail)
        note_commit(committed)
    assert committed

    rolled_back: list[bool] = []
    with pytest.raises(CallersHookFailed), transaction.atomic():
        note_commit(rolled_back)
        raise CallersHookFailed
    assert not rolled_back
