"""The Bekanntgabe clock of § 9 Abs. 1 OZG for notices retrieved from the Postfach.

A notice provided for retrieval is deemed announced on the third day after it was made available;
if the owner retrieves it earlier, the first retrieval counts. Days are counted on the calendar of
Europe/Berlin, whatever the server's time zone, so a notice provided at 00:30 local time on a
Sunday counts from that Sunday even though it is still Saturday in UTC. The number of days is a
setting per legal basis (``MAILBOX_ANNOUNCEMENT_DAYS``): the 2025 Postrechtsmodernisierungsgesetz
changed the period to four days in § 41 Abs. 2 VwVfG, and a legal basis may follow suit.

The date is fixed when the notice is provided (``Message.announced_on``) and only a first
retrieval before it moves it, earlier: a later change of the setting applies to notices provided
after it, never to one already delivered (its remedy deadline may be running).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from django.conf import settings

DEFAULT_ANNOUNCEMENT_DAYS = 3  # § 9 Abs. 1 Satz 3 OZG: "am dritten Tag nach der Bereitstellung"


class Announceable(Protocol):
    provided_at: datetime
    first_retrieved_at: datetime | None
    legal_basis: str


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
        days = table.get("default", DEFAULT_ANNOUNCEMENT_DAYS)
    return int(days)


def deemed_announcement(*, provided_at: datetime, legal_basis: str = "") -> date:
    """The day a notice provided at ``provided_at`` is deemed announced without retrieval."""
    return local_date(provided_at) + timedelta(days=announcement_days(legal_basis))


def announcement_on(
    *, provided_at: datetime, first_retrieved_at: datetime | None, legal_basis: str = ""
) -> date:
    """§ 9 Abs. 1 OZG: the third day after provision, or the first retrieval if earlier."""
    deemed = deemed_announcement(provided_at=provided_at, legal_basis=legal_basis)
    if first_retrieved_at is None:
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
    provision (``announced_on``), or the retrieval's day if that is earlier (§ 9 Abs. 1 OZG)."""
    fixed = announced_on or deemed_announcement(provided_at=provided_at, legal_basis=legal_basis)
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
