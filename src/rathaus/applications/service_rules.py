"""Rules of individual services that a form schema cannot express (Python hooks, DESIGN.md).

A service's rules run when a draft starts and again just before submission, inside the
submission's transaction; they raise ``ApplicationError`` with a message for the citizen.
"""

from __future__ import annotations

from typing import Protocol

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from rathaus.applications.errors import ApplicationError
from rathaus.applications.models import Application
from rathaus.registers.models import Election, open_elections


class ServiceRules(Protocol):
    def on_start(self, *, application: Application) -> None: ...

    def before_submit(self, *, application: Application) -> None: ...


class PostalVoteRules:
    """Wahlschein und Briefwahl: only for an open election, before its deadline (§ 27 BWahlO)."""

    def on_start(self, *, application: Application) -> None:
        elections = open_elections(application.municipality)
        if not elections:
            raise ApplicationError(
                _("No election is currently open for postal vote applications in %(place)s.")
                % {"place": application.municipality.name}
            )
        application.context["election_id"] = elections[0].pk

    def before_submit(self, *, application: Application) -> None:
        election = Election.objects.filter(pk=application.context.get("election_id")).first()
        if election is None or not election.accepts_postal_vote_applications(timezone.now()):
            deadline = (
                formats.date_format(
                    timezone.localtime(election.postal_vote_deadline), "DATETIME_FORMAT"
                )
                if election
                else ""
            )
            raise ApplicationError(
                _(
                    "The deadline for postal vote applications (%(deadline)s) has passed. "
                    "You can still vote in person at your polling station."
                )
                % {"deadline": deadline}
            )


RULES: dict[str, ServiceRules] = {"briefwahl": PostalVoteRules()}


def rules_for(slug: str) -> ServiceRules | None:
    return RULES.get(slug)
