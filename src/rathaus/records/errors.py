"""Errors of the electronic file; ``str(error)`` is a message for clerks and administrators."""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext as _


class RecordsError(Exception):
    """A change to the file plan, a file or a document that cannot be made."""


class IntegrityError(RecordsError):
    """A stored document version no longer matches the SHA-256 recorded when it was filed."""


class PlanImportError(RecordsError):
    """A file plan CSV with malformed rows; nothing of it was imported.

    ``problems`` lists ``(row number, reason)``; row 1 is the header line.
    """

    def __init__(self, problems: Sequence[tuple[int, str]]) -> None:
        self.problems = list(problems)
        super().__init__(
            "\n".join(
                _("Row %(row)s: %(reason)s") % {"row": row, "reason": reason}
                for row, reason in self.problems
            )
        )


class DisposalError(RecordsError):
    """A disposal step that cannot be taken, or an archive message that cannot be imported;
    nothing of it was changed."""
