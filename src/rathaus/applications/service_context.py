"""What a service's rules attach to an application besides the answers (``Application.context``).

A service may need a choice before its draft opens, which the form cannot ask because the
options come from a register: which election a postal vote is for (Briefwahl, several elections
on one day). The start page asks it (:class:`StartChoice`); the choice is then named on the
review page, in "Meine Anträge", on the receipt and in the case's particulars, where the notice
templates can use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from rathaus.applications.errors import ApplicationError
from rathaus.applications.models import Application
from rathaus.core.models import Municipality


@dataclass(frozen=True)
class ChoiceOption:
    value: str
    label: str


@dataclass(frozen=True)
class StartChoice:
    """A question answered on the start page, before the draft exists."""

    legend: str
    hint: str
    options: tuple[ChoiceOption, ...]


class ChoiceRequired(ApplicationError):
    """The citizen must choose before the draft opens: the start page asks ``choice``. With a
    ``refusal``, the value given was not accepted (shown beside the choice)."""

    def __init__(self, choice: StartChoice, *, refusal: str = "") -> None:
        super().__init__(refusal or choice.legend)
        self.choice, self.refusal = choice, refusal


@dataclass(frozen=True)
class ContextLine:
    """One line naming what the application is for, e.g. "Wahl: Europawahl am 9. Juni 2029"."""

    label: str
    text: str


@runtime_checkable
class ContextRules(Protocol):
    """Rules of a service whose applications carry a choice in ``Application.context``."""

    def question(self, *, municipality: Municipality) -> StartChoice | None:
        """The start question for ``municipality`` as :meth:`choose` would ask it (None: nothing
        to choose), without starting anything: the start page shows it again on a GET (after a
        language switch)."""

    def choose(self, *, application: Application, value: str | None) -> None:
        """Keep the citizen's choice in the new draft's context. ``value`` None: not asked yet;
        raises :class:`ChoiceRequired` when there is something to choose."""

    def describe(self, *, context: Mapping[str, Any]) -> list[ContextLine]:
        """The lines naming the choice kept in ``context`` (none if there is none)."""

    def case_particulars(self, *, context: Mapping[str, Any]) -> dict[str, Any]:
        """What the case's particulars get beside the answers (for the notice templates)."""
