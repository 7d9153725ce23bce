"""The Bekanntgabe clock for notices retrieved from the Postfach, by the notice's legal basis.

§ 9 Abs. 1 OZG (the default): a notice provided for retrieval is deemed announced on the third
day after it was made available; if the owner retrieves it earlier, the first retrieval counts.
§ 41 Abs. 2 VwVfG (legal basis ``"vwvfg_41"``): deemed announced on the fourth day after it was
sent; an earlier receipt does not bring the day forward. Days are counted on the calendar of
Europe/Berlin, whatever the server's time zone, so a notice provided at 00:30 local time on a
Sunday counts from that Sunday even though it is still Saturday in UTC. The number of days is a
setting per legal basis (``MAILBOX_ANNOUNCEMENT_DAYS``): the 2025 Postrechtsmodernisierungsgesetz
changed the period to four days in § 41 Abs. 2 VwVfG, and a legal basis may follow suit.

The date is fixed when the notice is provided (``Message.announced_on``) and, under § 9 OZG only,
a first retrieval before it moves it, earlier: a later change of the setting applies to notices
provided after it, never to one already delivered (its remedy deadline may be running).

Not supported: § 41 Abs. 2a VwVfG (retrieval outside an OZG account: announced the day after the
retrieval, none at all if not retrieved within ten days of the notification), which fixes no
date at provision; docs/modules/mailbox.md says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from django.conf import settings

DEFAULT_ANNOUNCEMENT_DAYS = 3  # § 9 Abs. 1 Satz 3 OZG: "am dritten Tag nach der Bereitstellung"


class Announceable(Protocol):
    provided_at: datetime
    first_retrieved_at: datetime | None
    legal_basis: str


@dataclass(frozen=True)
class AnnouncementRule:
    """How a notice provided in the Postfach counts as announced, under one legal basis."""

    #: The provision, as the notice page and the e-mail cite it (the same in every language).
    citation: str
    #: Whether a first retrieval before the deemed day is the announcement (§ 9 Abs. 1 OZG).
    earlier_retrieval_counts: bool
    #: The days after provision the law names, where ``MAILBOX_ANNOUNCEMENT_DAYS`` has none for
    #: the key (None: the setting's "default", for § 9 OZG).
    days: int | None = None


#: § 9 Abs. 1 Satz 4 OZG: "am dritten Tag nach der Bereitstellung zum Abruf", or the first
#: retrieval if earlier.
OZG_9 = AnnouncementRule(citation="§ 9 Abs. 1 OZG", earlier_retrieval_counts=True)
#: § 41 Abs. 2 Satz 2 VwVfG: an electronically sent administrative act is deemed announced on
#: the fourth day after it was sent; an earlier receipt does not bring that day forward.
VWVFG_41_2 = AnnouncementRule(citation="§ 41 Abs. 2 VwVfG", earlier_retrieval_counts=False, days=4)

#: Legal-basis keys (``Message.legal_basis``, keys of ``MAILBOX_ANNOUNCEMENT_DAYS``) with a rule
#: of their own; every other key, and none, is announced under § 9 OZG.
RULES = {"vwvfg_41": VWVFG_41_2}


def announcement_rule(legal_basis: str = "") -> AnnouncementRule:
    """The rule by which a notice with this legal basis counts as announced."""
    return RULES.get(legal_basis, OZG_9)


def legal_time_zone() -> ZoneInfo:
    return ZoneInfo(getattr(settings, "MAILBOX_LEGAL_TIME_ZONE", "Europe/Berlin"))


def local_date(moment: datetime) -> date:
    """The calendar date of ``moment`` in the legal time zone (Europe/Berlin)."""
    return moment.astimezone(legal_time_zone()).date()


def announcement_days(legal_basis: str = "") -> int:
    """Days after provision until the notice is deemed announced, for this legal basis."""
    table: dict[str, int] = getattr(settings, "MAILBOX_ANNOUNCEMENT_DAYS", {})
    days = table.get(legal_basis) if legal_basis else None
    if days is None:
        days = announcement_rule(legal_basis).days
    if days is None:
        days = table.get("default", DEFAULT_ANNOUNCEMENT_DAYS)
    return int(days)


def deemed_announcement(*, provided_at: datetime, legal_basis: str = "") -> date:
    """The day a notice provided at ``provided_at`` is deemed announced without retrieval."""
    return local_date(provided_at) + timedelta(days=announcement_days(legal_basis))


def announcement_on(
    *, provided_at: datetime, first_retrieved_at: datetime | None, legal_basis: str = ""
) -> date:
    """The deemed day after provision; under § 9 Abs. 1 OZG the first retrieval if earlier."""
    deemed = deemed_announcement(provided_at=provided_at, legal_basis=legal_basis)
    if first_retrieved_at is None or not announcement_rule(legal_basis).earlier_retrieval_counts:
        return deemed
    return min(deemed, local_date(first_retrieved_at))


def announcement_after_retrieval(
    *,
    announced_on: date | None,
    provided_at: datetime,
    retrieved_at: datetime,
    legal_basis: str = "",
) -> date:
    """The announcement of a notice first retrieved at ``retrieved_at``: the day fixed at
    provision (``announced_on``), or under § 9 Abs. 1 OZG the retrieval's day if that is
    earlier (never under § 41 Abs. 2 VwVfG)."""
    fixed = announced_on or deemed_announcement(provided_at=provided_at, legal_basis=legal_basis)
    if not announcement_rule(legal_basis).earlier_retrieval_counts:
        return fixed
    return min(fixed, local_date(retrieved_at))


def recorded_announcement(
    *,
    announced_on: date | None,
    provided_at: datetime,
    first_retrieved_at: datetime | None,
    legal_basis: str = "",
) -> date:
    """The announcement date stored on a notice, whatever ``MAILBOX_ANNOUNCEMENT_DAYS`` says now.

    Every notice stores one (constraint ``mailbox_legal_effect_has_announcement``); only a row
    without it falls back to the date computed from the current setting.
    """
    if announced_on is not None:
        return announced_on
    return announcement_on(
        provided_at=provided_at, first_retrieved_at=first_retrieved_at, legal_basis=legal_basis
    )
