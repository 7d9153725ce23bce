"""Errors of the case workflow; ``str(error)`` is the message shown to the clerk or citizen."""

from __future__ import annotations


class CaseworkError(Exception):
    """A request that cannot be carried out on this case now."""


class TransitionError(CaseworkError):
    """The case cannot move to the requested status (illegal, or someone else was faster)."""


class PermissionDenied(CaseworkError):
    """The user may not do this on this case."""


class PartyToCaseError(PermissionDenied):
    """The user is the applicant of the case: a party may not act for the authority in its own
    procedure (§ 20 Abs. 1 Nr. 1 VwVfG)."""


class ChangedMeanwhileError(CaseworkError):
    """A colleague changed the notice or the assignment after the page was read: carrying the
    action out would act on something the person never saw. Nothing was changed."""


class StoredNoticeError(CaseworkError):
    """An issued notice's PDF is gone from the storage or differs from the sealed one (its
    SHA-256): it is not handed out."""


class NoticeTemplateError(CaseworkError):
    """A notice template is broken or cannot be filled in (names the service and template)."""


class FieldError(CaseworkError):
    """One value the person typed is not acceptable; ``field`` is the service's keyword for it,
    so that a form can say so beside that field."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


class DueDateError(FieldError):
    """The due date itself is not acceptable (in the past, or implausibly far ahead)."""

    def __init__(self, message: str, *, field: str = "due_on") -> None:
        super().__init__(message, field=field)
