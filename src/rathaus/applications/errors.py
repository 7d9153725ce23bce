"""Errors of the application flow; ``str(error)`` is the message shown to the citizen."""


class ApplicationError(Exception):
    """A request the citizen cannot make now."""
