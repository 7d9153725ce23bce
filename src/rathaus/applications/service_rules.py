"""Rules of individual services that a form schema cannot express (Python hooks, DESIGN.md).

A service's rules run when a draft starts and again just before submission, inside the
submission's transaction; they raise ``ApplicationError`` with a message for the citizen.
"""

from __future__ import annotations

import datetime
import hashlib
import time
import unicodedata
from collections.abc import Mapping
from typing import Any, Protocol

from django.utils import formats, timezone
from django.utils.text import get_text_list
from django.utils.translation import gettext as _

from rathaus.accounts.selectors import verified_identity
from rathaus.applications.errors import ApplicationError, AuditedRefusal
from rathaus.applications.models import Application
from rathaus.applications.service_context import (
    ChoiceOption,
    ChoiceRequired,
    ContextLine,
    StartChoice,
)
from rathaus.catalog.models import Responsibility
from rathaus.core import counters
from rathaus.core.models import Municipality
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

    A voter applies per election: with several elections open at once (Europawahl and
    Kommunalwahl on one day) the citizen chooses one on the start page; with only one open, it
    is that one. The election is never changed afterwards: refused for it, the citizen is told
    which other open election they can still apply for with a new application."""

    def on_start(self, *, application: Application) -> None:
        elections = open_elections(application.municipality)
        if not elections:
            raise ApplicationError(
                _("No election is currently open for postal vote applications in %(place)s.")
                % {"place": application.municipality.name}
            )
        if len(elections) == 1:
            _keep_election(application, elections[0])

    def question(self, *, municipality: Municipality) -> StartChoice | None:
        """Which election, if several are open in ``municipality``; reads only."""
        elections = open_elections(municipality)
        return _election_choice(municipality, elections) if len(elections) > 1 else None

    def choose(self, *, application: Application, value: str | None) -> None:
        elections = open_elections(application.municipality)
        if value is None and len(elections) <= 1:
            return  # the only one, kept by on_start
        choice = _election_choice(application.municipality, elections)
        if value is None:
            raise ChoiceRequired(choice)
        chosen = next((e for e in elections if str(e.pk) == value), None)
        if chosen is not None:
            _keep_election(application, chosen)
            return
        raise ChoiceRequired(choice, refusal=_not_offered(application.municipality, value))

    def describe(self, *, context: Mapping[str, Any]) -> list[ContextLine]:
        kept = _kept_election(context)
        if kept is None:
            return []
        name, day = kept
        return [ContextLine(label=_("Election"), text=_election_text(name, day))]

    def case_particulars(self, *, context: Mapping[str, Any]) -> dict[str, Any]:
        kept = _kept_election(context)
        if kept is None:
            return {}
        name, day = kept
        return {"election": {"name": name, "election_day": day.isoformat()}}

    def before_submit(self, *, application: Application) -> None:
        now = timezone.now()
        context = application.context if isinstance(application.context, dict) else {}
        election_id = context.get("election_id")
        election = (
            Election.objects.filter(pk=election_id, municipality=application.municipality).first()
            if isinstance(election_id, int)
            else None
        )
        if election is None:
            raise ApplicationError(
                _(
                    "This application is not for an election held in %(place)s. Please start "
                    "a new application and choose the election."
                )
                % {"place": application.municipality.name}
            )
        voter, birth_date = _voter_key(application.answers)
        if counters.hits(_polling_card_key(application)) >= POLLING_CARD_REFUSALS[0]:
            raise ApplicationError(
                _(
                    "Too many of your postal vote applications were refused. Please try again "
                    "in an hour, or contact the electoral office."
                )
            )
        if not election.accepts_postal_vote_applications(now):
            raise _with_hint(
                ApplicationError(_deadline_passed(election)),
                application,
                election,
                voter,
                birth_date,
            )
        _keep_election(application, election)  # as it is named when the application is sent
        refusal = _register(application, election, voter, birth_date)
        if refusal is not None:
            raise _with_hint(refusal, application, election, voter, birth_date)


#: Refusals because another account applied for the voter that one account may have per window:
#: each tells that the person typed in applied for a polling card, so trying names stays slow.
POLLING_CARD_REFUSALS = (5, 3600)


def _polling_card_key(application: Application) -> str:
    window = int(time.time() // POLLING_CARD_REFUSALS[1])
    return f"rathaus:polling-card-refusals:{application.applicant_id}:{window}"


def _with_hint(
    refusal: ApplicationError,
    application: Application,
    election: Election,
    voter: str,
    birth_date: datetime.date | None,
) -> ApplicationError:
    """``refusal``, naming the other elections open now that the voter is old enough for and
    has not applied for yet (a new application can still be made for them)."""
    still_open = [
        other
        for other in open_elections(application.municipality, timezone.now())
        if other.pk != election.pk
        and (birth_date is None or other.voter_is_old_enough(birth_date))
        and not _holds_polling_card(other, voter, application.applicant_id)
    ]
    if not still_open:
        return refusal
    hint = _(
        "You can still apply for a polling card for: %(elections)s. To do so, please start "
        "a new application."
    ) % {
        "elections": get_text_list(
            [_election_text(e.name, e.election_day) for e in still_open], _("and")
        )
    }
    if isinstance(refusal, AuditedRefusal):
        return AuditedRefusal(f"{refusal} {hint}", action=refusal.action, details=refusal.details)
    return ApplicationError(f"{refusal} {hint}")


def _not_offered(municipality: Municipality, value: str) -> str:
    """Why ``value`` is not one of the elections offered: its deadline has passed or its
    applications have not opened yet, if it is exactly the id of such an election of
    ``municipality``; otherwise only that one of those listed must be chosen."""
    if not value:
        return _("Please choose the election you are applying for.")
    # the id exactly as the options send it: "042" or "٤٢" names no election
    canonical = value.isascii() and value.isdigit() and len(value) <= 18 and value[0] != "0"
    election = (
        Election.objects.filter(pk=int(value), municipality=municipality).first()
        if canonical
        else None
    )
    now = timezone.now()
    if election is not None and now > election.postal_vote_deadline:
        return _deadline_passed(election)
    if election is not None and election.postal_vote_from and now < election.postal_vote_from:
        return _(
            "Postal vote applications for the %(election)s can be made from %(start)s. "
            "Please choose one of the elections listed."
        ) % {
            "election": _election_text(election.name, election.election_day),
            "start": formats.date_format(
                timezone.localtime(election.postal_vote_from), "DATETIME_FORMAT"
            ),
        }
    return _("Please choose one of the elections listed.")


def _election_text(name: str, day: datetime.date) -> str:
    return _("%(election)s on %(day)s") % {
        "election": name,
        "day": formats.date_format(day, "DATE_FORMAT"),
    }


def _deadline_passed(election: Election) -> str:
    return _(
        "The deadline for postal vote applications (%(deadline)s) has passed. "
        "You can still vote in person at your polling station."
    ) % {
        "deadline": formats.date_format(
            timezone.localtime(election.postal_vote_deadline), "DATETIME_FORMAT"
        )
    }


def _election_choice(municipality: Municipality, elections: list[Election]) -> StartChoice:
    return StartChoice(
        legend=_("For which election are you applying for a polling card?"),
        hint=_(
            "Several elections are open in %(place)s. Each application is for one election; "
            "for another one, please send a further application."
        )
        % {"place": municipality.name},
        options=tuple(
            ChoiceOption(
                value=str(election.pk),
                label=_("%(election)s (applications until %(deadline)s)")
                % {
                    "election": _election_text(election.name, election.election_day),
                    "deadline": formats.date_format(
                        timezone.localtime(election.postal_vote_deadline), "DATETIME_FORMAT"
                    ),
                },
            )
            for election in elections
        ),
    )


def _keep_election(application: Application, election: Election) -> None:
    """The election in the application's context, with its name and day as the citizen saw
    them (the pages and the receipt name it without reading the register again)."""
    application.context = {
        **(application.context if isinstance(application.context, dict) else {}),
        "election_id": election.pk,
        "election": {"name": election.name, "election_day": election.election_day.isoformat()},
    }


def _kept_election(context: Mapping[str, Any]) -> tuple[str, datetime.date] | None:
    """Name and day of the election in ``context``; read from the register for applications
    that kept only its id (started before the name was kept)."""
    kept = context.get("election")
    if isinstance(kept, dict) and kept.get("name"):
        try:
            return str(kept["name"]), datetime.date.fromisoformat(str(kept.get("election_day")))
        except ValueError:
            pass
    election_id = context.get("election_id")
    if not isinstance(election_id, int):
        return None
    row = Election.objects.filter(pk=election_id).values_list("name", "election_day").first()
    return (row[0], row[1]) if row else None


def _holds_polling_card(election: Election, voter: str, applicant_id: int) -> bool:
    """True if ``voter`` has an application for ``election``'s vote sent from the account
    ``applicant_id`` (read only). Another account's is not told: it would tell whoever types
    a voter's name and birth date whether that person votes by post."""
    holder = (
        PollingCardApplication.objects.filter(scope=election.polling_card_scope, voter=voter)
        .values_list("application_id", flat=True)
        .first()
    )
    return (
        holder is not None
        and Application.objects.filter(
            pk=holder,
            applicant_id=applicant_id,
            status__in=(Application.Status.SUBMITTED, Application.Status.AWAITING_PAYMENT),
        ).exists()
    )


def _without_format_characters(text: str) -> str:
    """``text`` without invisible format characters (category Cf): a name may hold a zero width
    (non-)joiner between letters (Persian, Kurdish, Indic names; ``core.unicode_text``), and
    it is the same name typed with or without one."""
    return "".join(char for char in text if unicodedata.category(char) != "Cf")


def _normalised(text: object) -> str:
    """Names as the electoral roll compares them: case, accents' composition, spacing, hyphen
    spacing and zero width (non-)joiners do not matter."""
    folded = _without_format_characters(unicodedata.normalize("NFKC", str(text or ""))).casefold()
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
) -> ApplicationError | None:
    """Enter the application in the Wahlscheinverzeichnis's index for ``election``; a refusal
    if the voter is too young for it or holds a polling card for the vote already. One indexed
    lookup (unique on scope and voter), an insert when new; a row of a withdrawn or refused
    application is taken over."""
    if birth_date is not None and not election.voter_is_old_enough(birth_date):
        return ApplicationError(
            _(
                "For the %(election)s on %(day)s you must be at least %(age)d years old on "
                "election day. Please check the date of birth."
            )
            % {
                "election": election.name,
                "day": formats.date_format(election.election_day, "DATE_FORMAT"),
                "age": election.minimum_age,
            }
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
        .values_list("reference", "submitted_at", "applicant_id")
        .first()
    )
    if earlier is None:
        entry.election, entry.application_id = election, application.pk
        entry.save(update_fields=["election", "application_id"])
        return None
    reference, submitted_at, applicant_id = earlier
    if applicant_id != application.applicant_id:
        # Sent from another account (the voter's own, or someone they authorised): its
        # reference and day are theirs, and each such refusal is audited and counted.
        failures = counters.hit(_polling_card_key(application), timeout=POLLING_CARD_REFUSALS[1])
        return AuditedRefusal(
            _(
                "A polling card for the %(election)s cannot be applied for online for this "
                "voter. Please contact the electoral office."
            )
            % {"election": election.name},
            action="applications.polling_card_refused",
            details={"election": election.pk, "refusals_in_window": failures},
        )
    return ApplicationError(
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
        code = str(answers.get("landlord_code", ""))
        check = check_landlord_confirmation(
            code=code,
            address=answers.get("new_address") or {},
            move_in_date=str(answers.get("move_in_date", "")),
            persons=answers.get("persons") or [],
            authority=responsibility.authority if responsibility else None,
        )
        if not check.ok:
            failures = counters.hit(key, timeout=seconds + 5)
            raise AuditedRefusal(
                _("The landlord confirmation with the code you entered does not fit: %(problems)s")
                % {"problems": " ".join(check.problems)},
                action="applications.landlord_code_refused",
                details={"code": code[:64], "failures_in_window": failures},
            )


def _same_text(a: Any, b: Any) -> bool:
    """Equal up to case, spacing, Unicode composition (NFC) and zero width (non-)joiners:
    "Müller" typed with a combining diaeresis is the "Müller" of the ID card."""

    def plain(value: Any) -> str:
        text = _without_format_characters(unicodedata.normalize("NFC", str(value or "")))
        return " ".join(text.casefold().split())

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
