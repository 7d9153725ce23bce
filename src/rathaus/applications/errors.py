"""Errors of the application flow; ``str(error)`` is the message shown to the citizen."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A request the citizen cannot make now."""


class AuditedRefusal(ApplicationError):
    """A refusal the audit trail keeps although the transaction that found it is rolled back.

    :func:`rathaus.applications.services.submit_application` records ``action`` with
    ``details`` about the application once the submission's transaction is undone."""

    def __init__(self, message: str, *, action: str, details: dict[str, Any]) -> None:
        super().__init__(message)
        self.action = action
        self.details = details
