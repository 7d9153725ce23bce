"""Errors of the mailbox services, with a message fit to show the citizen."""

from __future__ import annotations


class MailboxError(Exception):
    """A mailbox operation was refused; ``str(error)`` is the translated reason."""


class ReplyRefused(MailboxError):
    """A reply could not be stored; ``field_errors`` maps "body"/"attachments" to messages."""

    def __init__(self, field_errors: dict[str, list[str]]) -> None:
        self.field_errors = field_errors
        super().__init__("; ".join(m for messages in field_errors.values() for m in messages))


class ReplyKeyUsed(MailboxError):
    """The reply form's key was already used for a different reply (another text, other files or
    another message): nothing was stored; the form must be sent again with a fresh key."""
