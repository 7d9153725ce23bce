"""Specialist registers that services read or change. Here: elections and their deadlines."""

from __future__ import annotations

import datetime
from zoneinfo import ZoneInfo

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from rathaus.core.models import Municipality

BERLIN = ZoneInfo("Europe/Berlin")


def default_postal_vote_deadline(election_day: datetime.date) -> datetime.datetime:
    """§ 27 Abs. 4 BWahlO: applications until 18:00 on the second day before the election."""
    day = election_day - datetime.timedelta(days=2)
    return datetime.datetime.combine(day, datetime.time(18, 0), tzinfo=BERLIN)


class Election(models.Model):
    """An election in a municipality for which postal votes can be applied for."""

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

    def save(self, *args: object, **kwargs: object) -> None:
        if self.postal_vote_deadline is None:
            self.postal_vote_deadline = default_postal_vote_deadline(self.election_day)
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def accepts_postal_vote_applications(self, at: datetime.datetime | None = None) -> bool:
        at = at or timezone.now()
        opened = self.postal_vote_from is None or at >= self.postal_vote_from
        return opened and at <= self.postal_vote_deadline


def open_elections(
    municipality: Municipality, at: datetime.datetime | None = None
) -> list[Election]:
    at = at or timezone.now()
    candidates = Election.objects.filter(
        municipality=municipality, postal_vote_deadline__gte=at
    ).order_by("election_day")
    return [e for e in candidates if e.accepts_postal_vote_applications(at)]
