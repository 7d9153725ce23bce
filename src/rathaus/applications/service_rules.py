"""Rules of individual services that a form schema cannot express (Python hooks, DESIGN.md).

A service's rules run when a draft starts and again just before submission, inside the
submission's transaction; they raise ``ApplicationError`` with a message for the citizen.
"""

from __future__ import annotations

import datetime
import hashlib
import time
import unicodedata
from typing import Any, Protocol

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from rathaus.accounts.selectors import verified_identity
from rathaus.applications.errors import ApplicationError
from rathaus.applications.models import Application
from rathaus.catalog.models import Responsibility
from rathaus.core import counters
from rathaus.registers.models import Election, PollingCardApplication, open_elections
from rathaus.registers.selectors import check_landlord_confirmation


class ServiceRules(Protocol):
    def on_start(self, *, application: Application) -> None: ...

    def before_submit(self, *, application: Application) -> None: ...


class PostalVoteRules:
    """Wahlschein und Briefwahl: only for an open election, before its deadline (§ 27 BWahlO),
    for a voter of the election's age on its day, and once per voter and vote, whichever account
    or municipality applies: a lost polling card is replaced only at the electoral office, on the
    voter's declaration (§ 28 Abs. 10 BWahlO). Anyone may apply for another voter with a written
    authorisation (§ 27 Abs. 3 BWahlO), uploaded with the form.

    With several elections open at once (Europawahl and Kommunalwahl on one day) each application
    is for one of them: the first open one the voter has not applied for yet and is old enough
    for, decided at submission, when the voter is known."""

    def on_start(self, *, application: Application) -> None:
        elections = open_elections(application.municipality)
        if not elections:
            raise ApplicationError(
                _("No election is currently open for postal vote applications in %(place)s.")
                % {"place": application.municipality.name}
            )
        application.context["election_id"] = elections[0].pk

    def before_submit(self, *, application: Application) -> None:
        now = timezone.now()
        election = Election.objects.filter(pk=application.context.get("election_id")).first()
        if election is None or not election.accepts_postal_vote_applications(now):
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
        voter, birth_date = _voter_key(application.answers)
        refusal = _register(application, election, voter, birth_date)
        if refusal is None:
            return
        # this election is taken or the voter too young for it: another one open today?
        others = [e for e in open_elections(application.municipality, now) if e.pk != election.pk]
        refusals = [refusal]
        for other in others:
            refusal = _register(application, other, voter, birth_date)
            if refusal is None:
                application.context["election_id"] = other.pk
                return
            refusals.append(refusal)
        raise next((r for r in refusals if r.kind == "duplicate"), refusals[0]).error


class _Refusal:
    def __init__(self, kind: str, error: ApplicationError) -> None:
        self.kind, self.error = kind, error


def _normalised(text: object) -> str:
    """Names as the electoral roll compares them: case, accents' composition, spacing and
    hyphen spacing do not matter."""
    folded = unicodedata.normalize("NFKC", str(text or "")).casefold()
    return " ".join(folded.replace("\u2010", "-").replace(" - ", "-").split())


def _voter_key(answers: dict[str, Any]) -> tuple[str, datetime.date | None]:
    """SHA-256 of the voter's normalised family name, given names and birth date."""
    name = answers.get("name") or {}
    birth = str(answers.get("birth_date") or "")
    try:
        birth_date: datetime.date | None = datetime.date.fromisoformat(birth)
    except ValueError:
        birth_date = None
    plain = "|".join(
        (_normalised(name.get("family_name")), _normalised(name.get("given_names")), birth)
    )
    return hashlib.sha256(plain.encode()).hexdigest(), birth_date


def _register(
    application: Application, election: Election, voter: str, birth_date: datetime.date | None
) -> _Refusal | None:
    """Enter the application in the Wahlscheinverzeichnis's index for ``election``; a refusal
    if the voter is too young for it or holds a polling card for the vote already. One indexed
    lookup (unique on scope and voter), an insert when new; a row of a withdrawn or refused
    application is taken over."""
    if birth_date is not None and not election.voter_is_old_enough(birth_date):
        return _Refusal(
            "age",
            ApplicationError(
                _(
                    "For the %(election)s on %(day)s you must be at least %(age)d years old on "
                    "election day. Please check the date of birth."
                )
                % {
                    "election": election.name,
                    "day": formats.date_format(election.election_day, "DATE_FORMAT"),
                    "age": election.minimum_age,
                }
            ),
        )
    entry, created = PollingCardApplication.objects.select_for_update().get_or_create(
        scope=election.polling_card_scope,
        voter=voter,
        defaults={"election": election, "application_id": application.pk},
    )
    if created or entry.application_id == application.pk:
        return None
    earlier = (
        Application.objects.filter(
            pk=entry.application_id,
            status__in=(Application.Status.SUBMITTED, Application.Status.AWAITING_PAYMENT),
        )
        .values_list("reference", "submitted_at")
        .first()
    )
    if earlier is None:
        entry.election, entry.application_id = election, application.pk
        entry.save(update_fields=["election", "application_id"])
        return None
    reference, submitted_at = earlier
    return _Refusal(
        "duplicate",
        ApplicationError(
            _(
                "A polling card for the %(election)s has already been applied for for this "
                "voter (reference %(reference)s, %(date)s). If it has not arrived or was lost, "
                "please contact the electoral office."
            )
            % {
                "election": election.name,
                "reference": reference,
                "date": formats.date_format(timezone.localtime(submitted_at), "DATE_FORMAT")
                if submitted_at
                else "",
            }
        ),
    )


#: Failed landlord-code checks one account may have per window: the codes are public in the
#: GovChain log, so guessing the details that fit one must stay slow.
LANDLORD_CODE_FAILURES = (5, 3600)


def _failure_key(application: Application) -> str:
    window = int(time.time() // LANDLORD_CODE_FAILURES[1])
    return f"rathaus:landlord-code-failures:{application.applicant_id}:{window}"


class ResidenceRegistrationRules:
    """Wohnsitz anmelden: the new home is not the only one when the previous one is kept
    (§ 21 BMG). A landlord confirmation given by code (§ 19 BMG) must exist, not be withdrawn,
    have been given to the responsible registration office (§ 19 Abs. 4 BMG), and confirm the
    same address, move-in date and persons. An account whose checks
    failed :data:`LANDLORD_CODE_FAILURES` times in the window is stopped until the next one."""

    def on_start(self, *, application: Application) -> None:
        return None

    def before_submit(self, *, application: Application) -> None:
        answers = application.answers
        if answers.get("residence_kind") == "main" and answers.get("previous_kept") is True:
            # § 21 BMG: whoever keeps another home has more than one; the new one is then the
            # main or a secondary home, never the only one.
            raise ApplicationError(
                _(
                    "You said the new home is your only home, but also that you keep your "
                    'previous home. Please correct this in the step "Your new home" (main '
                    'home with other homes, or secondary home) or in the step "Previous home".'
                )
            )
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
        responsibility = (
            Responsibility.objects.select_related("authority__municipality")
            .filter(service_id=application.service_id, municipality_id=application.municipality_id)
            .first()
        )
        check = check_landlord_confirmation(
            code=str(answers.get("landlord_code", "")),
            address=answers.get("new_address") or {},
            move_in_date=str(answers.get("move_in_date", "")),
            persons=answers.get("persons") or [],
            authority=responsibility.authority if responsibility else None,
        )
        if not check.ok:
            counters.hit(key, timeout=seconds + 5)
            raise ApplicationError(
                _("The landlord confirmation with the code you entered does not fit: %(problems)s")
                % {"problems": " ".join(check.problems)}
            )


def _same_text(a: Any, b: Any) -> bool:
    """Equal up to case, spacing and Unicode composition (NFC): "Müller" typed with a combining
    diaeresis is the "Müller" of the ID card."""

    def plain(value: Any) -> str:
        return " ".join(unicodedata.normalize("NFC", str(value or "")).casefold().split())

    return plain(a) == plain(b)


class ResidenceCertificateRules:
    """Meldebescheinigung: issued only about the applicant (§ 18 Abs. 1 BMG). The name and
    date of birth of the form must be those the online ID (eID) confirmed for the account;
    the address is compared with the population register by the clerk."""

    def on_start(self, *, application: Application) -> None:
        return None

    def before_submit(self, *, application: Application) -> None:
        profile = verified_identity(application.applicant)
        if profile is None:
            raise ApplicationError(
                _(
                    "A certificate of registration is issued only about yourself. Your name and "
                    "date of birth could not be confirmed with your online ID, because they are "
                    "missing or were changed in your profile afterwards. Please log in again with "
                    "your online ID (eID) and send the application then."
                )
            )
        answers = application.answers
        name = answers.get("name") if isinstance(answers.get("name"), dict) else {}
        born = str(answers.get("birth_date") or "")
        same = (
            _same_text(name.get("family_name"), profile.family_name)
            and _same_text(name.get("given_names"), profile.given_names)
            and (profile.birth_date is None or born == profile.birth_date.isoformat())
        )
        if not same:
            raise ApplicationError(
                _(
                    "A certificate of registration is issued only about yourself (section 18 "
                    'BMG). Name and date of birth in the step "About you" must be those of '
                    "your online ID: %(name)s, born on %(birth_date)s. Please correct them."
                )
                % {
                    "name": profile.full_name,
                    "birth_date": formats.date_format(profile.birth_date, "DATE_FORMAT")
                    if isinstance(profile.birth_date, datetime.date)
                    else "—",
                }
            )


RULES: dict[str, ServiceRules] = {
    "briefwahl": PostalVoteRules(),
    "wohnsitz-anmelden": ResidenceRegistrationRules(),
    "meldebescheinigung": ResidenceCertificateRules(),
}


def rules_for(slug: str) -> ServiceRules | None:
    return RULES.get(slug)
