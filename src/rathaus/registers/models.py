"""Specialist registers that services read or change: elections and their deadlines, and the
landlord confirmations (Wohnungsgeberbestätigungen) landlords give online."""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from rathaus.core.models import Authority, Municipality

BERLIN = ZoneInfo("Europe/Berlin")

#: Postal voting exists since the Bundestag election of 1957 (§ 36 BWahlG 1956): no earlier
#: election day is a typing error's. No election is set more than ten years ahead.
EARLIEST_ELECTION_DAY = datetime.date(1957, 1, 1)
ELECTION_YEARS_AHEAD = 10
#: Applications are accepted in the year before the election at most: from midnight (Berlin)
#: this long before the election day, or later if ``Election.postal_vote_from`` says so.
POSTAL_VOTE_WINDOW = datetime.timedelta(days=366)
#: Voting age: 18 (Art. 38 Abs. 2 GG, § 7 LWahlG NRW); 16 for local elections in NRW (§ 7 KWahlG)
#: and the European election (§ 6 EuWG since 2024). No German election has another.
DEFAULT_MINIMUM_AGE = 18
MINIMUM_AGES = (16, 18)


def default_postal_vote_deadline(election_day: datetime.date) -> datetime.datetime:
    """§ 27 Abs. 4 Satz 1 BWahlO: applications until 18:00 on the second day before the
    election."""
    day = election_day - datetime.timedelta(days=2)
    return datetime.datetime.combine(day, datetime.time(18, 0), tzinfo=BERLIN)


def latest_postal_vote_deadline(election_day: datetime.date) -> datetime.datetime:
    """§ 27 Abs. 4 Satz 2 BWahlO: in case of sudden illness until 15:00 on the election day."""
    return datetime.datetime.combine(election_day, datetime.time(15, 0), tzinfo=BERLIN)


def earliest_postal_vote_opening(election_day: datetime.date) -> datetime.datetime:
    """Midnight (Berlin) :data:`POSTAL_VOTE_WINDOW` before ``election_day``: no application is
    accepted, and no ``postal_vote_from`` may lie, before it. ``OverflowError`` for a day of
    year 1 (``Election.clean`` refuses such a day)."""
    return datetime.datetime.combine(
        election_day - POSTAL_VOTE_WINDOW, datetime.time.min, tzinfo=BERLIN
    )


@lru_cache(maxsize=64)
def _public_holidays(state: str | None, year: int) -> frozenset[datetime.date]:
    return frozenset(holidays.country_holidays("DE", subdiv=state, years=year))


def is_election_day(day: datetime.date, state: str | None) -> bool:
    """§ 16 Satz 2 BWahlG: "Der Wahltag muss ein Sonntag oder gesetzlicher Feiertag sein"; the
    Länder's election laws say the same for theirs. The public holidays are those of the Land
    ``state`` (``Municipality.state``), the national ones when no Land is known."""
    if day.weekday() == 6:
        return True
    if state not in Municipality.State.values:
        state = None
    return day in _public_holidays(state, day.year)


def latest_election_day() -> datetime.date:
    """The last day an election can be set for today: the end of the tenth year ahead."""
    return datetime.date(timezone.localdate().year + ELECTION_YEARS_AHEAD, 12, 31)


def moved_day_message(deadline: datetime.datetime | None, default: datetime.datetime | None) -> str:
    """Why a deadline set by hand does not move with the election day (admin and model)."""

    def moment(value: datetime.datetime | None) -> str:
        if value is None:
            return "-"
        return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")

    return gettext(
        "The election day was moved, but this deadline (%(deadline)s) was set by hand. "
        "Please enter the deadline for the new election day as well; the usual one is "
        "%(default)s (§ 27 Abs. 4 BWahlO)."
    ) % {"deadline": moment(deadline), "default": moment(default)}


def default_deadline_or_none(day: datetime.date | None) -> datetime.datetime | None:
    """The usual deadline for ``day``; None for no day or one too early to compute it (the
    election's ``clean`` refuses such a day with its own message)."""
    try:
        return default_postal_vote_deadline(day) if day is not None else None
    except OverflowError:  # the first days of year 1: clean() refuses the day
        return None


class ElectionQuerySet(models.QuerySet["Election"]):
    """Moving an election day in bulk keeps each deadline in step, as :meth:`Election.save`
    does: an ``update`` or ``bulk_update`` of ``election_day`` goes through the same rule, row
    by row, in one transaction (a refused row leaves every row as it was)."""

    def update(self, **kwargs: Any) -> int:
        if "election_day" not in kwargs:
            return super().update(**kwargs)
        given = "postal_vote_deadline" in kwargs
        with transaction.atomic(using=self.db):
            stored = {
                pk: (day, deadline)
                for pk, day, deadline in self.select_for_update().values_list(
                    "pk", "election_day", "postal_vote_deadline"
                )
            }
            count = super().update(**kwargs)
            moved = Election.objects.using(self.db).filter(pk__in=list(stored)).order_by("pk")
            for election in moved:
                election._stored = stored[election.pk]
                election.save(update_fields=["postal_vote_deadline"], deadline_given=given)
        return count

    def bulk_update(
        self, objs: Iterable[Election], fields: Iterable[str], batch_size: int | None = None
    ) -> int:
        fields = list(fields)
        objs = list(objs)
        if "election_day" in fields:
            given = "postal_vote_deadline" in fields
            for election in objs:
                election.keep_deadline_in_step(deadline_given=given)
                election.check_deadlines()
            if not given:
                fields.append("postal_vote_deadline")
        count = super().bulk_update(objs, fields, batch_size=batch_size)
        for election in objs:
            election._stored = (election.election_day, election.postal_vote_deadline)
        return count


class Election(models.Model):
    """An election in a municipality for which postal votes can be applied for.

    The application deadline stays in step with the election day on every path that saves it
    (the admin, a shell, a loader, a command, ``QuerySet.update``/``bulk_update``; not a data
    migration, whose historical model has neither): when the day moves, a deadline that was
    the old day's default (§ 27 Abs. 4 Satz 1 BWahlO) moves to the new day's, a deadline set by
    hand is refused unless it is changed in the same save, and a deadline outside the year
    before the election or after 15:00 on the election day is refused
    (:meth:`keep_deadline_in_step`, :meth:`check_deadlines`)."""

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="elections",
        verbose_name=_("municipality"),
    )
    name = models.CharField(_("name"), max_length=200, help_text=_("e.g. Bundestagswahl 2029"))
    election_day = models.DateField(_("election day"))
    postal_vote_from = models.DateTimeField(_("applications accepted from"), null=True, blank=True)
    postal_vote_deadline = models.DateTimeField(
        _("application deadline"),
        blank=True,
        help_text=_("Default: 18:00 on the second day before the election (§ 27 Abs. 4 BWahlO)."),
    )
    vote_key = models.SlugField(
        _("nationwide vote"),
        max_length=60,
        blank=True,
        help_text=_(
            "The same key for every municipality's row of one federal, European or state vote "
            "(e.g. btw-2029): a voter gets one polling card for it wherever they apply "
            "(§ 28 Abs. 10 BWahlO). Empty for a purely local vote."
        ),
    )
    minimum_age = models.PositiveSmallIntegerField(
        _("minimum age"),
        default=DEFAULT_MINIMUM_AGE,
        choices=[(age, str(age)) for age in MINIMUM_AGES],
        help_text=_(
            "Age a voter must have reached on the election day: 18, or 16 for local elections "
            "in NRW and the European election."
        ),
    )

    objects = ElectionQuerySet.as_manager()

    #: The election day and deadline as last read from or written to the database (None for
    #: an election not saved yet): what :meth:`keep_deadline_in_step` compares with.
    _stored: tuple[datetime.date | None, datetime.datetime | None] | None = None

    class Meta:
        verbose_name = _("election")
        verbose_name_plural = _("elections")
        ordering = ["election_day", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "name", "election_day"], name="election_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.election_day:%d.%m.%Y})"

    def save(self, *args: Any, deadline_given: bool = False, **kwargs: Any) -> None:
        self.keep_deadline_in_step(deadline_given=deadline_given)
        self.check_deadlines()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "election_day" in update_fields:
            kwargs["update_fields"] = {*update_fields, "postal_vote_deadline"}
        super().save(*args, **kwargs)
        self._stored = (self.election_day, self.postal_vote_deadline)

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any) -> Election:
        election = super().from_db(db, field_names, values)
        election._stored = (
            election.__dict__.get("election_day"),
            election.__dict__.get("postal_vote_deadline"),
        )
        return election

    def keep_deadline_in_step(self, *, deadline_given: bool = False) -> datetime.datetime | None:
        """Move the deadline with a moved election day; returns the new deadline if it moved.

        A missing deadline is the day's default. When the day differs from the stored one and
        the deadline does not (and was not ``deadline_given`` explicitly): a deadline that was
        the old day's default becomes the new day's; one set by hand raises ``ValidationError``
        (it is not guessed at). A deadline changed together with the day is taken as given."""
        if self.postal_vote_deadline is None:
            self.postal_vote_deadline = default_postal_vote_deadline(self.election_day)
            return None
        if self._stored is None:
            return None
        old_day, old_deadline = self._stored
        if old_day is None or old_day == self.election_day:
            return None
        if deadline_given or self.postal_vote_deadline != old_deadline:
            return None
        new_default = default_deadline_or_none(self.election_day)
        if new_default is not None and old_deadline == default_deadline_or_none(old_day):
            self.postal_vote_deadline = new_default
            return new_default
        raise ValidationError(
            {"postal_vote_deadline": moved_day_message(old_deadline, new_default)}
        )

    def clean(self) -> None:
        """Refuse dates no election has (a typing error such as year 1 or 9999): every date
        computed from them, and the Briefwahl service that reads them, then stays in range."""
        day = self.election_day
        if day is None:
            return  # the field's own error is shown
        earliest, latest = EARLIEST_ELECTION_DAY, latest_election_day()
        if not earliest <= day <= latest:
            raise ValidationError(
                {
                    "election_day": _(
                        "Please enter an election day between %(earliest)s and %(latest)s."
                    )
                    % {
                        "earliest": formats.date_format(earliest, "SHORT_DATE_FORMAT"),
                        "latest": formats.date_format(latest, "SHORT_DATE_FORMAT"),
                    }
                }
            )
        state = self.municipality.state if self.municipality_id is not None else None
        if not is_election_day(day, state):
            raise ValidationError(
                {
                    "election_day": _(
                        "The election day must be a Sunday or a public holiday (§ 16 Satz 2 "
                        "BWahlG and the election laws of the Länder); %(day)s is a %(weekday)s."
                    )
                    % {
                        "day": formats.date_format(day, "SHORT_DATE_FORMAT"),
                        "weekday": formats.date_format(day, "l"),
                    }
                }
            )
        self.check_deadlines()

    def check_deadlines(self) -> None:
        """The law's window (§ 27 Abs. 4 BWahlO): the deadline lies in the year before the
        election and at 15:00 on the election day at the latest; applications open before it.
        Raises ``ValidationError``; run by :meth:`clean` and on every save."""
        day = self.election_day
        try:
            opens = earliest_postal_vote_opening(day)
        except OverflowError:  # a day of year 1: clean() refuses the day itself
            return
        latest_deadline = latest_postal_vote_deadline(day)
        deadline = self.postal_vote_deadline or default_postal_vote_deadline(day)
        if not opens <= deadline <= latest_deadline:
            raise ValidationError(
                {
                    "postal_vote_deadline": _(
                        "The deadline must lie in the year before the election and end on the "
                        "election day at the latest, %(latest)s (§ 27 Abs. 4 BWahlO)."
                    )
                    % {"latest": formats.date_format(latest_deadline, "SHORT_DATETIME_FORMAT")}
                }
            )
        if self.postal_vote_from is not None and not opens <= self.postal_vote_from < deadline:
            raise ValidationError(
                {
                    "postal_vote_from": _(
                        "Applications can be accepted from at most a year before the election "
                        "and must open before the deadline (%(deadline)s)."
                    )
                    % {
                        "deadline": formats.date_format(
                            timezone.localtime(deadline), "SHORT_DATETIME_FORMAT"
                        )
                    }
                }
            )

    def postal_vote_opens(self) -> datetime.datetime:
        """When applications are accepted from: ``postal_vote_from``, or when it is empty, the
        start of the year before the election (:func:`earliest_postal_vote_opening`), so an
        election set years ahead is not offered, nor takes a voter's polling card, before then."""
        if self.postal_vote_from is not None:
            return self.postal_vote_from
        try:
            return earliest_postal_vote_opening(self.election_day)
        except OverflowError:  # a day of year 1: clean() refuses the day
            return datetime.datetime.min.replace(tzinfo=datetime.UTC)

    def accepts_postal_vote_applications(self, at: datetime.datetime | None = None) -> bool:
        at = at or timezone.now()
        return self.postal_vote_opens() <= at <= self.postal_vote_deadline

    @property
    def polling_card_scope(self) -> str:
        """What "one polling card per voter" counts against: the nationwide vote, or this row."""
        return f"vote:{self.vote_key}" if self.vote_key else f"election:{self.pk}"

    def voter_is_old_enough(self, birth_date: datetime.date) -> bool:
        """True if a voter born on ``birth_date`` has completed :attr:`minimum_age` years of
        life on the election day (§ 12 Abs. 1 Nr. 1 BWahlG: "am Wahltage das achtzehnte
        Lebensjahr vollendet"). The birth day counts in full (§ 187 Abs. 2 Satz 2 BGB), so a
        year of life ends with the day before the birthday (§ 188 Abs. 2 BGB): a voter whose
        birthday is the day after the election may vote. Born on 29 February, the year ends
        with 28 February in every year (§ 188 Abs. 3 BGB)."""
        return completed_years_end(birth_date, self.minimum_age) <= self.election_day


def completed_years_end(birth_date: datetime.date, years: int) -> datetime.date:
    """The last day of the ``years``-th year of life of someone born on ``birth_date``
    (§§ 187 Abs. 2 Satz 2, 188 Abs. 2 and 3 BGB): the day before the birthday, where a birthday
    on 29 February falls on 1 March in a common year, so the year ends with 28 February.
    ``date.max`` when the birthday lies beyond the calendar (an absurd birth date)."""
    year = birth_date.year + years
    if year > datetime.MAXYEAR:
        return datetime.date.max
    try:
        birthday = birth_date.replace(year=year)
    except ValueError:  # 29 February in a common year
        birthday = datetime.date(year, 3, 1)
    return birthday - datetime.timedelta(days=1) if birthday > datetime.date.min else birthday


def open_elections(
    municipality: Municipality, at: datetime.datetime | None = None
) -> list[Election]:
    """The elections ``municipality`` accepts postal-vote applications for at ``at``
    (:meth:`Election.accepts_postal_vote_applications`): by day, then name, then id (the same
    order on every database)."""
    at = at or timezone.now()
    candidates = Election.objects.filter(
        municipality=municipality, postal_vote_deadline__gte=at
    ).order_by("election_day", "name", "pk")
    return [e for e in candidates if e.accepts_postal_vote_applications(at)]


class PollingCardApplication(models.Model):
    """The Wahlscheinverzeichnis's index of applications (§ 28 BWahlO): one row per voter and
    vote, naming the application that holds it. ``voter`` is a SHA-256 of the voter's normalised
    family name, given names and birth date, so the index holds no readable personal data;
    the unique constraint keeps two simultaneous submissions for one voter from both passing."""

    election = models.ForeignKey(
        Election, on_delete=models.PROTECT, related_name="+", verbose_name=_("election")
    )
    scope = models.CharField(_("vote"), max_length=80)
    voter = models.CharField(_("voter"), max_length=64)
    #: the ``applications.Application`` (a layer above registers, so no foreign key)
    application_id = models.BigIntegerField(_("application"))

    class Meta:
        verbose_name = _("polling card application")
        verbose_name_plural = _("polling card applications")
        constraints = [
            models.UniqueConstraint(fields=["scope", "voter"], name="polling_card_once_per_voter")
        ]

    def __str__(self) -> str:
        return f"{self.scope}: {self.voter[:12]}"


class LandlordConfirmation(models.Model):
    """A Wohnungsgeberbestätigung (§ 19 BMG) a landlord gave online with their own account.

    It holds what § 19 Abs. 3 BMG requires — the landlord's name and address (and the owner's
    name when the landlord is not the owner), the move-in date, the address of the home and the
    names of the persons moving in — and the PDF issued for it, whose SHA-256 is in the GovChain
    log under ``code``. The tenant gives the code in the Wohnsitzanmeldung.
    """

    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    code = models.CharField(_("verification code"), max_length=10, unique=True)
    authority = models.ForeignKey(
        Authority,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("registration office"),
    )
    landlord = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="landlord_confirmations",
        verbose_name=_("landlord's account"),
    )
    landlord_name = models.CharField(_("landlord"), max_length=200)
    landlord_address = models.CharField(_("landlord's address"), max_length=300)
    owner_name = models.CharField(
        _("owner"),
        max_length=200,
        blank=True,
        help_text=_("Only when the landlord is not the owner (§ 19 Abs. 3 Nr. 1 BMG)."),
    )
    street = models.CharField(_("street"), max_length=55)
    house_number = models.CharField(_("house number"), max_length=9, blank=True)
    address_supplement = models.CharField(_("address supplement"), max_length=40, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=5)
    place = models.CharField(_("place"), max_length=50)
    move_in_date = models.DateField(_("move-in date"))
    persons = models.JSONField(
        _("persons moving in"), default=list, help_text=_('[{"given_names": …, "family_name": …}]')
    )
    pdf = models.FileField(_("confirmation (PDF)"), upload_to="landlord-confirmations/%Y/")
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    created_at = models.DateTimeField(_("issued at"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("landlord confirmation")
        verbose_name_plural = _("landlord confirmations")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.code}: {self.address_line}"

    @property
    def address_line(self) -> str:
        street = f"{self.street} {self.house_number}".strip()
        parts = [street, self.address_supplement, f"{self.postal_code} {self.place}"]
        return ", ".join(p for p in parts if p)

    @property
    def person_names(self) -> list[str]:
        return [
            f"{p.get('given_names', '')} {p.get('family_name', '')}".strip() for p in self.persons
        ]
