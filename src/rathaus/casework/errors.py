"""Errors of the case workflow; ``str(error)`` is the message shown to the clerk or citizen."""

from __future__ import annotations


class CaseworkError(Exception):
    """A request that cannot be carried out on this case now."""


class TransitionError(CaseworkError):
    """The case cannot move to the requested status (illegal, or someone else was faster)."""


class PermissionDenied(CaseworkError):
    """The user may not do this on this case."""


class NoticeTemplateError(CaseworkError):
    """A notice template is broken or cannot be filled in (names the service and template)."""


class DueDateError(CaseworkError):
    """The due date itself is not acceptable (in the past, or implausibly far ahead)."""
