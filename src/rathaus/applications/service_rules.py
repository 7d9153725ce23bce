"""Rules of individual services that a form schema cannot express (Python hooks, DESIGN.md).

A service's rules run when a draft starts and again just before submission, inside the
submission's transaction; they raise ``ApplicationError`` with a message for the citizen.
"""

from __future__ import annotations

import time
from typing import Protocol

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from rathaus.applications.errors import ApplicationError
from rathaus.applications.models import Application
from rathaus.core import counters
from rathaus.registers.models import Election, open_elections
from rathaus.registers.selectors import check_landlord_confirmation


class ServiceRules(Protocol):
    def on_start(self, *, application: Application) -> None: ...

    def before_submit(self, *, application: Application) -> None: ...


class PostalVoteRules:
    """Wahlschein und Briefwahl: only for an open election, before its deadline (§ 27 BWahlO),
    and once per voter and election: a lost polling card is replaced only at the electoral
    office, on the voter's declaration (§ 28 Abs. 10 BWahlO)."""

    def on_start(self, *, application: Application) -> None:
        elections = open_elections(application.municipality)
        if not elections:
            raise ApplicationError(
                _("No election is currently open for postal vote applications in %(place)s.")
                % {"place": application.municipality.name}
            )
        application.context["election_id"] = elections[0].pk
        self._not_applied_before(application, elections[0])

    @staticmethod
    def _not_applied_before(application: Application, election: Election) -> None:
        earlier = (
            Application.objects.filter(
                applicant_id=application.applicant_id,
                service_id=application.service_id,
                status__in=(Application.Status.SUBMITTED, Application.Status.AWAITING_PAYMENT),
                context__election_id=election.pk,
            )
            .exclude(pk=application.pk)
            .values_list("reference", "submitted_at")
            .first()
        )
        if earlier is None:
            return
        reference, submitted_at = earlier
        raise ApplicationError(
            _(
                "You have already applied for a polling card for the %(election)s "
                "(reference %(reference)s, %(date)s). If it has not arrived or was lost, "
                "please contact the electoral office."
            )
            % {
                "election": election.name,
                "reference": reference,
                "date": formats.date_format(timezone.localtime(submitted_at), "DATE_FORMAT")
                if submitted_at
                else "",
            }
        )

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
        self._not_applied_before(application, election)


#: Failed landlord-code checks one account may have per window: the codes are public in the
#: GovChain log, so guessing the details that fit one must stay slow.
LANDLORD_CODE_FAILURES = (5, 3600)


def _failure_key(application: Application) -> str:
    window = int(time.time() // LANDLORD_CODE_FAILURES[1])
    return f"rathaus:landlord-code-failures:{application.applicant_id}:{window}"


class ResidenceRegistrationRules:
    """Wohnsitz anmelden: a landlord confirmation given by code (§ 19 BMG) must exist, not be
    withdrawn, and confirm the same address, move-in date and persons. An account whose checks
    failed :data:`LANDLORD_CODE_FAILURES` times in the window is stopped until the next one."""

    def on_start(self, *, application: Application) -> None:
        return None

    def before_submit(self, *, application: Application) -> None:
        answers = application.answers
        if answers.get("landlord_way") != "code":
            return
        allowed, seconds = LANDLORD_CODE_FAILURES
        key = _failure_key(application)
        if counters.hits(key) >= allowed:
            raise ApplicationError(
                _(
                    "The landlord code could not be matched too often. Please try again in an "
                    "hour, or choose another way to prove your move-in (upload the confirmation "
                    "or name your landlord)."
                )
            )
        check = check_landlord_confirmation(
            code=str(answers.get("landlord_code", "")),
            address=answers.get("new_address") or {},
            move_in_date=str(answers.get("move_in_date", "")),
            persons=answers.get("persons") or [],
        )
        if not check.ok:
            counters.hit(key, timeout=seconds + 5)
            raise ApplicationError(
                _("The landlord confirmation with the code you entered does not fit: %(problems)s")
                % {"problems": " ".join(check.problems)}
            )


RULES: dict[str, ServiceRules] = {
    "briefwahl": PostalVoteRules(),
    "wohnsitz-anmelden": ResidenceRegistrationRules(),
}


def rules_for(slug: str) -> ServiceRules | None:
    return RULES.get(slug)
